using Funnel.Events;
using Funnel.Leads;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using static Funnel.Analytics.Tests.AnalyticsTestData;

namespace Funnel.Analytics.Tests.Funnels;

/// <summary>A visitor id linked to a lead by <c>identity_linked</c> counts as that lead in every analysis.</summary>
public class IdentityMergeTests
{
    private static readonly FunnelQuery Query = new()
    {
        Funnel = FunnelOf("landing", EventTypes.OptedIn, EventTypes.SalesPageVisited, EventTypes.CheckoutStarted),
        Window = Duration.FromDays(7),
        IncludeDropOffs = true,
    };

    private static IdentityLinked Link(int visitor, int lead, double minute) =>
        new() { VisitorId = Lead(visitor), LeadId = Lead(lead), OccurredAt = At(minute) };

    /// <summary>Device A (lead 1): the landing page and the opt-in; device B (visitor 2): the sales page and the same address again.</summary>
    private static FunnelEvent[] TwoDevices() =>
    [
        E(1, "landing", 0),
        E(1, EventTypes.OptedIn, 2),
        E(2, EventTypes.SalesPageVisited, 1440),
        E(1, EventTypes.OptedIn, 1445),
    ];

    [Fact]
    public void Analyze_VisitorLinkedAtTheSecondOptIn_CountsOnePersonThroughBothDevicesSteps()
    {
        AnalyticsEventStore store = AnalyticsEventStore.Load([.. TwoDevices(), Link(2, 1, 1445)]);

        FunnelAnalysis result = FunnelAnalyzer.Analyze(store, Query);

        store.LeadCount.ShouldBe(1);
        store.LeadAt(0).ShouldBe(Lead(1));
        result.Steps.Select(s => s.Reached).ShouldBe([1L, 1L, 1L, 0L]);
        result.Steps[2].DroppedOff.ShouldBe([Lead(1)]);
    }

    [Fact]
    public void Analyze_WithoutTheLink_CountsTwoPeopleAndTheSalesPageIsLost()
    {
        AnalyticsEventStore store = AnalyticsEventStore.Load(TwoDevices());

        FunnelAnalysis result = FunnelAnalyzer.Analyze(store, Query);

        store.LeadCount.ShouldBe(2);
        result.Steps.Select(s => s.Reached).ShouldBe([1L, 1L, 0L, 0L]);
    }

    [Fact]
    public void Load_LinkBeforeTheVisitorsEvents_MergesThemAllTheSame()
    {
        AnalyticsEventStore store = AnalyticsEventStore.Load([Link(2, 1, 1445), .. TwoDevices().Reverse()]);

        store.LeadCount.ShouldBe(1);
        FunnelAnalyzer.Analyze(store, Query).Steps.Select(s => s.Reached).ShouldBe([1L, 1L, 1L, 0L]);
    }

    [Fact]
    public void WriteToAndReadFrom_MergedStore_KeepsOneLead()
    {
        AnalyticsEventStore store = AnalyticsEventStore.Load([.. TwoDevices(), Link(2, 1, 1445)]);
        using var stream = new MemoryStream();
        store.WriteTo(stream);
        stream.Position = 0;

        AnalyticsEventStore read = AnalyticsEventStore.ReadFrom(stream);

        read.LeadCount.ShouldBe(1);
        FunnelAnalyzer.Analyze(read, Query).Steps.Select(s => s.Reached).ShouldBe([1L, 1L, 1L, 0L]);
    }

    /// <summary>Step events and links among a few ids, at colliding minutes, so that chains, repeats and cycles occur.</summary>
    private static Arbitrary<FunnelEvent[]> Streams() =>
        Gen.ArrayOf(
            from lead in Gen.Choose(1, 6)
            from other in Gen.Choose(1, 6)
            from kind in Gen.Choose(0, 4)
            from minute in Gen.Choose(0, 60)
            select kind == 4
                ? (FunnelEvent)Link(other, lead, minute)
                : E(lead, Query.Funnel.Steps[kind].Trigger.EventType, minute)).ToArbitrary();

    [Property]
    public Property Analyze_WithLinks_EqualsTheEventsWithTheirIdsResolvedBeforehand() => Prop.ForAll(Streams(), events =>
    {
        LeadAliases aliases = LeadAliases.From(events.OfType<IdentityLinked>());
        FunnelEvent[] resolved = [.. events.Where(e => e is not IdentityLinked).Select(e => (FunnelEvent)((LeadEvent)e with { LeadId = aliases.Resolve(((LeadEvent)e).LeadId) }))];
        FunnelEvent[] linksAsResolved = [.. events.OfType<IdentityLinked>().Select(l => (FunnelEvent)(l with { LeadId = aliases.Resolve(l.LeadId), VisitorId = aliases.Resolve(l.LeadId) }))];

        AnalyticsEventStore merged = AnalyticsEventStore.Load(events);
        AnalyticsEventStore expected = AnalyticsEventStore.Load([.. resolved, .. linksAsResolved]);

        return merged.LeadCount == expected.LeadCount
            && FunnelAnalyzer.Analyze(merged, Query).Steps.Select(s => s.Reached)
                .SequenceEqual(FunnelAnalyzer.Analyze(expected, Query).Steps.Select(s => s.Reached));
    });
}
