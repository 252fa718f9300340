using System.Collections.Concurrent;
using Funnel.Payments;
using Funnel.Subscriptions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Tests.Subscriptions;

/// <summary>A billing provider that records what the engine asks of it.</summary>
internal sealed class RecordingBillingProvider : ISubscriptionBillingProvider
{
    public ConcurrentQueue<ProviderSubscriptionStart> Starts { get; } = new();

    public ConcurrentQueue<ProviderSubscriptionUpdate> Updates { get; } = new();

    public bool Down { get; set; }

    public PaymentResult UpdateResult { get; set; } = new() { Outcome = PaymentOutcome.Succeeded, PaymentId = "in_proration" };

    public Task<ProviderSubscriptionStarted> StartAsync(ProviderSubscriptionStart start, CancellationToken cancellationToken = default)
    {
        if (Down)
        {
            throw new PaymentGatewayException("The provider timed out.") { IsTransient = true };
        }

        Starts.Enqueue(start);
        return Task.FromResult(new ProviderSubscriptionStarted
        {
            ProviderSubscriptionId = "sub_" + Starts.Count,
            FirstPayment = new PaymentResult
            {
                Outcome = PaymentOutcome.Succeeded,
                PaymentId = start.TrialEnd is null ? "in_first" : null,
                Customer = "cus_1",
            },
        });
    }

    public Task<PaymentResult> UpdateAsync(ProviderSubscriptionUpdate update, CancellationToken cancellationToken = default)
    {
        if (Down)
        {
            throw new PaymentGatewayException("The provider timed out.") { IsTransient = true };
        }

        Updates.Enqueue(update);
        return Task.FromResult(UpdateResult);
    }
}

public sealed class SubscriptionBillingProviderTests
{
    private static (SubscriptionTestKit Kit, RecordingBillingProvider Billing, SubscriptionService Service) Create()
    {
        var kit = new SubscriptionTestKit();
        var billing = new RecordingBillingProvider();
        var service = new SubscriptionService(kit.Prices, kit.Store, kit.Gateway, kit.Grantor, kit.Dunning, DateTimeZoneProviders.Tzdb,
            kit.Clock, kit.Log, Options.Create(new SubscriptionOptions()), billing);
        return (kit, billing, service);
    }

    private static Task<SubscriptionResult> StartAsync(SubscriptionService service, OfferId offer, string? card = "pm_card_visa") =>
        service.StartAsync(new SubscriptionRequest { Lead = SubscriptionTestKit.Lead(1), Offer = offer, BuyerZone = DateTimeZone.Utc, PaymentMethod = card });

    [Fact]
    public async Task StartAsync_TrialWithProvider_CreatesItAtTheProviderAndTheJobNeverCharges()
    {
        (SubscriptionTestKit kit, RecordingBillingProvider billing, SubscriptionService service) = Create();

        SubscriptionResult started = await StartAsync(service, SubscriptionTestKit.Monthly);

        started.Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        Subscription s = started.Subscription!;
        s.Status.ShouldBe(SubscriptionStatus.Trialing);
        s.ProviderSubscriptionId.ShouldBe("sub_1");
        ProviderSubscriptionStart sent = billing.Starts.ShouldHaveSingleItem();
        sent.Subscription.ShouldBe(s.Id);
        sent.Price.ShouldBe(SubscriptionTestKit.Usd(30));
        sent.Interval.ShouldBe(BillingInterval.Month);
        sent.TrialEnd.ShouldBe(s.TrialEndsAt);
        sent.PaymentMethod.ShouldBe("pm_card_visa");
        sent.IdempotencyKey.ShouldBe(SubscriptionKeys.ForStart(s.Id));

        kit.Clock.Reset(s.CurrentPeriodEnd + Duration.FromDays(40));
        await service.ProcessDueAsync();

        kit.Gateway.Charges.ShouldBeEmpty();
        (await kit.GetAsync(s.Id)).Status.ShouldBe(SubscriptionStatus.Trialing, "the provider reports the conversion");
        SubscriptionResult converted = await service.ApplyProviderPaymentAsync(s.Id, new ProviderPayment
        {
            PaymentId = "in_2", Succeeded = true, Amount = SubscriptionTestKit.Usd(30), OccurredAt = s.CurrentPeriodEnd,
        });
        converted.Events.ShouldHaveSingleItem().ShouldBeOfType<SubscriptionTrialConverted>();
    }

    [Fact]
    public async Task StartAsync_PaidStartWithProvider_RecordsTheProvidersFirstPaymentWithoutTheGateway()
    {
        (SubscriptionTestKit kit, RecordingBillingProvider _, SubscriptionService service) = Create();

        Subscription s = (await StartAsync(service, SubscriptionTestKit.Pro)).Subscription!;

        s.Status.ShouldBe(SubscriptionStatus.Active);
        s.PeriodsPaid.ShouldBe(1);
        s.AppliedPayments.ShouldBe(["in_first"]);
        s.Customer.ShouldBe("cus_1");
        kit.Gateway.Charges.ShouldBeEmpty();
    }

    [Fact]
    public async Task StartAsync_ProviderDown_ThrowsAndStoresNothing()
    {
        (SubscriptionTestKit kit, RecordingBillingProvider billing, SubscriptionService service) = Create();
        billing.Down = true;

        await Should.ThrowAsync<PaymentGatewayException>(() => StartAsync(service, SubscriptionTestKit.Pro));

        (await kit.Store.ListByLeadAsync(SubscriptionTestKit.Lead(1))).ShouldBeEmpty();
        kit.Log.Snapshot().ShouldBeEmpty();
    }

    [Fact]
    public async Task CancelPauseResumeChangePlan_WithProvider_PassEachChangeOnBeforeRecordingIt()
    {
        (SubscriptionTestKit kit, RecordingBillingProvider billing, SubscriptionService service) = Create();
        Subscription s = (await StartAsync(service, SubscriptionTestKit.Pro)).Subscription!;

        (await service.CancelAsync(s.Id, atPeriodEnd: true)).Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        (await service.WithdrawCancelAsync(s.Id)).Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        SubscriptionResult changed = await service.ChangePlanAsync(s.Id, SubscriptionTestKit.Monthly);
        (await service.PauseAsync(s.Id)).Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        (await service.ResumeAsync(s.Id)).Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        (await service.CancelAsync(s.Id, atPeriodEnd: false)).Outcome.ShouldBe(SubscriptionOutcome.Succeeded);

        billing.Updates.Select(u => u.Change).ShouldBe(
        [
            ProviderSubscriptionChange.CancelAtPeriodEnd, ProviderSubscriptionChange.WithdrawCancel, ProviderSubscriptionChange.ChangePlan,
            ProviderSubscriptionChange.Pause, ProviderSubscriptionChange.Resume, ProviderSubscriptionChange.CancelNow,
        ]);
        billing.Updates.ShouldAllBe(u => u.ProviderSubscriptionId == "sub_1" && u.Subscription == s.Id);
        billing.Updates.Select(u => u.IdempotencyKey).Distinct().Count().ShouldBe(6);
        ProviderSubscriptionUpdate plan = billing.Updates.Single(u => u.Change == ProviderSubscriptionChange.ChangePlan);
        plan.Offer.ShouldBe(SubscriptionTestKit.Monthly);
        plan.Price.ShouldBe(SubscriptionTestKit.Usd(30));
        changed.Events.OfType<SubscriptionPlanChanged>().ShouldHaveSingleItem().PaymentId.ShouldBe("in_proration");
        kit.Gateway.Charges.ShouldBeEmpty();
        (await kit.GetAsync(s.Id)).Status.ShouldBe(SubscriptionStatus.Ended);
    }

    [Fact]
    public async Task CancelAsync_ProviderDown_ThrowsAndChangesNothing()
    {
        (SubscriptionTestKit kit, RecordingBillingProvider billing, SubscriptionService service) = Create();
        Subscription s = (await StartAsync(service, SubscriptionTestKit.Pro)).Subscription!;
        billing.Down = true;

        await Should.ThrowAsync<PaymentGatewayException>(() => service.CancelAsync(s.Id, atPeriodEnd: false));

        (await kit.GetAsync(s.Id)).ShouldBe(s);
    }

    [Fact]
    public async Task ChangePlanAsync_ProviderDeclinesTheProration_ChangesNothing()
    {
        (SubscriptionTestKit kit, RecordingBillingProvider billing, SubscriptionService service) = Create();
        Subscription s = (await StartAsync(service, SubscriptionTestKit.Monthly, card: "pm_card_visa")).Subscription!;
        await service.ApplyProviderPaymentAsync(s.Id, new ProviderPayment
        {
            PaymentId = "in_2", Succeeded = true, Amount = SubscriptionTestKit.Usd(30), OccurredAt = s.CurrentPeriodEnd,
        });
        Subscription active = await kit.GetAsync(s.Id);
        billing.UpdateResult = new PaymentResult { Outcome = PaymentOutcome.Declined, DeclineCode = "card_declined" };

        SubscriptionResult changed = await service.ChangePlanAsync(s.Id, SubscriptionTestKit.Pro);

        changed.Outcome.ShouldBe(SubscriptionOutcome.Declined);
        (await kit.GetAsync(s.Id)).ShouldBe(active);
    }

    [Fact]
    public async Task EndByProviderAsync_PastDueThenReplayed_EndsOnceAsPaymentFailed()
    {
        (SubscriptionTestKit kit, RecordingBillingProvider _, SubscriptionService service) = Create();
        Subscription s = (await StartAsync(service, SubscriptionTestKit.Pro)).Subscription!;
        await service.ApplyProviderPaymentAsync(s.Id, new ProviderPayment
        {
            PaymentId = "in_2", Succeeded = false, Amount = SubscriptionTestKit.Usd(90), OccurredAt = s.CurrentPeriodEnd, Attempt = 2,
            NextAttemptAt = s.CurrentPeriodEnd + Duration.FromDays(3),
        });
        SubscriptionResult late = await service.ApplyProviderPaymentAsync(s.Id, new ProviderPayment
        {
            PaymentId = "in_2", Succeeded = false, Amount = SubscriptionTestKit.Usd(90), OccurredAt = s.CurrentPeriodEnd, Attempt = 1,
            NextAttemptAt = s.CurrentPeriodEnd + Duration.FromDays(1),
        });
        late.Events.ShouldBeEmpty("attempt 1 arrived after attempt 2");

        SubscriptionResult ended = await service.EndByProviderAsync(s.Id, s.CurrentPeriodEnd + Duration.FromDays(7));
        SubscriptionResult replayed = await service.EndByProviderAsync(s.Id, s.CurrentPeriodEnd + Duration.FromDays(7));

        ended.Events.OfType<SubscriptionEnded>().ShouldHaveSingleItem().Reason.ShouldBe(SubscriptionEndReason.PaymentFailed);
        replayed.Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        replayed.Events.ShouldBeEmpty();
        (await kit.GetAsync(s.Id)).HasAccess.ShouldBeFalse();
    }
}
