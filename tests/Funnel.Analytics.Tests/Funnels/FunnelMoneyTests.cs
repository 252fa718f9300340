using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Events;
using NodaTime;
using static Funnel.Analytics.Tests.AnalyticsTestData;

namespace Funnel.Analytics.Tests.Funnels;

public class FunnelMoneyTests
{
    private static readonly Currency Usd = Currency.USD;

    private static Money Usd_(decimal amount) => Money.FromMajor(amount, Usd);

    private static OrderPlaced Order(int lead, double minute, decimal amount) =>
        new OrderPlaced { LeadId = Lead(lead), OccurredAt = At(minute), Order = OrderId.New(), Offer = "masterclass", Total = Usd_(amount) };

    private static RefundIssued Refund(int lead, double minute, decimal amount) =>
        new RefundIssued { LeadId = Lead(lead), OccurredAt = At(minute), Order = OrderId.New(), Amount = Usd_(amount) };

    private static OptedIn OptIn(int lead, double minute) => new OptedIn { LeadId = Lead(lead), OccurredAt = At(minute), Magnet = "guide" };

    private static AdSpendRecorded Spend(string channel, decimal amount) =>
        new AdSpendRecorded { OccurredAt = At(0), Attribution = new Attribution { Channel = channel }, Amount = Usd_(amount) };

    private static FunnelQuery Query(FunnelBreakdown? breakdown = null, int? threads = null) => new()
    {
        Funnel = FunnelOf("page_viewed", EventTypes.OptedIn, EventTypes.OrderPlaced),
        Window = Duration.FromDays(7),
        Breakdown = breakdown,
        IncludeMoney = true,
        MaxDegreeOfParallelism = threads,
    };

    /// <summary>
    /// Lead 1 (facebook) buys two minutes after its visit and is refunded $97 a month later; lead 2 (facebook) only
    /// opts in; lead 3 (google) buys ten days later, outside the window, so its chain stops at the visit but its
    /// money counts; lead 4 (google) bought before its visit, which does not count.
    /// </summary>
    private static AnalyticsEventStore Store() => AnalyticsEventStore.Load(
    [
        E(1, "page_viewed", 0, "facebook"), OptIn(1, 1), Order(1, 2, 497m), Refund(1, 30 * 1440, 97m),
        E(2, "page_viewed", 5, "facebook"), OptIn(2, 6),
        E(3, "page_viewed", 10, "google"), Order(3, 10 + (10 * 1440), 497m),
        Order(4, 0, 50m), E(4, "page_viewed", 20, "google"),
        Spend("facebook", 400m), Spend("google", 100m),
    ]);

    [Fact]
    public void Analyze_WithMoney_GivesRevenueCostRoasAndPaybackPerStep()
    {
        FunnelAnalysis analysis = FunnelAnalyzer.Analyze(Store(), Query());

        FunnelMoney visits = analysis.Steps[0].Money!;
        visits.Revenue.ShouldBe(Usd_(897m));
        visits.AdSpend.ShouldBe(Usd_(500m));
        visits.AcquisitionCost.ShouldBe(Usd_(125m));
        visits.ReturnOnAdSpend.ToDecimal().ShouldBe(1.794m);
        visits.PaybackPeriod.ShouldBe(Duration.FromDays(10));

        FunnelMoney leads = analysis.Steps[1].Money!;
        leads.Revenue.ShouldBe(Usd_(400m));
        leads.AcquisitionCost.ShouldBe(Usd_(250m));
        leads.PaybackPeriod.ShouldBeNull();

        FunnelMoney buyers = analysis.Steps[2].Money!;
        buyers.Revenue.ShouldBe(Usd_(400m));
        buyers.AcquisitionCost.ShouldBe(Usd_(500m));
        buyers.ReturnOnAdSpend.ToDecimal().ShouldBe(0.8m);
    }

    [Fact]
    public void Analyze_ByChannel_DividesTheSpendAmongChannels()
    {
        FunnelAnalysis analysis = FunnelAnalyzer.Analyze(Store(), Query(FunnelBreakdown.Channel));

        FunnelBreakdownRow facebook = analysis.Breakdown.Single(r => r.Value == "facebook");
        facebook.Money.Select(m => m.Revenue).ShouldBe([Usd_(400m), Usd_(400m), Usd_(400m)]);
        facebook.Money[0].AdSpend.ShouldBe(Usd_(400m));
        facebook.Money[0].AcquisitionCost.ShouldBe(Usd_(200m));
        facebook.Money[2].AcquisitionCost.ShouldBe(Usd_(400m));
        facebook.Money[0].PaybackPeriod.ShouldBe(Duration.FromMinutes(2));

        FunnelBreakdownRow google = analysis.Breakdown.Single(r => r.Value == "google");
        google.Money[0].Revenue.ShouldBe(Usd_(497m));
        google.Money[0].PaybackPeriod.ShouldBe(Duration.FromDays(10));
        google.Money[1].Revenue.ShouldBe(Money.Zero(Usd));
    }

    [Fact]
    public void Analyze_ByCampaign_LeavesSpendUnattributed()
    {
        FunnelAnalysis analysis = FunnelAnalyzer.Analyze(Store(), Query(FunnelBreakdown.Campaign));

        FunnelMoney row = analysis.Breakdown.Single().Money[0];
        row.Revenue.ShouldBe(Usd_(897m));
        row.AdSpend.ShouldBeNull();
        row.AcquisitionCost.ShouldBeNull();
        row.ReturnOnAdSpend.IsDefined.ShouldBeFalse();
        row.PaybackPeriod.ShouldBeNull();
    }

    [Fact]
    public void Analyze_WithoutMoney_LeavesItOut()
    {
        FunnelAnalysis analysis = FunnelAnalyzer.Analyze(Store(), Query(FunnelBreakdown.Channel) with { IncludeMoney = false });

        analysis.Steps.ShouldAllBe(s => s.Money == null);
        analysis.Breakdown.ShouldAllBe(r => r.Money.IsEmpty);
    }

    [Fact]
    public void Analyze_PaymentsAtOneInstant_CountTogether()
    {
        // A refund and an order two minutes after the visit: $50 net, whichever is read first.
        AnalyticsEventStore store = AnalyticsEventStore.Load(
        [
            E(1, "page_viewed", 0, "facebook"), Refund(1, 2, 100m), Order(1, 2, 150m), Order(1, 60, 100m), Spend("facebook", 100m),
        ]);

        FunnelAnalyzer.Analyze(store, Query()).Steps[0].Money!.PaybackPeriod.ShouldBe(Duration.FromHours(1));
    }

    /// <summary>Per step, the revenue is the sum of the money events of the leads who reached it, from their chain's start on.</summary>
    [Property(MaxTest = 200)]
    public Property Revenue_PerStep_MatchesTheLeadsChains() => Prop.ForAll(Streams(), events =>
    {
        AnalyticsEventStore store = AnalyticsEventStore.Load(events);
        FunnelQuery query = Query(FunnelBreakdown.Channel, threads: 3);
        FunnelAnalysis analysis = FunnelAnalyzer.Analyze(store, query);
        (int Depth, long StartTicks, long EndTicks)[] chains = FunnelAnalyzer.EvaluateLeads(store, query);

        var expected = new long[3];
        for (int lead = 0; lead < chains.Length; lead++)
        {
            LeadId id = store.LeadAt(lead);
            long net = events.OfType<LeadEvent>()
                .Where(e => e.LeadId == id && e.OccurredAt.ToUnixTimeTicks() >= chains[lead].StartTicks)
                .Sum(e => e switch { OrderPlaced o => o.Total.MinorUnits, RefundIssued r => -r.Amount.MinorUnits, _ => 0 });
            for (int k = 0; k < chains[lead].Depth; k++)
            {
                expected[k] += net;
            }
        }

        long[] actual = [.. analysis.Steps.Select(s => s.Money!.Revenue.MinorUnits)];
        long[] byRows = [.. Enumerable.Range(0, 3).Select(k => analysis.Breakdown.Sum(r => r.Money[k].Revenue.MinorUnits))];
        FunnelAnalysis oneThread = FunnelAnalyzer.Analyze(store, query with { MaxDegreeOfParallelism = 1 });
        return actual.SequenceEqual(expected)
            && byRows.SequenceEqual(expected)
            && oneThread.Steps.Select(s => s.Money).SequenceEqual(analysis.Steps.Select(s => s.Money))
            && oneThread.Breakdown.SelectMany(r => r.Money).SequenceEqual(analysis.Breakdown.SelectMany(r => r.Money));
    });

    private static Arbitrary<FunnelEvent[]> Streams() =>
        Gen.ArrayOf(
            from lead in Gen.Choose(1, 6)
            from kind in Gen.Choose(0, 4)
            from minute in Gen.Choose(0, 40)
            from amount in Gen.Choose(1, 500)
            from channel in Gen.Elements("facebook", "google", null)
            select kind switch
            {
                0 => E(lead, "page_viewed", minute, channel),
                1 => OptIn(lead, minute),
                2 => Order(lead, minute, amount),
                3 => Refund(lead, minute, amount / 2m),
                _ => Spend(channel ?? "facebook", amount),
            })
        .ToArbitrary();
}
