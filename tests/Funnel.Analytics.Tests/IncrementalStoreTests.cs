using FluentValidation;
using Funnel.Events;
using Funnel.Leads;
using NodaTime;
using static Funnel.Analytics.Tests.AnalyticsTestData;

namespace Funnel.Analytics.Tests;

public class IncrementalStoreTests
{
    private static readonly Money Price = Money.FromMajor(100m, Currency.USD);

    private static FunnelQuery Query(params string[] steps) => new() { Funnel = FunnelOf(steps), MaxDegreeOfParallelism = 1 };

    private static long[] Reached(FunnelAnalysis analysis) => [.. analysis.Steps.Select(s => s.Reached)];

    [Fact]
    public void Analyze_AppendToExistingAndNewLeads_CountsThemWithoutARebuild()
    {
        var store = new IncrementalAnalyticsStore(AnalyticsEventStore.Load([E(1, "visit", 0), E(2, "visit", 0)]));

        store.Append(E(1, "buy", 5)).ShouldBeTrue();
        store.Append(Lead(3), At(1), "visit").ShouldBe(1);
        store.Append(Lead(3), At(2), "buy");

        Reached(FunnelAnalyzer.Analyze(store, Query("visit", "buy"))).ShouldBe([3L, 2L]);
        (store.LeadCount, store.EventCount, store.AppendedCount, store.BaseStore.EventCount).ShouldBe((3, 5, 3, 2));
    }

    [Fact]
    public void Analyze_WithMoney_CountsAppendedOrdersRefundsAndSpend()
    {
        Money Usd(long cents) => Money.FromMinorUnits(cents, Currency.USD);
        var store = new IncrementalAnalyticsStore(AnalyticsEventStore.Load(
        [
            E(1, "visit", 0),
            new OrderPlaced { LeadId = Lead(1), OccurredAt = At(1), Order = OrderId.New(), Offer = "o", Total = Usd(4_900) },
            new AdSpendRecorded { OccurredAt = At(0), Amount = Usd(3_000) },
        ]));

        store.Append(new RefundIssued { LeadId = Lead(1), OccurredAt = At(30), Order = OrderId.New(), Amount = Usd(900) });
        store.Append(E(2, "visit", 10));
        store.Append(new OrderPlaced { LeadId = Lead(2), OccurredAt = At(70), Order = OrderId.New(), Offer = "o", Total = Usd(2_000) });
        store.Append(new AdSpendRecorded { OccurredAt = At(5), Amount = Usd(3_000) });

        FunnelMoney money = FunnelAnalyzer.Analyze(store, Query("visit") with { IncludeMoney = true }).Steps[0].Money!;

        (money.Revenue, money.AdSpend, money.AcquisitionCost).ShouldBe((Usd(6_000), Usd(6_000), Usd(3_000)));
        money.PaybackPeriod.ShouldBe(Duration.FromMinutes(60)); // 49, then 49 − 9 = 40, then 60 ≥ 60 at lead 2's order, 60 minutes after its visit
    }

    [Fact]
    public void Analyze_AppendedEventBeforeTheBase_IsMergedInTimeOrder()
    {
        var store = new IncrementalAnalyticsStore(AnalyticsEventStore.Load([E(1, "buy", 10)]));

        store.Append(E(1, "visit", 5));

        Reached(FunnelAnalyzer.Analyze(store, Query("visit", "buy"))).ShouldBe([1L, 1L]);
    }

    [Fact]
    public void Analyze_SameInstantStepZeroEvents_ReportsTheLastInLoadOrderLikeAFullLoad()
    {
        FunnelEvent[] all = [E(1, "visit", 0, "web"), E(1, "visit", 0, "ads"), E(1, "visit", 0, "mail")];
        FunnelQuery query = Query("visit") with { Breakdown = FunnelBreakdown.Channel };
        IncrementalAnalyticsStore store = IncrementalAnalyticsStore.Load(all[..1]);
        store.AppendRange(all[1..]);

        FunnelAnalyzer.Analyze(AnalyticsEventStore.Load(all), query).Breakdown.Single().Value.ShouldBe("mail");
        FunnelAnalyzer.Analyze(store, query).Breakdown.Single().Value.ShouldBe("mail");
    }

    [Fact]
    public void Append_ReplayOfALoadedEvent_IsSkippedBeforeAndAfterCompact()
    {
        FunnelEvent visit = E(1, "visit", 0);
        FunnelEvent buy = E(1, "buy", 1);
        IncrementalAnalyticsStore store = IncrementalAnalyticsStore.Load([visit]);

        store.Append(visit).ShouldBeFalse();
        store.Append(buy).ShouldBeTrue();
        store.Compact();
        store.AppendRange([visit, buy]).ShouldBe(0);

        store.EventCount.ShouldBe(2);
    }

    [Fact]
    public void Append_ReplayWhenDuplicatesAreKept_IsStoredAgain()
    {
        FunnelEvent visit = E(1, "visit", 0);
        IncrementalAnalyticsStore store = IncrementalAnalyticsStore.Load([visit], new AnalyticsStoreOptions { SkipDuplicateIds = false });

        store.Append(visit).ShouldBeTrue();

        store.EventCount.ShouldBe(2);
    }

    [Fact]
    public void Append_EventThatIsNotALeadEvent_IsSkipped()
    {
        var store = new IncrementalAnalyticsStore(AnalyticsEventStore.Load([]));

        store.Append(new AdSpendRecorded { OccurredAt = At(0), Amount = Price }).ShouldBeTrue();

        (store.EventCount, store.Compact().TotalAdSpend).ShouldBe((0, Price));
    }

    [Fact]
    public void Compact_AppendedOrdersAndSpend_GivesTheKpisAndAttributionOfAFullLoad()
    {
        FunnelEvent[] all =
        [
            E(1, "page_viewed", 0, "facebook"),
            new OptedIn { LeadId = Lead(1), OccurredAt = At(1), Magnet = "guide" },
            new AdSpendRecorded { OccurredAt = At(0), Attribution = new Attribution { Channel = "facebook" }, Amount = Money.FromMajor(50m, Currency.USD) },
            new OrderPlaced { LeadId = Lead(1), OccurredAt = At(2), Order = OrderId.New(), Offer = "x", Total = Price },
            E(2, "page_viewed", 1440, "google"),
            new OrderPlaced { LeadId = Lead(2), OccurredAt = At(1500), Order = OrderId.New(), Offer = "x", Total = Price },
            new RefundIssued { LeadId = Lead(1), OccurredAt = At(3000), Order = OrderId.New(), Amount = Money.FromMajor(30m, Currency.USD) },
            new AdSpendRecorded { OccurredAt = At(0), Attribution = new Attribution { Channel = "google" }, Amount = Money.FromMajor(20m, Currency.USD) },
        ];
        IncrementalAnalyticsStore store = IncrementalAnalyticsStore.Load(all[..4]);
        store.AppendRange(all[4..]);

        AnalyticsEventStore compacted = store.Compact();
        AnalyticsEventStore full = AnalyticsEventStore.Load(all);

        KpiTimeSeries.Compute(compacted, KpiPeriod.Day, byChannel: true).ShouldBe(KpiTimeSeries.Compute(full, KpiPeriod.Day, byChannel: true));
        AttributionReport ours = RevenueAttribution.Attribute(compacted, AttributionModel.Linear);
        AttributionReport theirs = RevenueAttribution.Attribute(full, AttributionModel.Linear);
        (ours.Revenue, ours.Unattributed).ShouldBe((theirs.Revenue, theirs.Unattributed));
        ours.Channels.ShouldBe(theirs.Channels);
        compacted.TotalAdSpend.ShouldBe(full.TotalAdSpend);
        (store.BaseStore, store.AppendedCount, store.EventCount).ShouldBe((compacted, 0, full.EventCount));
    }

    [Fact]
    public void Compact_NothingAppended_ReturnsTheBase()
    {
        AnalyticsEventStore baseStore = AnalyticsEventStore.Load([E(1, "visit", 0)]);

        new IncrementalAnalyticsStore(baseStore).Compact().ShouldBeSameAs(baseStore);
    }

    [Fact]
    public void Compact_ThenAppend_KeepsCounting()
    {
        IncrementalAnalyticsStore store = IncrementalAnalyticsStore.Load([E(1, "visit", 0)]);
        store.Append(E(2, "visit", 1));
        store.Compact();

        store.Append(E(2, "buy", 2));

        Reached(FunnelAnalyzer.Analyze(store, Query("visit", "buy"))).ShouldBe([2L, 1L]);
        store.Compact().LeadAt(1).ShouldBe(Lead(2));
    }

    [Fact]
    public void Append_IdentityLinkForAVisitorWithoutEvents_ResolvesLaterAppends()
    {
        IncrementalAnalyticsStore store = IncrementalAnalyticsStore.Load([E(1, "visit", 0)]);

        store.Append(new IdentityLinked { LeadId = Lead(1), VisitorId = Lead(9), OccurredAt = At(1) }).ShouldBeTrue();
        store.Append(E(9, "buy", 2));

        Reached(FunnelAnalyzer.Analyze(store, Query("visit", "buy"))).ShouldBe([1L, 1L]);
        store.LeadCount.ShouldBe(1);
    }

    [Fact]
    public void Append_IdentityLinkLoadedWithTheBase_ResolvesAppendsOfTheVisitor()
    {
        IncrementalAnalyticsStore store = IncrementalAnalyticsStore.Load(
            [E(1, "visit", 0), new IdentityLinked { LeadId = Lead(1), VisitorId = Lead(9), OccurredAt = At(1) }]);

        store.Append(E(9, "buy", 2));

        Reached(FunnelAnalyzer.Analyze(store, Query("visit", "buy"))).ShouldBe([1L, 1L]);
    }

    [Fact]
    public void Append_IdentityLinkForAVisitorWithStoredEvents_MergesTheVisitorIntoTheLead()
    {
        FunnelEvent[] all =
        [
            E(9, "visit", 0, "ads"), E(1, "opted_in", 1),
            E(9, "sales_page", 2), new IdentityLinked { LeadId = Lead(1), VisitorId = Lead(9), OccurredAt = At(3) }, E(1, "buy", 4),
        ];
        FunnelQuery query = Query("visit", "opted_in", "sales_page", "buy") with { Breakdown = FunnelBreakdown.Channel, IncludeDropOffs = true };
        IncrementalAnalyticsStore store = IncrementalAnalyticsStore.Load(all[..2]);

        store.AppendRange(all[2..]);

        FunnelAnalysis full = FunnelAnalyzer.Analyze(AnalyticsEventStore.Load(all), query);
        FunnelAnalysis ours = FunnelAnalyzer.Analyze(store, query);
        Reached(ours).ShouldBe(Reached(full));
        Reached(ours).ShouldBe([1L, 1L, 1L, 1L]);
        (ours.Leads, ours.Events, ours.Breakdown.Single().Value).ShouldBe((1L, 5L, "ads"));
        store.Compact().LeadCount.ShouldBe(1);
        Reached(FunnelAnalyzer.Analyze(store.BaseStore, query)).ShouldBe(Reached(full));
    }

    [Fact]
    public void Append_EarlierLinkOfAVisitorAlreadyLinkedToAnotherLead_ThrowsAndStoresNothing()
    {
        IncrementalAnalyticsStore store = IncrementalAnalyticsStore.Load(
            [E(9, "visit", 0), E(1, "opted_in", 1), new IdentityLinked { LeadId = Lead(1), VisitorId = Lead(9), OccurredAt = At(5) }]);

        InvalidOperationException e = Should.Throw<InvalidOperationException>(
            () => store.Append(new IdentityLinked { LeadId = Lead(2), VisitorId = Lead(9), OccurredAt = At(2) }));

        e.Message.ShouldContain("cannot tell them apart");
        store.EventCount.ShouldBe(3);
    }

    [Fact]
    public void Append_Null_ThrowsNamingTheEvent() =>
        Should.Throw<ArgumentNullException>(() => new IncrementalAnalyticsStore(AnalyticsEventStore.Load([])).Append(null!)).ParamName.ShouldBe("funnelEvent");

    [Fact]
    public void Append_EmptyLeadId_ThrowsNamingTheEvent() =>
        Should.Throw<ArgumentException>(() => new IncrementalAnalyticsStore(AnalyticsEventStore.Load([])).Append(new GenericEvent { LeadId = default, OccurredAt = At(0), Type = "visit" }))
            .ParamName.ShouldBe("funnelEvent");

    [Fact]
    public void AppendColumns_EmptyLeadOrNullType_ThrowsNamingTheArgument()
    {
        var store = new IncrementalAnalyticsStore(AnalyticsEventStore.Load([]));

        Should.Throw<ArgumentException>(() => store.Append(default, At(0), "visit")).ParamName.ShouldBe("lead");
        Should.Throw<ArgumentNullException>(() => store.Append(Lead(1), At(0), null!)).ParamName.ShouldBe("eventType");
    }

    [Fact]
    public void AppendRange_NullOrNullItem_ThrowsNamingTheEvents()
    {
        var store = new IncrementalAnalyticsStore(AnalyticsEventStore.Load([]));

        Should.Throw<ArgumentNullException>(() => store.AppendRange(null!)).ParamName.ShouldBe("events");
        Should.Throw<ArgumentNullException>(() => store.AppendRange([E(1, "visit", 0), null!])).ParamName.ShouldBe("events");
    }

    [Fact]
    public void Append_AmountInAnotherCurrency_Throws()
    {
        IncrementalAnalyticsStore store = IncrementalAnalyticsStore.Load(
            [new OrderPlaced { LeadId = Lead(1), OccurredAt = At(0), Order = OrderId.New(), Offer = "x", Total = Price }]);

        Should.Throw<InvalidOperationException>(() => store.Append(
            new OrderPlaced { LeadId = Lead(1), OccurredAt = At(1), Order = OrderId.New(), Offer = "x", Total = Money.FromMajor(1m, Currency.EUR) }))
            .Message.ShouldContain("one currency");
    }

    [Fact]
    public void Append_FirstAmountToABaseWithoutAmounts_SetsTheCurrency()
    {
        var store = new IncrementalAnalyticsStore(AnalyticsEventStore.Load([E(1, "visit", 0)]));

        store.Append(new OrderPlaced { LeadId = Lead(1), OccurredAt = At(1), Order = OrderId.New(), Offer = "x", Total = Money.FromMajor(1m, Currency.EUR) });

        store.Compact().Currency.ShouldBe(Currency.EUR);
    }

    [Fact]
    public void Constructor_NullOrOtherPropertyKeys_ThrowsNamingTheArgument()
    {
        AnalyticsEventStore baseStore = AnalyticsEventStore.Load([], new AnalyticsStoreOptions { PropertyKeys = ["plan"] });

        Should.Throw<ArgumentNullException>(() => new IncrementalAnalyticsStore(null!)).ParamName.ShouldBe("baseStore");
        Should.Throw<ArgumentException>(() => new IncrementalAnalyticsStore(baseStore, new AnalyticsStoreOptions { PropertyKeys = ["tier"] }))
            .ParamName.ShouldBe("options");
        new IncrementalAnalyticsStore(baseStore, new AnalyticsStoreOptions { PropertyKeys = ["plan"] }).BaseStore.ShouldBeSameAs(baseStore);
    }

    [Fact]
    public void Load_Null_ThrowsNamingTheEvents() =>
        Should.Throw<ArgumentNullException>(() => IncrementalAnalyticsStore.Load(null!)).ParamName.ShouldBe("events");

    [Fact]
    public void Analyze_NullOrInvalidArguments_ThrowsNamingThem()
    {
        var store = new IncrementalAnalyticsStore(AnalyticsEventStore.Load([E(1, "visit", 0)]));

        Should.Throw<ArgumentNullException>(() => FunnelAnalyzer.Analyze((IncrementalAnalyticsStore)null!, Query("visit"))).ParamName.ShouldBe("store");
        Should.Throw<ArgumentNullException>(() => FunnelAnalyzer.Analyze(store, null!)).ParamName.ShouldBe("query");
        Should.Throw<ValidationException>(() => FunnelAnalyzer.Analyze(store, Query("visit") with { Window = NodaTime.Duration.FromDays(-1) }))
            .Message.ShouldContain("Window");
        Should.Throw<ArgumentException>(() => FunnelAnalyzer.Analyze(store, Query("visit") with { Breakdown = FunnelBreakdown.Property("plan") }))
            .Message.ShouldContain("'plan' was not captured");
    }

    [Fact]
    public void Analyze_EmptyStore_CountsNothing()
    {
        var store = new IncrementalAnalyticsStore(AnalyticsEventStore.Load([]));

        FunnelAnalysis analysis = FunnelAnalyzer.Analyze(store, Query("visit"));

        (analysis.Leads, analysis.Events, analysis.Steps[0].Reached).ShouldBe((0L, 0L, 0L));
    }
}
