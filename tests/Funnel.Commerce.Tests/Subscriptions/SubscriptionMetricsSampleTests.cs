using Funnel.CartRecovery;
using Funnel.Events;
using Funnel.Samples.EbookMasterclass;
using Funnel.Subscriptions;
using NodaTime;

namespace Funnel.Tests.Subscriptions;

/// <summary>The Masterclass sample's membership and cart-recovery figures, computed from the events it simulates.</summary>
public sealed class SubscriptionMetricsSampleTests
{
    private static readonly ScenarioOptions Options = new();

    [Fact]
    public void Run_DefaultOptions_PrintsTheMembershipMrrAndTheCartRecoveryFigures()
    {
        var output = new StringWriter();

        EbookMasterclassProgram.Run([], output, TextWriter.Null).ShouldBe(0);

        string text = output.ToString();
        text.ShouldContain("Membership: Masterclass Community ($49/month with a 14-day free trial, or $490/year; coaching tier $99/month)");
        text.ShouldContain("MRR on 2027-02-01: $1,319.81 from 23 paying members (0 trialing, 1 paused)");
        text.ShouldContain("| 2026-10 |     $0.00 | $1,004.49 |     $0.00 |       $0.00 |   $0.00 |  $0.00 |       $0.00 | $1,004.49 |   n/a |         18 of 20 |");
        text.ShouldContain("| 2026-12 | $1,284.15 |     $0.00 |    $50.00 |      $58.17 |  $49.00 | $49.00 |      $98.00 | $1,275.98 | 91.7% |           0 of 0 |");
        text.ShouldContain("Nov-Jan: net revenue retention 103.6% ($1,041.15 of $1,004.49), revenue churn 24.4%, logo churn 9.5% (2 of 21 members)");
        text.ShouldContain("Trial conversion: 74.3% (26 converted, 9 lapsed, of 35 trials)");
        text.ShouldContain("| Checkouts abandoned (checkout_abandoned) |           100 |");
        text.ShouldContain("| Recovery emails sent (1 / 2 / 3)         | 100 / 87 / 79 |");
        text.ShouldContain("| Recovered (order within 7 days)          |     23 of 100 |");
        text.ShouldContain("| Recovery rate                            |           23% |");
        text.ShouldContain("| Recovered revenue                        |       $11,431 |");
    }

    [Fact]
    public void GenerateEvents_DefaultLaunch_MrrMatchesTheNaiveReplayAndTheMonthsReconcile()
    {
        IReadOnlyList<FunnelEvent> events = MembershipSimulation.GenerateEvents(MasterclassScenario.GenerateEvents(Options), Options.Seed);

        SubscriptionMetrics metrics = SubscriptionMetrics.Create(events);

        events.OfType<SubscriptionPlanChanged>().ShouldContain(c => c.ToOffer == MembershipSimulation.CommunityYearly);
        events.OfType<SubscriptionPlanChanged>().ShouldContain(c => c.ToOffer == MembershipSimulation.CommunityCoaching);
        events.OfType<SubscriptionEnded>().Select(e => e.Reason).Distinct().Count().ShouldBeGreaterThanOrEqualTo(3);
        events.OfType<SubscriptionResumed>().ShouldNotBeEmpty();
        metrics.MonthlyRecurringRevenue(MembershipSimulation.Horizon, Currency.USD).MinorUnits
            .ShouldBe(NaiveMrr.At(events, MembershipSimulation.Horizon)[Currency.USD]);
        foreach (RecurringRevenueReport month in metrics.Monthly(MembershipSimulation.Zone))
        {
            RecurringRevenueMovement m = month.Movement(Currency.USD);
            (m.Starting + m.New + m.Expansion - m.Contraction - m.Churned - m.Paused + m.Reactivation).ShouldBe(m.Ending);
        }
    }

    [Fact]
    public void GenerateEvents_SameSeed_SameEvents()
    {
        IReadOnlyList<FunnelEvent> launch = MasterclassScenario.GenerateEvents(Options);

        IReadOnlyList<FunnelEvent> first = MembershipSimulation.GenerateEvents(launch, Options.Seed);
        IReadOnlyList<FunnelEvent> second = MembershipSimulation.GenerateEvents(launch, Options.Seed);

        second.ShouldBe(first);
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
