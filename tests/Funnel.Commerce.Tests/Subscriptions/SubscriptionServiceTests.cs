using Funnel.Payments;
using Funnel.Subscriptions;
using NodaTime;
using static Funnel.Tests.Subscriptions.SubscriptionTestKit;
using E = Funnel.Subscriptions.SubscriptionEventTypes;

namespace Funnel.Tests.Subscriptions;

public class SubscriptionServiceTests
{
    private static readonly Instant Feb28 = Instant.FromUtc(2026, 2, 28, 9, 0);

    [Fact]
    public async Task StartAsync_PaidPlan_ChargesTheFirstPeriodAndGrantsAccessOnce()
    {
        var kit = new SubscriptionTestKit();

        Subscription s = await kit.StartAsync(Pro);

        s.Status.ShouldBe(SubscriptionStatus.Active);
        s.CurrentPeriodStart.ShouldBe(T0);
        s.CurrentPeriodEnd.ShouldBe(Feb28);
        s.PaymentMethod.ShouldNotBeNull().ShouldStartWith("pm_");
        s.AccessGrantedFor.ShouldBe(Pro);
        kit.Grantor.Granted.Select(g => g.Product).ShouldBe(["community", "course-library"]);
        kit.Grantor.Granted.ShouldAllBe(g => g.Order.Value == s.Id.Value);
        var started = kit.EventsOf(s.Id).ShouldHaveSingleItem().ShouldBeOfType<SubscriptionStarted>();
        started.AmountPaid.ShouldBe(Usd(90));
        started.MonthlyAmount.ShouldBe(Usd(90));
        started.TrialEndsAt.ShouldBeNull();
        started.PeriodEnd.ShouldBe(Feb28);
    }

    [Fact]
    public async Task StartAsync_DeclinedCard_StoresNothing()
    {
        var kit = new SubscriptionTestKit();

        SubscriptionResult result = await kit.Service.StartAsync(new SubscriptionRequest
        {
            Lead = Lead(1), Offer = Pro, BuyerZone = DateTimeZone.Utc, PaymentMethod = InMemoryPaymentGateway.DecliningCard,
        });

        result.Outcome.ShouldBe(SubscriptionOutcome.Declined);
        result.DeclineCode.ShouldBe("card_declined");
        (await kit.Store.ListByLeadAsync(Lead(1))).ShouldBeEmpty();
        kit.Log.Snapshot().ShouldBeEmpty();
        kit.Grantor.Granted.ShouldBeEmpty();
    }

    [Fact]
    public async Task StartAsync_SameIdTwice_ChargesOnceAndRecordsOneStart()
    {
        var kit = new SubscriptionTestKit();
        var request = new SubscriptionRequest
        {
            Lead = Lead(1), Offer = Pro, BuyerZone = DateTimeZone.Utc, PaymentMethod = InMemoryPaymentGateway.SucceedingCard,
        };

        SubscriptionResult first = await kit.Service.StartAsync(request);
        SubscriptionResult again = await kit.Service.StartAsync(request);

        again.Subscription!.Id.ShouldBe(first.Subscription!.Id);
        again.Events.ShouldBeEmpty();
        kit.CollectedPaymentsOf(first.Subscription.Id).Count.ShouldBe(1);
        kit.TypesOf(first.Subscription.Id).ShouldBe([E.SubscriptionStarted]);
    }

    [Fact]
    public async Task StartAsync_LeadAlreadySubscribed_IsRejected()
    {
        var kit = new SubscriptionTestKit();
        await kit.StartAsync(Pro);

        SubscriptionResult second = await kit.Service.StartAsync(new SubscriptionRequest
        {
            Lead = Lead(1), Offer = Pro, BuyerZone = DateTimeZone.Utc, PaymentMethod = InMemoryPaymentGateway.SucceedingCard,
        });

        second.Outcome.ShouldBe(SubscriptionOutcome.Rejected);
        second.Reason.ShouldNotBeNull().ShouldContain("already subscribes");
    }

    [Fact]
    public async Task StartAsync_NotRecurringOrTrialWithoutRequiredCard_IsRefused()
    {
        var kit = new SubscriptionTestKit();

        await Should.ThrowAsync<ArgumentException>(() => kit.Service.StartAsync(new SubscriptionRequest
        {
            Lead = Lead(1), Offer = "no-such-offer", BuyerZone = DateTimeZone.Utc,
        }));
        SubscriptionResult noCard = await kit.Service.StartAsync(new SubscriptionRequest { Lead = Lead(1), Offer = Monthly, BuyerZone = DateTimeZone.Utc });

        noCard.Outcome.ShouldBe(SubscriptionOutcome.Rejected);
        noCard.Reason.ShouldNotBeNull().ShouldContain("TrialRequiresCard");
    }

    [Fact]
    public async Task ProcessDueAsync_TrialWithCard_ConvertsAtTrialEnd()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Monthly, card: await kit.SaveCardAsync());
        Instant trialEnd = Instant.FromUtc(2026, 2, 14, 9, 0);
        s.Status.ShouldBe(SubscriptionStatus.Trialing);
        s.TrialEndsAt.ShouldBe(trialEnd);

        (await kit.RunAtAsync(s.Id, trialEnd - Duration.FromSeconds(1))).Status.ShouldBe(SubscriptionStatus.Trialing);
        Subscription converted = await kit.RunAtAsync(s.Id, trialEnd);

        converted.Status.ShouldBe(SubscriptionStatus.Active);
        converted.PeriodsPaid.ShouldBe(1);
        converted.CurrentPeriodStart.ShouldBe(trialEnd);
        converted.CurrentPeriodEnd.ShouldBe(Instant.FromUtc(2026, 3, 14, 9, 0));
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionTrialConverted]);
        var started = (SubscriptionStarted)kit.EventsOf(s.Id)[0];
        started.AmountPaid.ShouldBe(Usd(0));
        started.PeriodEnd.ShouldBe(trialEnd);
        var conversion = (SubscriptionTrialConverted)kit.EventsOf(s.Id)[1];
        conversion.Amount.ShouldBe(Usd(30));
        conversion.MonthlyAmount.ShouldBe(Usd(30));
        conversion.PeriodEnd.ShouldBe(converted.CurrentPeriodEnd);
        kit.Grantor.Granted.Count.ShouldBe(1);
        kit.Grantor.Revoked.ShouldBeEmpty();
    }

    [Fact]
    public async Task ProcessDueAsync_TrialWithoutCard_LapsesAndRevokes()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(OpenTrial, card: null);

        Subscription lapsed = await kit.RunAtAsync(s.Id, Instant.FromUtc(2026, 2, 7, 9, 0));

        lapsed.Status.ShouldBe(SubscriptionStatus.Ended);
        lapsed.EndReason.ShouldBe(SubscriptionEndReason.TrialLapsed);
        lapsed.AccessGrantedFor.ShouldBeNull();
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionEnded]);
        ((SubscriptionEnded)kit.EventsOf(s.Id)[1]).Reason.ShouldBe(SubscriptionEndReason.TrialLapsed);
        kit.Grantor.Revoked.ShouldHaveSingleItem().Product.ShouldBe("community");
        kit.Gateway.Charges.ShouldBeEmpty();
    }

    [Fact]
    public async Task AttachPaymentMethodAsync_CardlessTrial_ConvertsAtTrialEnd()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(OpenTrial, card: null);
        (await kit.Service.AttachPaymentMethodAsync(s.Id, await kit.SaveCardAsync())).Events.ShouldBeEmpty();

        Subscription converted = await kit.RunAtAsync(s.Id, Instant.FromUtc(2026, 2, 7, 9, 0));

        converted.Status.ShouldBe(SubscriptionStatus.Active);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionTrialConverted]);
    }

    [Fact]
    public async Task ProcessDueAsync_ConversionDeclined_DunsWithAccessThenEndsAsLapsedTrial()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Monthly, card: await kit.SaveCardAsync(InMemoryPaymentGateway.InsufficientFundsCard));
        Instant trialEnd = s.CurrentPeriodEnd;

        Subscription pastDue = await kit.RunAtAsync(s.Id, trialEnd);
        pastDue.Status.ShouldBe(SubscriptionStatus.PastDue);
        pastDue.NextAttemptAt.ShouldBe(trialEnd + Duration.FromDays(3));
        pastDue.AccessGrantedFor.ShouldBe(Monthly);
        kit.Grantor.Revoked.ShouldBeEmpty();
        Instant at = trialEnd;
        foreach (int days in new[] { 3, 5, 7 })
        {
            at += Duration.FromDays(days);
            pastDue = await kit.RunAtAsync(s.Id, at);
        }

        pastDue.Status.ShouldBe(SubscriptionStatus.Ended);
        pastDue.EndReason.ShouldBe(SubscriptionEndReason.TrialLapsed);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionPaymentFailed, E.SubscriptionPaymentFailed,
            E.SubscriptionPaymentFailed, E.SubscriptionPaymentFailed, E.SubscriptionEnded]);
        SubscriptionPaymentFailed[] failures = [.. kit.EventsOf(s.Id).OfType<SubscriptionPaymentFailed>()];
        failures.Select(f => f.Attempt).ShouldBe([1, 2, 3, 4]);
        failures.Select(f => f.Reason).ShouldAllBe(r => r == "insufficient_funds");
        failures.Select(f => f.NextAttemptAt).ShouldBe([trialEnd + Duration.FromDays(3), trialEnd + Duration.FromDays(8),
            trialEnd + Duration.FromDays(15), null]);
        failures.ShouldAllBe(f => f.Amount == Usd(30));
        kit.Gateway.Charges.Select(c => c.Request.IdempotencyKey).Distinct().Count().ShouldBe(4);
        kit.Grantor.Revoked.ShouldHaveSingleItem();
    }

    [Fact]
    public async Task ProcessDueAsync_RenewalDeclinedThenCardReplaced_RenewsOnTheRetryWithAccessKept()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Pro);
        kit.Provider.ReplaceCard(s.PaymentMethod!, InMemoryPaymentGateway.DecliningCard);

        (await kit.RunAtAsync(s.Id, Feb28)).Status.ShouldBe(SubscriptionStatus.PastDue);
        kit.Provider.ReplaceCard(s.PaymentMethod!, InMemoryPaymentGateway.SucceedingCard);
        Subscription renewed = await kit.RunAtAsync(s.Id, Feb28 + Duration.FromDays(3));

        renewed.Status.ShouldBe(SubscriptionStatus.Active);
        renewed.CurrentPeriodStart.ShouldBe(Feb28);
        renewed.CurrentPeriodEnd.ShouldBe(Instant.FromUtc(2026, 3, 31, 9, 0));
        renewed.FailedAttempts.ShouldBe(0);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionPaymentFailed, E.SubscriptionRenewed]);
        kit.Grantor.Revoked.ShouldBeEmpty();
    }

    [Fact]
    public async Task ProcessDueAsync_RenewalNeverCollected_EndsWithPaymentFailed()
    {
        var kit = new SubscriptionTestKit(dunning: new DunningPolicy { RetryAfter = [Duration.FromDays(2)] });
        Subscription s = await kit.StartAsync(Pro);
        kit.Provider.ReplaceCard(s.PaymentMethod!, InMemoryPaymentGateway.DecliningCard);

        await kit.RunAtAsync(s.Id, Feb28);
        Subscription ended = await kit.RunAtAsync(s.Id, Feb28 + Duration.FromDays(2));

        ended.Status.ShouldBe(SubscriptionStatus.Ended);
        ended.EndReason.ShouldBe(SubscriptionEndReason.PaymentFailed);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionPaymentFailed, E.SubscriptionPaymentFailed, E.SubscriptionEnded]);
        var end = (SubscriptionEnded)kit.EventsOf(s.Id)[^1];
        end.Reason.ShouldBe(SubscriptionEndReason.PaymentFailed);
        end.MonthlyAmount.ShouldBe(Usd(90));
        kit.Grantor.Revoked.Select(r => r.Product).ShouldBe(["community", "course-library"]);
    }

    [Fact]
    public async Task ChangePlanAsync_UpgradeMidPeriod_ChargesTheProratedDifferenceAtOnce()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Monthly, card: await kit.SaveCardAsync());
        s = await kit.RunAtAsync(s.Id, s.CurrentPeriodEnd);   // converted Feb 14, period to Mar 14 (28 days)
        kit.Clock.Reset(Instant.FromUtc(2026, 2, 21, 9, 0)); // 7 days in: 21 of 28 days left

        SubscriptionResult result = await kit.Service.ChangePlanAsync(s.Id, Pro);

        result.Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        var change = result.Events.ShouldHaveSingleItem().ShouldBeOfType<SubscriptionPlanChanged>();
        change.Proration.ShouldBe(Usd(45));                  // 90 × 3/4 − 30 × 3/4 = 67.50 − 22.50
        change.FromMonthlyAmount.ShouldBe(Usd(30));
        change.ToMonthlyAmount.ShouldBe(Usd(90));
        change.PaymentId.ShouldNotBeNull();
        kit.Gateway.Charges.Last().Request.Amount.ShouldBe(Usd(45));
        Subscription upgraded = result.Subscription!;
        upgraded.Offer.ShouldBe(Pro);
        upgraded.Price.ShouldBe(Usd(90));
        upgraded.CurrentPeriodEnd.ShouldBe(s.CurrentPeriodEnd);
        upgraded.Credit.ShouldBe(Usd(0));
        upgraded.AccessGrantedFor.ShouldBe(Pro);
        kit.Grantor.Granted.Select(g => g.Product).ShouldContain("course-library");
        kit.Grantor.Revoked.ShouldBeEmpty();
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionTrialConverted, E.SubscriptionPlanChanged]);
    }

    [Fact]
    public async Task ChangePlanAsync_Downgrade_KeepsACreditThatTheNextRenewalConsumes()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Pro);          // Jan 31 – Feb 28: 28 days
        kit.Clock.Reset(T0 + Duration.FromDays(21));         // 7 of 28 days left

        SubscriptionResult result = await kit.Service.ChangePlanAsync(s.Id, Monthly);

        var change = result.Events.ShouldHaveSingleItem().ShouldBeOfType<SubscriptionPlanChanged>();
        change.Proration.ShouldBe(Usd(-15));                 // 30 × 1/4 − 90 × 1/4 = 7.50 − 22.50
        change.PaymentId.ShouldBeNull();
        result.Subscription!.Credit.ShouldBe(Usd(15));
        kit.Grantor.Revoked.ShouldHaveSingleItem().Product.ShouldBe("course-library");

        Subscription renewed = await kit.RunAtAsync(s.Id, Feb28);

        renewed.Credit.ShouldBe(Usd(0));
        var renewal = kit.EventsOf(s.Id).OfType<SubscriptionRenewed>().ShouldHaveSingleItem();
        renewal.Amount.ShouldBe(Usd(15));
        kit.Gateway.Charges.Last().Request.Amount.ShouldBe(Usd(15));
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionPlanChanged, E.SubscriptionRenewed]);
    }

    [Fact]
    public async Task ChangePlanAsync_MonthlyToYearly_CreditsTheUnusedDaysAndStartsAYearNow()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Pro);          // Jan 31 – Feb 28: 28 days at $90
        Instant at = T0 + Duration.FromDays(21);             // Feb 21: 7 of 28 days left
        kit.Clock.Reset(at);

        SubscriptionResult result = await kit.Service.ChangePlanAsync(s.Id, Yearly);

        result.Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        var change = result.Events.ShouldHaveSingleItem().ShouldBeOfType<SubscriptionPlanChanged>();
        change.Proration.ShouldBe(Usd(277.50m));             // $300 − $90 × 7/28
        change.PeriodEnd.ShouldBe(Instant.FromUtc(2027, 2, 21, 9, 0));
        change.Interval.ShouldBe(BillingInterval.Year);
        change.ToMonthlyAmount.ShouldBe(Usd(25));
        kit.Gateway.Charges.Last().Request.Amount.ShouldBe(Usd(277.50m));
        Subscription yearly = result.Subscription!;
        (yearly.Offer, yearly.Interval, yearly.Price, yearly.Credit).ShouldBe((Yearly, BillingInterval.Year, Usd(300), Usd(0)));
        (yearly.CurrentPeriodStart, yearly.CurrentPeriodEnd).ShouldBe((at, Instant.FromUtc(2027, 2, 21, 9, 0)));

        Subscription renewed = await kit.RunAtAsync(s.Id, yearly.CurrentPeriodEnd);

        renewed.CurrentPeriodEnd.ShouldBe(Instant.FromUtc(2028, 2, 21, 9, 0));
        kit.EventsOf(s.Id).OfType<SubscriptionRenewed>().ShouldHaveSingleItem().Amount.ShouldBe(Usd(300));
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionPlanChanged, E.SubscriptionRenewed]);
    }

    [Fact]
    public async Task ChangePlanAsync_YearlyToMonthly_KeepsTheCreditBeyondTheFirstMonthForTheRenewals()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Yearly);       // $300 for Jan 31, 2026 – Jan 31, 2027 (365 days)
        kit.Clock.Reset(T0 + Duration.FromDays(73));         // 292 of 365 days left: $240 unused

        SubscriptionResult result = await kit.Service.ChangePlanAsync(s.Id, Pro);

        var change = result.Events.ShouldHaveSingleItem().ShouldBeOfType<SubscriptionPlanChanged>();
        change.Proration.ShouldBe(Usd(-150));                // $90 − $240
        change.PaymentId.ShouldBeNull();
        result.Subscription!.Credit.ShouldBe(Usd(150));
        kit.Gateway.Charges.Count.ShouldBe(1);               // the yearly start only

        Subscription renewed = await kit.RunAtAsync(s.Id, result.Subscription.CurrentPeriodEnd);

        renewed.Credit.ShouldBe(Usd(60));
        kit.EventsOf(s.Id).OfType<SubscriptionRenewed>().ShouldHaveSingleItem().Amount.ShouldBe(Usd(0));
    }

    [Fact]
    public async Task ChangePlanAsync_ToAnotherIntervalDeclined_ChangesNothing()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Pro, card: await kit.SaveCardAsync());
        kit.Provider.ReplaceCard(s.PaymentMethod!, InMemoryPaymentGateway.DecliningCard);
        kit.Clock.Reset(T0 + Duration.FromDays(14));

        SubscriptionResult result = await kit.Service.ChangePlanAsync(s.Id, Yearly);

        result.Outcome.ShouldBe(SubscriptionOutcome.Declined);
        (await kit.GetAsync(s.Id)).ShouldSatisfyAllConditions(x => x.Version.ShouldBe(s.Version), x => x.Interval.ShouldBe(BillingInterval.Month));
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted]);
    }

    [Fact]
    public async Task ChangePlanAsync_DuringTrial_IsRejected()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Monthly, card: await kit.SaveCardAsync());

        SubscriptionResult result = await kit.Service.ChangePlanAsync(s.Id, Pro);

        result.Outcome.ShouldBe(SubscriptionOutcome.Rejected);
        result.Subscription!.Offer.ShouldBe(Monthly);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted]);
    }

    [Fact]
    public async Task CancelAsync_AtPeriodEnd_KeepsAccessUntilTheEndThenEnds()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Pro);
        kit.Clock.Reset(T0 + Duration.FromDays(3));

        SubscriptionResult scheduled = await kit.Service.CancelAsync(s.Id, atPeriodEnd: true);

        scheduled.Subscription!.CancelAtPeriodEnd.ShouldBeTrue();
        scheduled.Events.ShouldHaveSingleItem().ShouldBeOfType<SubscriptionCancelScheduled>().EndsAt.ShouldBe(Feb28);
        (await kit.RunAtAsync(s.Id, Feb28 - Duration.FromSeconds(1))).Status.ShouldBe(SubscriptionStatus.Active);
        kit.Grantor.Revoked.ShouldBeEmpty();
        Subscription ended = await kit.RunAtAsync(s.Id, Feb28 + Duration.FromHours(1));
        ended.Status.ShouldBe(SubscriptionStatus.Ended);
        ended.EndedAt.ShouldBe(Feb28);
        ended.EndReason.ShouldBe(SubscriptionEndReason.CanceledAtPeriodEnd);
        kit.Grantor.Revoked.Count.ShouldBe(2);
        kit.CollectedPaymentsOf(s.Id).Count.ShouldBe(1);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionCancelScheduled, E.SubscriptionEnded]);
    }

    [Fact]
    public async Task WithdrawCancelAsync_ScheduledCancel_RenewsAsBefore()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Pro);
        await kit.Service.CancelAsync(s.Id, atPeriodEnd: true);

        SubscriptionResult withdrawn = await kit.Service.WithdrawCancelAsync(s.Id);
        Subscription renewed = await kit.RunAtAsync(s.Id, Feb28);

        withdrawn.Subscription!.CancelAtPeriodEnd.ShouldBeFalse();
        (await kit.Service.WithdrawCancelAsync(s.Id)).Outcome.ShouldBe(SubscriptionOutcome.Rejected);
        renewed.Status.ShouldBe(SubscriptionStatus.Active);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionCancelScheduled, E.SubscriptionCancelWithdrawn, E.SubscriptionRenewed]);
    }

    [Fact]
    public async Task CancelAsync_Now_EndsAndRevokesAtOnce()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Pro);
        kit.Clock.Reset(T0 + Duration.FromDays(3));

        SubscriptionResult result = await kit.Service.CancelAsync(s.Id, atPeriodEnd: false);

        result.Subscription!.Status.ShouldBe(SubscriptionStatus.Ended);
        result.Subscription.EndedAt.ShouldBe(T0 + Duration.FromDays(3));
        result.Subscription.AccessGrantedFor.ShouldBeNull();
        kit.Grantor.Revoked.Count.ShouldBe(2);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionEnded]);
        ((SubscriptionEnded)kit.EventsOf(s.Id)[1]).Reason.ShouldBe(SubscriptionEndReason.Canceled);
        (await kit.Service.CancelAsync(s.Id, atPeriodEnd: false)).Outcome.ShouldBe(SubscriptionOutcome.Rejected);
        (await kit.Service.ProcessDueAsync()).ShouldBe(0);
    }

    [Fact]
    public async Task PauseAsync_ThenResume_CreditsTheUnusedPartAndChargesTheNewPeriodAfterIt()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Monthly, card: await kit.SaveCardAsync());
        s = await kit.RunAtAsync(s.Id, s.CurrentPeriodEnd);  // Feb 14 – Mar 14, 28 days, $30
        kit.Clock.Reset(Instant.FromUtc(2026, 2, 21, 9, 0)); // 21 of 28 days left: $22.50 unused

        SubscriptionResult paused = await kit.Service.PauseAsync(s.Id);

        paused.Subscription!.Status.ShouldBe(SubscriptionStatus.Paused);
        paused.Subscription.Credit.ShouldBe(Usd(22.50m));
        paused.Subscription.AccessGrantedFor.ShouldBeNull();
        kit.Grantor.Revoked.ShouldHaveSingleItem();
        (await kit.RunAtAsync(s.Id, Instant.FromUtc(2026, 4, 1, 9, 0))).Status.ShouldBe(SubscriptionStatus.Paused);

        SubscriptionResult resumed = await kit.Service.ResumeAsync(s.Id);

        Subscription r = resumed.Subscription!;
        r.Status.ShouldBe(SubscriptionStatus.Active);
        r.CurrentPeriodStart.ShouldBe(Instant.FromUtc(2026, 4, 1, 9, 0));
        r.CurrentPeriodEnd.ShouldBe(Instant.FromUtc(2026, 5, 1, 9, 0));
        r.Credit.ShouldBe(Usd(0));
        r.AccessGrantedFor.ShouldBe(Monthly);
        kit.Gateway.Charges.Last().Request.Amount.ShouldBe(Usd(7.50m));
        resumed.Events.Select(e => e.EventType).ShouldBe([E.SubscriptionResumed, E.SubscriptionRenewed]);
        ((SubscriptionResumed)resumed.Events[0]).PeriodEnd.ShouldBe(r.CurrentPeriodEnd);
        ((SubscriptionRenewed)resumed.Events[1]).Amount.ShouldBe(Usd(7.50m));
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionTrialConverted, E.SubscriptionPaused,
            E.SubscriptionResumed, E.SubscriptionRenewed]);
        kit.Grantor.Granted.Count.ShouldBe(2);
    }

    [Fact]
    public async Task ProcessDueAsync_PauseUntilADate_ResumesThenAndChargesAFullPeriod()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Pro);
        Instant until = Instant.FromUtc(2026, 3, 10, 9, 0);
        kit.Clock.Reset(Feb28 - Duration.FromSeconds(1));  // nothing left to credit worth a cent
        SubscriptionResult paused = await kit.Service.PauseAsync(s.Id, until);
        paused.Events.ShouldHaveSingleItem().ShouldBeOfType<SubscriptionPaused>().ResumesAt.ShouldBe(until);

        Subscription resumed = await kit.RunAtAsync(s.Id, until + Duration.FromMinutes(1));

        resumed.Status.ShouldBe(SubscriptionStatus.Active);
        resumed.CurrentPeriodStart.ShouldBe(until);
        resumed.CurrentPeriodEnd.ShouldBe(Instant.FromUtc(2026, 4, 10, 9, 0));
        kit.Gateway.Charges.Last().Request.Amount.ShouldBe(Usd(90));
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionPaused, E.SubscriptionResumed, E.SubscriptionRenewed]);
    }

    [Fact]
    public async Task PauseAsync_TrialOrPastUntil_IsRejected()
    {
        var kit = new SubscriptionTestKit();
        Subscription trial = await kit.StartAsync(Monthly, card: await kit.SaveCardAsync());
        Subscription paid = await kit.StartAsync(Pro, lead: 2);

        (await kit.Service.PauseAsync(trial.Id)).Outcome.ShouldBe(SubscriptionOutcome.Rejected);
        (await kit.Service.PauseAsync(paid.Id, T0)).Outcome.ShouldBe(SubscriptionOutcome.Rejected);
        (await kit.Service.ResumeAsync(paid.Id)).Outcome.ShouldBe(SubscriptionOutcome.Rejected);
    }

    [Fact]
    public async Task ProcessDueAsync_MonthlyAnchoredOnJan31_FollowsTheMonthEnds()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Pro);
        var ends = new List<Instant> { s.CurrentPeriodEnd };

        for (int i = 0; i < 3; i++)
        {
            s = await kit.RunAtAsync(s.Id, s.CurrentPeriodEnd);
            ends.Add(s.CurrentPeriodEnd);
        }

        ends.ShouldBe([Instant.FromUtc(2026, 2, 28, 9, 0), Instant.FromUtc(2026, 3, 31, 9, 0), Instant.FromUtc(2026, 4, 30, 9, 0),
            Instant.FromUtc(2026, 5, 31, 9, 0)]);
        kit.EventsOf(s.Id).OfType<SubscriptionRenewed>().Select(r => r.PeriodStart).ShouldBe(ends.Take(3));
    }

    [Fact]
    public async Task ProcessDueAsync_BerlinAcrossTheSpringGap_KeepsTheLocalTimeAndShiftsOnlyTheSkippedOne()
    {
        // 02:30 on Jan 29 in Berlin; Mar 29 2026 02:30 does not exist there (clocks jump from 02:00 to 03:00).
        Instant start = new LocalDateTime(2026, 1, 29, 2, 30).InZoneStrictly(Berlin).ToInstant();
        var kit = new SubscriptionTestKit(start);
        Subscription s = await kit.StartAsync(Pro, zone: Berlin);
        var ends = new List<LocalDateTime> { s.CurrentPeriodEnd.InZone(Berlin).LocalDateTime };

        for (int i = 0; i < 2; i++)
        {
            s = await kit.RunAtAsync(s.Id, s.CurrentPeriodEnd);
            ends.Add(s.CurrentPeriodEnd.InZone(Berlin).LocalDateTime);
        }

        ends.ShouldBe([new LocalDateTime(2026, 2, 28, 2, 30), new LocalDateTime(2026, 3, 29, 3, 30), new LocalDateTime(2026, 4, 29, 2, 30)]);
        s.TimeZoneId.ShouldBe("Europe/Berlin");
    }

    [Fact]
    public async Task ProcessDueAsync_RunTwiceAndOnTwoInstancesAtOnce_ChargesEachPeriodOnce()
    {
        var kit = new SubscriptionTestKit();
        SubscriptionId[] ids = [.. await Task.WhenAll(Enumerable.Range(1, 5).Select(async n => (await kit.StartAsync(Pro, lead: n)).Id))];
        kit.Gateway.Remote = true;
        kit.Clock.Reset(Feb28);
        SubscriptionService other = kit.NewInstance();

        await Task.WhenAll(kit.Service.ProcessDueAsync(), other.ProcessDueAsync(), Task.Run(() => other.ProcessDueAsync()));
        int again = await kit.Service.ProcessDueAsync();

        again.ShouldBe(0);
        foreach (SubscriptionId id in ids)
        {
            kit.CollectedPaymentsOf(id).Count.ShouldBe(2);
            kit.TypesOf(id).ShouldBe([E.SubscriptionStarted, E.SubscriptionRenewed]);
            Subscription s = await kit.GetAsync(id);
            s.PeriodsPaid.ShouldBe(2);
            s.CurrentPeriodEnd.ShouldBe(Instant.FromUtc(2026, 3, 31, 9, 0));
        }
    }

    [Fact]
    public async Task ProcessDueAsync_GatewayDown_ChangesNothingAndTheNextRunRenewsOnce()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Pro);
        kit.Gateway.Down = true;

        kit.Clock.Reset(Feb28);
        PaymentGatewayException error = await Should.ThrowAsync<PaymentGatewayException>(() => kit.Service.ProcessDueAsync());

        error.IsTransient.ShouldBeTrue();
        Subscription unchanged = await kit.GetAsync(s.Id);
        unchanged.Version.ShouldBe(s.Version);
        unchanged.DueAt.ShouldBe(Feb28);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted]);
        kit.Gateway.Down = false;
        (await kit.Service.ProcessDueAsync()).ShouldBe(1);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionRenewed]);
        kit.CollectedPaymentsOf(s.Id).Count.ShouldBe(2);
    }

    [Fact]
    public async Task ProcessDueAsync_GrantorDown_KeepsTheGrantPendingAndRetriesIt()
    {
        var kit = new SubscriptionTestKit();
        kit.Grantor.FailingProduct = "course-library";
        Subscription s = await kit.StartAsync(Pro);
        s.AccessGrantedFor.ShouldBeNull();
        s.DueAt.ShouldBe(T0);

        kit.Grantor.FailingProduct = null;
        (await kit.Service.ProcessDueAsync()).ShouldBe(1);

        Subscription granted = await kit.GetAsync(s.Id);
        granted.AccessGrantedFor.ShouldBe(Pro);
        granted.DueAt.ShouldBe(Feb28);
        kit.Grantor.Granted.Select(g => g.Product).ShouldContain("course-library");
    }

    [Fact]
    public async Task ApplyProviderPaymentAsync_PaidThenRepeated_RenewsOnce()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Pro);
        var paid = new ProviderPayment { PaymentId = "in_1", Succeeded = true, Amount = Usd(90), OccurredAt = Feb28 };

        SubscriptionResult first = await kit.Service.ApplyProviderPaymentAsync(s.Id, paid);
        SubscriptionResult again = await kit.Service.ApplyProviderPaymentAsync(s.Id, paid);

        first.Subscription!.CurrentPeriodEnd.ShouldBe(Instant.FromUtc(2026, 3, 31, 9, 0));
        first.Events.ShouldHaveSingleItem().ShouldBeOfType<SubscriptionRenewed>().PaymentId.ShouldBe("in_1");
        again.Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        again.Events.ShouldBeEmpty();
        again.Subscription!.Version.ShouldBe(first.Subscription.Version);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionRenewed]);
    }

    [Fact]
    public async Task ApplyProviderPaymentAsync_FailuresThenGiveUp_PastDueThenEndedEachAppliedOnce()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Pro);
        var failed = new ProviderPayment
        {
            PaymentId = "in_2", Succeeded = false, Amount = Usd(90), OccurredAt = Feb28, Reason = "card_declined",
            NextAttemptAt = Feb28 + Duration.FromDays(4),
        };

        SubscriptionResult pastDue = await kit.Service.ApplyProviderPaymentAsync(s.Id, failed);
        await kit.Service.ApplyProviderPaymentAsync(s.Id, failed);
        SubscriptionResult ended = await kit.Service.ApplyProviderPaymentAsync(s.Id, failed with { Attempt = 2, NextAttemptAt = null });

        pastDue.Subscription!.Status.ShouldBe(SubscriptionStatus.PastDue);
        pastDue.Subscription.NextAttemptAt.ShouldBe(Feb28 + Duration.FromDays(4));
        ended.Subscription!.Status.ShouldBe(SubscriptionStatus.Ended);
        ended.Subscription.EndReason.ShouldBe(SubscriptionEndReason.PaymentFailed);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionPaymentFailed, E.SubscriptionPaymentFailed, E.SubscriptionEnded]);
        (await kit.Service.ApplyProviderPaymentAsync(s.Id, failed with { PaymentId = "in_3", Succeeded = true })).Outcome
            .ShouldBe(SubscriptionOutcome.Rejected);
    }

    [Fact]
    public async Task ApplyProviderPaymentAsync_PaidTrial_Converts()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(OpenTrial, card: null);

        SubscriptionResult result = await kit.Service.ApplyProviderPaymentAsync(s.Id,
            new ProviderPayment { PaymentId = "in_9", Succeeded = true, Amount = Usd(30), OccurredAt = s.CurrentPeriodEnd });

        result.Subscription!.Status.ShouldBe(SubscriptionStatus.Active);
        result.Events.ShouldHaveSingleItem().ShouldBeOfType<SubscriptionTrialConverted>().Amount.ShouldBe(Usd(30));
    }

    [Fact]
    public async Task ChangePlanAsync_UpgradeDeclined_ChangesNothing()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Monthly, card: await kit.SaveCardAsync());
        s = await kit.RunAtAsync(s.Id, s.CurrentPeriodEnd);
        kit.Provider.ReplaceCard(s.PaymentMethod!, InMemoryPaymentGateway.DecliningCard);
        kit.Clock.Reset(s.CurrentPeriodStart + Duration.FromDays(10));

        SubscriptionResult result = await kit.Service.ChangePlanAsync(s.Id, Pro);

        result.Outcome.ShouldBe(SubscriptionOutcome.Declined);
        result.DeclineCode.ShouldBe("card_declined");
        result.Subscription!.Offer.ShouldBe(Monthly);
        (await kit.GetAsync(s.Id)).Version.ShouldBe(s.Version);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionTrialConverted]);
    }

    [Fact]
    public async Task ProcessDueAsync_ProviderBilled_LeavesTheChargeToTheProvider()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Pro);
        (await kit.Store.TryUpdateAsync(s, s with { ProviderSubscriptionId = "sub_1" })).ShouldBeTrue();

        Subscription after = await kit.RunAtAsync(s.Id, Feb28 + Duration.FromDays(1));

        after.Status.ShouldBe(SubscriptionStatus.Active);
        after.DueAt.ShouldBeNull();
        kit.Gateway.Charges.Count.ShouldBe(1);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted]);
    }

    [Fact]
    public async Task ProcessDueAsync_ResumeRunLateWithADecliningCard_StartsDunningFromTheRunNotThePauseEnd()
    {
        var kit = new SubscriptionTestKit();
        Subscription s = await kit.StartAsync(Pro);
        Instant until = Instant.FromUtc(2026, 3, 10, 9, 0);
        kit.Clock.Reset(Feb28 - Duration.FromDays(1));      // one of 28 days left: $3.21 of credit
        await kit.Service.PauseAsync(s.Id, until);
        kit.Provider.ReplaceCard(s.PaymentMethod!, InMemoryPaymentGateway.DecliningCard);

        Subscription pastDue = await kit.RunAtAsync(s.Id, until + Duration.FromDays(10));

        pastDue.Status.ShouldBe(SubscriptionStatus.PastDue);
        pastDue.FailedAttempts.ShouldBe(1);
        pastDue.NextAttemptAt.ShouldBe(until + Duration.FromDays(13));
        pastDue.CurrentPeriodStart.ShouldBe(until);
        pastDue.AccessGrantedFor.ShouldBe(Pro);
        kit.TypesOf(s.Id).ShouldBe([E.SubscriptionStarted, E.SubscriptionPaused, E.SubscriptionResumed, E.SubscriptionPaymentFailed]);
        kit.EventsOf(s.Id)[2].OccurredAt.ShouldBe(until);
        ((SubscriptionPaymentFailed)kit.EventsOf(s.Id)[3]).Amount.ShouldBe(Usd(86.79m));
    }
}
