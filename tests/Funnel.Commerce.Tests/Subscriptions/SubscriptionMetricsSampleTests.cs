using Funnel.CartRecovery;
using Funnel.Events;
using Funnel.Samples.EbookMasterclass;
using Funnel.Subscriptions;
using NodaTime;

namespace Funnel.Tests.Subscriptions;

/// <summary>The Masterclass sample's membership and cart-recovery figures, computed from the events of its run.</summary>
public sealed class SubscriptionMetricsSampleTests
{
    private static readonly ScenarioOptions Options = new();

    [Fact]
    public void Run_DefaultOptions_PrintsTheMembershipMrrAndTheCartRecoveryFigures()
    {
        var output = new StringWriter();

        EbookMasterclassProgram.Run([], output, TextWriter.Null).ShouldBe(0);

        string text = output.ToString();
        text.ShouldContain(
            "Membership: Masterclass Community ($49/month with a 14-day free trial, or $490/year; coaching tier $99/month)");
        text.ShouldContain("MRR on 2027-02-01: $1,604.64 from 30 paying members (0 trialing, 0 paused)");
        text.ShouldContain(
            "| 2026-10 |     $0.00 | $1,268.81 |     $0.00 |     $100.00 |   $0.00 | $49.00 |       $0.00 | $1,119.81 |    n/a |" +
            "         14 of 18 |");
        text.ShouldContain(
            "| 2026-12 | $1,799.64 |     $0.00 |    $50.00 |       $0.00 | $196.00 | $98.00 |     $147.00 | $1,702.64 |  91.9% |" +
            "           0 of 0 |");
        text.ShouldContain(
            "Nov-Jan: net revenue retention 95.8% ($1,072.81 of $1,119.81), revenue churn 26.3%, logo churn 13% (3 of 23 members)");
        text.ShouldContain("Trial conversion: 83.3% (25 converted, 5 lapsed, of 30 trials)");
        text.ShouldContain("Recorded by SubscriptionService: 169 events (64 subscription_renewed, 41 subscription_started, ");
        text.ShouldContain("Members' requests the engine refused: none");
        text.ShouldContain("| Checkouts abandoned (checkout_abandoned) |           100 |");
        text.ShouldContain("| Recovery emails sent (1 / 2 / 3)         | 100 / 87 / 79 |");
        text.ShouldContain("| Recovered (order within 7 days)          |     23 of 100 |");
        text.ShouldContain("| Recovery rate                            |           23% |");
        text.ShouldContain("| Recovered revenue                        |       $11,431 |");
    }

    [Fact]
    public async Task RunAsync_DefaultLaunch_FiguresAreTheMetricsOfTheEnginesEventLog()
    {
        IReadOnlyList<FunnelEvent> launch = MasterclassScenario.GenerateEvents(Options);

        MembershipRun run = await MembershipSimulation.RunAsync(launch, Options.Seed);

        // The log holds only what the engine recorded: subscription events, once each, for subscriptions it stores.
        run.Events.ShouldAllBe(e => e.EventType.StartsWith("subscription_"));
        run.Events.Select(e => e.Id).ShouldBeUnique();
        run.Events.OfType<SubscriptionStarted>().Count().ShouldBe(run.Subscriptions.Count);
        run.Events.OfType<SubscriptionStarted>().Select(e => e.Subscription)
            .ShouldBe(run.Subscriptions.Select(s => s.Id), ignoreOrder: true);
        run.Events.OfType<SubscriptionEnded>().Select(e => e.Subscription).ShouldBe(
            run.Subscriptions.Where(s => s.Status == SubscriptionStatus.Ended).Select(s => s.Id), ignoreOrder: true);
        run.Events.OfType<SubscriptionRenewed>().Count()
            .ShouldBe(run.Subscriptions.Sum(s => s.PeriodsPaid) - run.Subscriptions.Count(s => s.TrialEndsAt is null)
                - run.Events.OfType<SubscriptionTrialConverted>().Count());
        run.Events.ShouldAllBe(e => e.OccurredAt < MembershipSimulation.Horizon);
        run.MembersWithAccess.ShouldBe(run.Subscriptions.Where(s => s.HasAccess).Select(s => s.Lead).ToHashSet(),
            ignoreOrder: true);

        // What the sample prints is the metrics of exactly those events.
        SubscriptionMetrics fromLog = SubscriptionMetrics.Create(run.Events);
        run.Metrics.EventCount.ShouldBe(fromLog.EventCount);
        RecurringRevenueSnapshot printed = run.Metrics.At(MembershipSimulation.Horizon);
        RecurringRevenueSnapshot computed = fromLog.At(MembershipSimulation.Horizon);
        (printed.Mrr(Currency.USD), printed.ActiveSubscribers, printed.TrialingSubscribers, printed.PausedSubscribers)
            .ShouldBe((computed.Mrr(Currency.USD), computed.ActiveSubscribers, computed.TrialingSubscribers,
                computed.PausedSubscribers));
        run.Metrics.Monthly(MembershipSimulation.Zone)
            .Select(m => (m.Movement(Currency.USD), m.TrialsConverted, m.TrialsLapsed))
            .ShouldBe(fromLog.Monthly(MembershipSimulation.Zone)
                .Select(m => (m.Movement(Currency.USD), m.TrialsConverted, m.TrialsLapsed)));
        fromLog.MonthlyRecurringRevenue(MembershipSimulation.Horizon, Currency.USD).MinorUnits
            .ShouldBe(NaiveMrr.At(run.Events, MembershipSimulation.Horizon)[Currency.USD]);
        fromLog.MonthlyRecurringRevenue(MembershipSimulation.Horizon, Currency.USD).ShouldBe(
            run.Subscriptions.Where(s => s.Status is SubscriptionStatus.Active or SubscriptionStatus.PastDue)
                .Aggregate(Money.Zero(Currency.USD), (sum, s) => sum + s.MonthlyAmount));
        foreach (RecurringRevenueReport month in fromLog.Monthly(MembershipSimulation.Zone))
        {
            RecurringRevenueMovement m = month.Movement(Currency.USD);
            (m.Starting + m.New + m.Expansion - m.Contraction - m.Churned - m.Paused + m.Reactivation)
                .ShouldBe(m.Ending);
        }

        // The behaviours the sample claims all happened, through the engine.
        SubscriptionPlanChanged[] changes = [.. run.Events.OfType<SubscriptionPlanChanged>()];
        changes.ShouldContain(c => c.ToOffer == MembershipSimulation.CommunityCoaching);
        changes.ShouldContain(c => c.ToOffer == MembershipSimulation.CommunityMonthly);
        changes.ShouldAllBe(c => c.Interval == BillingInterval.Month);
        run.Events.OfType<SubscriptionStarted>().ShouldContain(s => s.Offer == MembershipSimulation.CommunityYearly);
        run.Events.OfType<SubscriptionEnded>().Select(e => e.Reason).Distinct().ShouldBe(
            [
                SubscriptionEndReason.TrialLapsed, SubscriptionEndReason.CanceledAtPeriodEnd,
                SubscriptionEndReason.PaymentFailed,
            ],
            ignoreOrder: true);
        run.Events.OfType<SubscriptionPaymentFailed>().ShouldNotBeEmpty();
        run.Events.OfType<SubscriptionCancelWithdrawn>().ShouldNotBeEmpty();
        run.Events.OfType<SubscriptionResumed>().ShouldNotBeEmpty();
    }

    [Fact]
    public async Task RunAsync_SameSeed_SameEvents()
    {
        IReadOnlyList<FunnelEvent> launch = MasterclassScenario.GenerateEvents(Options);

        MembershipRun first = await MembershipSimulation.RunAsync(launch, Options.Seed);
        MembershipRun second = await MembershipSimulation.RunAsync(launch, Options.Seed);

        second.Events.ShouldBe(first.Events);
    }

    [Fact]
    public async Task RunAsync_DefaultLaunch_RecoveriesAreTheBuyersWhoAnsweredAnEmail()
    {
        CartRecoveryRun run = await CartRecoverySimulation.RunAsync(MasterclassScenario.GenerateEvents(Options), Options);

        run.Report.Abandoned.ShouldBe(run.Events.OfType<CheckoutAbandoned>().Count());
        run.Report.Recovered.ShouldBe(run.RecoveredAfter.Values.Sum());
        run.Report.RecoveredRevenue.ShouldBe(Options.Price * run.Report.Recovered);
        run.Report.ShouldBe(CartRecoveryReport.Create(run.Events, Currency.USD, Duration.FromDays(7)));
        run.Events.OfType<CheckoutAbandoned>().Select(a => a.Id).ShouldBeUnique();
    }
}
