using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Onboarding;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Webinars;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;
using static Funnel.Tests.Advocacy.AdvocacyTestKit;

namespace Funnel.Tests.Pipeline;

/// <summary>
/// The Advocacy handlers and jobs as a host runs them: the host appends only raw inputs (orders, payments, refunds,
/// chargebacks, entitlements) to the log, and the pipeline carries them to the affiliate and referral programs and the
/// entitlement ledger. Delivery is at least once, so each test also delivers an event twice.
/// </summary>
public sealed class AdvocacyPipelineTests : IDisposable
{
    private static readonly EmailAddress Alice = EmailAddress.Parse("alice@example.com");
    private static readonly EmailAddress Bob = EmailAddress.Parse("bob@example.com");
    private static readonly Course Masterclass = new() { Key = "masterclass-videos", Modules = ["one", "two"] };
    private static readonly Webinar Evergreen = new() { Key = "w", Length = Duration.FromHours(1), Every = Duration.FromMinutes(15) };

    private readonly FakeClock _clock = new(T0);
    private readonly ServiceProvider _provider;

    public AdvocacyPipelineTests()
    {
        _provider = new ServiceCollection()
            .AddSingleton<IClock>(_clock)
            .AddSingleton(Masterclass)
            .AddSingleton(Evergreen)
            .AddSingleton(Settings(percent: 30m))
            .AddSingleton(new ReferralProgramSettings { FriendCoupon = new Coupon { Code = "FRIEND20", PercentOff = 20m }, ReferrerCredit = Usd(50) })
            .AddFunnelAdvocacy()
            .BuildServiceProvider();
    }

    private InMemoryFunnelEventLog Log => (InMemoryFunnelEventLog)_provider.GetRequiredService<IFunnelEventLog>();

    private FunnelPipeline Pipeline => _provider.GetRequiredService<FunnelPipeline>();

    private AffiliateProgram Affiliates => _provider.GetRequiredService<AffiliateProgram>();

    private ReferralProgram Referrals => _provider.GetRequiredService<ReferralProgram>();

    public void Dispose() => _provider.Dispose();

    [Fact]
    public void AddFunnelAdvocacy_Always_RegistersTheAdvocacyHandlersAndJobs()
    {
        string[] handlers = ["affiliates", "referrals", "onboarding"];
        string[] jobs = ["webinar-no-shows", "advocacy-clearing"];

        handlers.ShouldBeSubsetOf(Pipeline.Handlers);
        jobs.ShouldBeSubsetOf(_provider.GetServices<IFunnelJob>().Select(j => j.Name));
        _provider.GetServices<IFunnelJob>().Select(j => j.Name).ShouldBeUnique();
    }

    [Fact]
    public async Task AffiliatesHandler_OrderAndPaymentDeliveredTwice_AttributesAndEarnsOnce()
    {
        Affiliate sarah = await ApprovedAffiliateAsync();
        await Affiliates.RecordClickAsync("sarah", Lead(2));
        OrderPlaced order = Placed(2, 1, Usd(100), T0);
        PaymentSucceeded payment = Paid(2, 1, Usd(100), T0);

        await AppendAndDeliverAsync(order, payment);
        await RedeliverAsync<AffiliateCommissionHandler>(order, payment);

        Log.Snapshot().OfType<AffiliateSaleAttributed>().ShouldHaveSingleItem().Order.ShouldBe(OrderNo(1));
        Log.Snapshot().OfType<CommissionEarned>().ShouldHaveSingleItem().Amount.ShouldBe(Usd(30));
        (await Affiliates.LedgerAsync(sarah.Id)).ShouldHaveSingleItem().Amount.ShouldBe(Usd(30));
    }

    [Fact]
    public async Task AffiliatesHandler_RefundDeliveredTwice_ReversesTheCommissionOnce()
    {
        Affiliate sarah = await ApprovedAffiliateAsync();
        await Affiliates.RecordClickAsync("sarah", Lead(2));
        await AppendAndDeliverAsync(Placed(2, 1, Usd(100), T0), Paid(2, 1, Usd(100), T0));
        RefundIssued refund = Refunded(2, 1, Usd(100), T0 + Duration.FromDays(3));

        await AppendAndDeliverAsync(refund);
        await RedeliverAsync<AffiliateCommissionHandler>(refund);

        Log.Snapshot().OfType<CommissionClawedBack>().ShouldHaveSingleItem().Amount.ShouldBe(Usd(30));
        (await Affiliates.StatsAsync(sarah.Id)).Commission.ShouldBe(Usd(0));
    }

    [Fact]
    public async Task AffiliatesHandler_Chargeback_ClawsBackTheDisputedShare()
    {
        Affiliate sarah = await ApprovedAffiliateAsync();
        await Affiliates.RecordClickAsync("sarah", Lead(2));
        await AppendAndDeliverAsync(Placed(2, 1, Usd(100), T0), Paid(2, 1, Usd(100), T0));
        var dispute = new PaymentDisputed
        {
            LeadId = Lead(2), OccurredAt = T0 + Duration.FromDays(5), Order = OrderNo(1), Amount = Usd(100), PaymentId = "pi_1", Reason = "fraudulent",
        };

        await AppendAndDeliverAsync(dispute);
        await RedeliverAsync<AffiliateCommissionHandler>(dispute);

        Log.Snapshot().OfType<CommissionClawedBack>().ShouldHaveSingleItem().Amount.ShouldBe(Usd(30));
        (await Affiliates.StatsAsync(sarah.Id)).Commission.ShouldBe(Usd(0));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AffiliatesHandler_ChargebackClosed_WonEarnsTheShareBackOnceLostKeepsItClawedBack(bool won)
    {
        Affiliate sarah = await ApprovedAffiliateAsync();
        await Affiliates.RecordClickAsync("sarah", Lead(2));
        await AppendAndDeliverAsync(Placed(2, 1, Usd(100), T0), Paid(2, 1, Usd(100), T0));
        await AppendAndDeliverAsync(new PaymentDisputed
        {
            LeadId = Lead(2), OccurredAt = T0 + Duration.FromDays(5), Order = OrderNo(1), Amount = Usd(60), PaymentId = "pi_1", Reason = "fraudulent",
        });
        var closed = new DisputeClosed
        {
            LeadId = Lead(2), OccurredAt = T0 + Duration.FromDays(40), Order = OrderNo(1), DisputeId = "dp_1", PaymentId = "pi_1", Amount = Usd(60), Won = won,
        };

        await AppendAndDeliverAsync(closed);
        await RedeliverAsync<AffiliateCommissionHandler>(closed);

        Log.Snapshot().OfType<CommissionClawedBack>().ShouldHaveSingleItem().Amount.ShouldBe(Usd(18));
        CommissionEarned[] earned = [.. Log.Snapshot().OfType<CommissionEarned>()];
        earned.Select(static e => e.Amount).ShouldBe(won ? [Usd(30), Usd(18)] : [Usd(30)]);
        (await Affiliates.StatsAsync(sarah.Id)).Commission.ShouldBe(won ? Usd(30) : Usd(12));
    }

    [Fact]
    public async Task AffiliatesHandler_NoProgramSettings_IgnoresOrders()
    {
        using ServiceProvider provider = new ServiceCollection().AddSingleton<IClock>(_clock).AddFunnelAdvocacy().BuildServiceProvider();
        var log = provider.GetRequiredService<IFunnelEventLog>();
        await log.AppendAsync([Placed(2, 1, Usd(100), T0), Paid(2, 1, Usd(100), T0)]);

        PipelineDelivery delivery = await provider.GetRequiredService<FunnelPipeline>().DeliverAllAsync();

        delivery.Failures.ShouldBeEmpty();
        ((InMemoryFunnelEventLog)log).Snapshot().Count.ShouldBe(2);
    }

    [Fact]
    public async Task ReferralsHandler_FriendsOrderDeliveredTwice_RewardsTheReferrerOnce()
    {
        string code = await Referrals.CodeForAsync(Lead(1), Alice);
        await Referrals.ReferAsync(code, Lead(2), Bob);
        OrderPlaced order = Placed(2, 1, Usd(100), T0);

        await AppendAndDeliverAsync(order);
        await RedeliverAsync<ReferralRewardHandler>(order);
        _clock.Advance(Duration.FromDays(31));
        await RunJobAsync("advocacy-clearing");
        await RunJobAsync("advocacy-clearing");

        Log.Snapshot().OfType<ReferralPurchased>().ShouldHaveSingleItem().Referred.ShouldBe(Lead(2));
        Log.Snapshot().OfType<ReferralRewardEarned>().ShouldHaveSingleItem().LeadId.ShouldBe(Lead(1));
        (await Referrals.CreditOfAsync(Lead(1))).ShouldBe(Usd(50));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReferralsHandler_RefundOrChargebackInsideTheWindow_CancelsTheReward(bool chargeback)
    {
        string code = await Referrals.CodeForAsync(Lead(1), Alice);
        await Referrals.ReferAsync(code, Lead(2), Bob);
        await AppendAndDeliverAsync(Placed(2, 1, Usd(100), T0));
        Instant at = T0 + Duration.FromDays(3);
        FunnelEvent reversal = chargeback
            ? new PaymentDisputed { LeadId = Lead(2), OccurredAt = at, Order = OrderNo(1), Amount = Usd(100), PaymentId = "pi_1", Reason = "fraudulent" }
            : Refunded(2, 1, Usd(100), at);

        await AppendAndDeliverAsync(reversal);
        await RedeliverAsync<ReferralRewardHandler>(reversal);
        _clock.Advance(Duration.FromDays(31));
        await RunJobAsync("advocacy-clearing");

        Log.Snapshot().OfType<ReferralRewardEarned>().ShouldBeEmpty();
        (await Referrals.CreditOfAsync(Lead(1))).ShouldBe(Usd(0));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReferralsHandler_ChargebackClosed_WonRewardsTheReferrerOnceLostCancelsTheReward(bool won)
    {
        string code = await Referrals.CodeForAsync(Lead(1), Alice);
        await Referrals.ReferAsync(code, Lead(2), Bob);
        await AppendAndDeliverAsync(Placed(2, 1, Usd(100), T0));
        await AppendAndDeliverAsync(new PaymentDisputed { LeadId = Lead(2), OccurredAt = T0 + Duration.FromDays(3), Order = OrderNo(1), Amount = Usd(100), PaymentId = "pi_1", Reason = "fraudulent" });
        _clock.Advance(Duration.FromDays(31));
        await RunJobAsync("advocacy-clearing");
        Log.Snapshot().OfType<ReferralRewardEarned>().ShouldBeEmpty(); // held while the dispute is open, past the window too
        var closed = new DisputeClosed
        {
            LeadId = Lead(2), OccurredAt = T0 + Duration.FromDays(40), Order = OrderNo(1), DisputeId = "dp_1", PaymentId = "pi_1", Amount = Usd(100), Won = won,
        };

        await AppendAndDeliverAsync(closed);
        await RedeliverAsync<ReferralRewardHandler>(closed);
        _clock.Advance(Duration.FromDays(10));
        await RunJobAsync("advocacy-clearing");
        await RunJobAsync("advocacy-clearing");

        Log.Snapshot().OfType<ReferralRewardEarned>().Count().ShouldBe(won ? 1 : 0);
        (await Referrals.CreditOfAsync(Lead(1))).ShouldBe(won ? Usd(50) : Usd(0));
    }

    [Fact]
    public async Task OnboardingHandler_GrantDelivered_LetsTheBuyerProgressAndARevokeStopsIt()
    {
        var tracker = _provider.GetRequiredService<CourseProgressTracker>();
        var granted = new EntitlementGranted { LeadId = Lead(1), OccurredAt = T0, Order = OrderNo(1), Product = Masterclass.Key };
        var revoked = new EntitlementRevoked { LeadId = Lead(1), OccurredAt = T0 + Duration.FromDays(2), Order = OrderNo(1), Product = Masterclass.Key };

        (await tracker.CompleteModuleAsync(Lead(1), Masterclass.Key, "one")).Outcome.ShouldBe(ProgressOutcome.NotEntitled);
        await AppendAndDeliverAsync(granted);
        await RedeliverAsync<OnboardingHandler>(granted);
        (await tracker.CompleteModuleAsync(Lead(1), Masterclass.Key, "one")).Outcome.ShouldBe(ProgressOutcome.Recorded);
        await AppendAndDeliverAsync(revoked);
        await RedeliverAsync<OnboardingHandler>(granted);

        (await tracker.CompleteModuleAsync(Lead(1), Masterclass.Key, "two")).Outcome.ShouldBe(ProgressOutcome.NotEntitled);
        Log.Snapshot().OfType<ModuleCompleted>().ShouldHaveSingleItem().Module.ShouldBe("one");
    }

    [Fact]
    public async Task WebinarNoShowJob_SessionEndedUnattended_RecordsWebinarMissedOnce()
    {
        var registrar = _provider.GetRequiredService<WebinarRegistrar>();
        await registrar.RegisterAsync("w", Lead(1), DateTimeZone.Utc);
        await RunJobAsync("webinar-no-shows");
        Log.Snapshot().OfType<WebinarMissed>().ShouldBeEmpty();

        _clock.Advance(Duration.FromHours(2));
        await RunJobAsync("webinar-no-shows");
        await RunJobAsync("webinar-no-shows");

        Log.Snapshot().OfType<WebinarRegistered>().ShouldHaveSingleItem();
        Log.Snapshot().OfType<WebinarMissed>().ShouldHaveSingleItem().LeadId.ShouldBe(Lead(1));
    }

    [Fact]
    public async Task AdvocacyClearingJob_PastTheRefundWindow_ApprovesTheCommissionOnce()
    {
        Affiliate sarah = await ApprovedAffiliateAsync();
        await Affiliates.RecordClickAsync("sarah", Lead(2));
        await AppendAndDeliverAsync(Placed(2, 1, Usd(100), T0), Paid(2, 1, Usd(100), T0));

        await RunJobAsync("advocacy-clearing");
        Log.Snapshot().OfType<CommissionApproved>().ShouldBeEmpty();
        _clock.Advance(Duration.FromDays(31));
        await RunJobAsync("advocacy-clearing");
        await RunJobAsync("advocacy-clearing");

        Log.Snapshot().OfType<CommissionApproved>().ShouldHaveSingleItem().Amount.ShouldBe(Usd(30));
        (await Affiliates.LedgerAsync(sarah.Id)).ShouldHaveSingleItem().Status.ShouldBe(CommissionStatus.Approved);
    }

    private async Task<Affiliate> ApprovedAffiliateAsync()
    {
        Affiliate sarah = (await Affiliates.EnrolAsync(Lead(1), "sarah")).Affiliate;
        await Affiliates.DecideAsync(sarah.Id, approve: true);
        return sarah;
    }

    /// <summary>Appends raw inputs, as a host would, and delivers the log to every handler.</summary>
    private async Task AppendAndDeliverAsync(params FunnelEvent[] events)
    {
        await Log.AppendAsync(events);
        PipelineDelivery delivery = await Pipeline.DeliverAllAsync();
        delivery.Failures.ShouldBeEmpty();
        delivery.CaughtUp.ShouldBeTrue();
    }

    /// <summary>Delivers events again to one handler, as the pipeline does after a crash before it stored its position.</summary>
    private async Task RedeliverAsync<THandler>(params FunnelEvent[] events)
        where THandler : IFunnelHandler
    {
        var handler = _provider.GetRequiredService<THandler>();
        foreach (FunnelEvent e in events)
        {
            await handler.HandleAsync(e);
        }
    }

    private Task RunJobAsync(string name) => _provider.GetServices<IFunnelJob>().Single(j => j.Name == name).RunAsync();
}
