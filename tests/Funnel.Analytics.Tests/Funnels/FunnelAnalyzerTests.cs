using System.Collections.Immutable;
using Funnel.Analytics.Experiments;
using Funnel.Definitions;
using Funnel.Events;
using NodaTime;
using static Funnel.Analytics.Tests.AnalyticsTestData;

namespace Funnel.Analytics.Tests.Funnels;

/// <summary>Each documented semantic of the ordered funnel (see docs/analytics.md), one test each.</summary>
public class FunnelAnalyzerTests
{
    private static long[] Counts(FunnelQuery query, params FunnelEvent[] events) =>
        [.. FunnelAnalyzer.Analyze(AnalyticsEventStore.Load(events), query).Steps.Select(s => s.Reached)];

    private static FunnelQuery Query(params string[] types) => new() { Funnel = FunnelOf(types), Window = Duration.FromDays(7) };

    [Fact]
    public void Analyze_LastStepExactlyAtTheWindowEnd_Counts() =>
        Counts(Query("step_a", "step_b"), E(1, "step_a", 0), E(1, "step_b", 7 * 24 * 60)).ShouldBe([1L, 1L]);

    [Fact]
    public void Analyze_LastStepOneSecondAfterTheWindow_DoesNotCount() =>
        Counts(Query("step_a", "step_b"), E(1, "step_a", 0), E(1, "step_b", (7 * 24 * 60) + (1.0 / 60))).ShouldBe([1L, 0L]);

    [Fact]
    public void Analyze_WindowMeasuredFromTheFirstStep_NotFromThePrevious()
    {
        // b is 4 days after a, c 4 days after b: 8 days after a, outside the 7-day window.
        Counts(Query("step_a", "step_b", "step_c"), E(1, "step_a", 0), E(1, "step_b", 4 * 1440), E(1, "step_c", 8 * 1440)).ShouldBe([1L, 1L, 0L]);
    }

    [Fact]
    public void Analyze_SameInstantLoadedOutOfOrder_ChainsInStepOrder() =>
        Counts(Query("step_a", "step_b"), E(1, "step_b", 5), E(1, "step_a", 5)).ShouldBe([1L, 1L]);

    [Fact]
    public void Analyze_StepsOutOfOrderInTime_DoNotChain() =>
        Counts(Query("step_a", "step_b"), E(1, "step_b", 1), E(1, "step_a", 5)).ShouldBe([1L, 0L]);

    [Fact]
    public void Analyze_UnrelatedEventsInBetween_DoNotBreakTheChain() =>
        Counts(Query("step_a", "step_b"), E(1, "step_a", 0), E(1, "other", 1), E(1, "step_c", 2), E(1, "step_b", 3)).ShouldBe([1L, 1L]);

    [Fact]
    public void Analyze_ReentryGivesALongerChain_TheLaterStartCounts()
    {
        // The first start's window passes before b; the re-entry 10 days later reaches b.
        var query = Query("step_a", "step_b") with { IncludeTimeToConvert = true, Breakdown = FunnelBreakdown.Channel };
        FunnelAnalysis result = FunnelAnalyzer.Analyze(
            AnalyticsEventStore.Load([E(1, "step_a", 0, "facebook"), E(1, "step_a", 10 * 1440, "google"), E(1, "step_b", (10 * 1440) + 30)]),
            query);

        result.Steps.Select(s => s.Reached).ShouldBe([1L, 1L]);
        result.Steps[1].MedianTimeToConvert.ShouldBe(Duration.FromMinutes(30));
        result.Breakdown.Single().Value.ShouldBe("google");
    }

    [Fact]
    public void Analyze_TwoStartsReachTheSameStep_TheLatestStartWins()
    {
        var query = Query("step_a", "step_b") with { IncludeTimeToConvert = true, Breakdown = FunnelBreakdown.Channel };
        FunnelAnalysis result = FunnelAnalyzer.Analyze(
            AnalyticsEventStore.Load([E(1, "step_a", 0, "facebook"), E(1, "step_a", 60, "google"), E(1, "step_b", 90)]),
            query);

        result.Steps[1].MedianTimeToConvert.ShouldBe(Duration.FromMinutes(30));
        result.Breakdown.Single().Value.ShouldBe("google");
    }

    [Fact]
    public void Analyze_StrictOrder_AnotherStepInBetweenBreaksTheChain()
    {
        FunnelEvent[] events = [E(1, "step_a", 0), E(1, "step_c", 1), E(1, "step_b", 2), E(1, "step_c", 3)];

        Counts(Query("step_a", "step_b", "step_c"), events).ShouldBe([1L, 1L, 1L]);
        Counts(Query("step_a", "step_b", "step_c") with { StrictOrder = true }, events).ShouldBe([1L, 0L, 0L]);
    }

    [Fact]
    public void Analyze_StrictOrder_UnrelatedEventsStillAllowed() =>
        Counts(Query("step_a", "step_b") with { StrictOrder = true }, E(1, "step_a", 0), E(1, "other", 1), E(1, "step_b", 2)).ShouldBe([1L, 1L]);

    [Fact]
    public void Analyze_ExclusionAfterTheStart_StopsTheChainBeforeLaterSteps()
    {
        var query = Query("step_a", "step_b", "step_c") with { Exclusions = [EventMatch.For("refund_issued")] };

        Counts(query, E(1, "step_a", 0), E(1, "step_b", 1), E(1, "refund_issued", 2), E(1, "step_c", 3)).ShouldBe([1L, 1L, 0L]);
        Counts(query, E(1, "step_a", 0), E(1, "step_b", 1), E(1, "refund_issued", 3), E(1, "step_c", 3)).ShouldBe([1L, 1L, 1L]);
    }

    [Fact]
    public void Analyze_SubjectPrefixTriggers_MatchLikeEventMatch()
    {
        FunnelDefinition funnel = FunnelBuilder.Create("f", "F").WithDefaultStages()
            .AddStep("blog", "Blog", DefaultStages.Awareness.Key, StepKind.Content, EventMatch.For(EventTypes.PageViewed, "/blog/*"))
            .AddStep("optin", "Opt-in", DefaultStages.Interest.Key, StepKind.OptIn, EventMatch.For(EventTypes.OptedIn, "guide"))
            .Build();
        FunnelEvent[] events =
        [
            new PageViewed { LeadId = Lead(1), OccurredAt = At(0), Page = "/blog/post" },
            new OptedIn { LeadId = Lead(1), OccurredAt = At(1), Magnet = "guide" },
            new PageViewed { LeadId = Lead(2), OccurredAt = At(0), Page = "/about" },
            new OptedIn { LeadId = Lead(2), OccurredAt = At(1), Magnet = "guide" },
        ];

        Counts(new FunnelQuery { Funnel = funnel }, events).ShouldBe([1L, 1L]);
    }

    [Fact]
    public void Analyze_TimeToConvert_ReportsMedianAndNinetiethPercentile()
    {
        FunnelEvent[] events = [.. Enumerable.Range(1, 10).SelectMany(i => new[] { E(i, "step_a", 0), E(i, "step_b", i) })];

        FunnelAnalysis result = FunnelAnalyzer.Analyze(AnalyticsEventStore.Load(events), Query("step_a", "step_b") with { IncludeTimeToConvert = true });

        result.Steps[0].MedianTimeToConvert.ShouldBeNull();
        result.Steps[1].MedianTimeToConvert.ShouldBe(Duration.FromMinutes(5));
        result.Steps[1].P90TimeToConvert.ShouldBe(Duration.FromMinutes(9));
    }

    [Fact]
    public void Analyze_DropOffs_ListTheLeadsWhoStoppedAtEachStep()
    {
        FunnelEvent[] events = [E(1, "step_a", 0), E(2, "step_a", 0), E(2, "step_b", 1), E(3, "step_a", 0), E(3, "step_b", 1), E(3, "step_c", 2)];

        FunnelAnalysis result = FunnelAnalyzer.Analyze(AnalyticsEventStore.Load(events), Query("step_a", "step_b", "step_c") with { IncludeDropOffs = true });

        result.Steps[0].DroppedOff.ShouldBe([Lead(1)]);
        result.Steps[1].DroppedOff.ShouldBe([Lead(2)]);
        result.Steps[2].DroppedOff.ShouldBeEmpty();
    }

    [Fact]
    public void Analyze_BreakdownByProperty_UsesTheStartEventsValue()
    {
        var store = AnalyticsEventStore.Load(
            [
                E(1, "step_a", 0) with { Properties = ImmutableDictionary<string, string>.Empty.Add("device", "mobile") },
                E(1, "step_b", 1),
                E(2, "step_a", 0) with { Properties = ImmutableDictionary<string, string>.Empty.Add("device", "desktop") },
            ],
            new AnalyticsStoreOptions { PropertyKeys = ["device"] });

        FunnelAnalysis result = FunnelAnalyzer.Analyze(store, Query("step_a", "step_b") with { Breakdown = FunnelBreakdown.Property("device") });

        result.Breakdown.Single(r => r.Value == "mobile").Reached.ShouldBe([1L, 1L]);
        result.Breakdown.Single(r => r.Value == "desktop").Reached.ShouldBe([1L, 0L]);
    }

    [Fact]
    public void Analyze_BreakdownByUncapturedProperty_ThrowsNamingIt()
    {
        var store = AnalyticsEventStore.Load([E(1, "step_a", 0)]);

        Should.Throw<ArgumentException>(() => FunnelAnalyzer.Analyze(store, Query("step_a") with { Breakdown = FunnelBreakdown.Property("device") }))
            .Message.ShouldContain("'device'");
    }

    [Fact]
    public void Analyze_BreakdownByVariant_GroupsByTheExposure()
    {
        var store = AnalyticsEventStore.Load(
        [
            new ExperimentExposed { LeadId = Lead(1), OccurredAt = At(0), Experiment = "headline", Variant = "control" },
            E(1, "step_a", 1), E(1, "step_b", 2),
            new ExperimentExposed { LeadId = Lead(2), OccurredAt = At(0), Experiment = "headline", Variant = "bold" },
            E(2, "step_a", 1),
        ]);

        FunnelAnalysis result = FunnelAnalyzer.Analyze(store, Query("step_a", "step_b") with { Breakdown = FunnelBreakdown.Variant("headline") });

        result.Breakdown.Single(r => r.Value == "control").Reached.ShouldBe([1L, 1L]);
        result.Breakdown.Single(r => r.Value == "bold").Reached.ShouldBe([1L, 0L]);
    }

    [Fact]
    public void Analyze_CohortsByFirstTouchWeek_GroupByTheMondayOfTheFirstEvent()
    {
        // Start is Monday 2026-10-05; lead 2 first appears 8 days later, in the next week.
        var store = AnalyticsEventStore.Load([E(1, "step_a", 60), E(2, "other", 8 * 1440), E(2, "step_a", (8 * 1440) + 1)]);

        FunnelAnalysis result = FunnelAnalyzer.Analyze(store, Query("step_a") with { Breakdown = FunnelBreakdown.FirstTouchWeek() });

        result.Breakdown.Select(r => r.Value).Order(StringComparer.Ordinal).ShouldBe(["2026-10-05", "2026-10-12"]);
    }

    [Fact]
    public void Analyze_NegativeWindow_ThrowsValidationNamingTheWindow()
    {
        var store = AnalyticsEventStore.Load([E(1, "step_a", 0)]);

        Should.Throw<FluentValidation.ValidationException>(() => FunnelAnalyzer.Analyze(store, Query("step_a") with { Window = Duration.FromDays(-1) }))
            .Message.ShouldContain("Window");
    }

    [Fact]
    public void Analyze_ParallelAndSequential_GiveTheSameCounts()
    {
        FunnelEvent[] events = [.. Enumerable.Range(1, 500).SelectMany(i => new[] { E(i, "step_a", i), E(i, i % 3 == 0 ? "step_b" : "other", i + 1) })];
        var store = AnalyticsEventStore.Load(events);

        long[] one = [.. FunnelAnalyzer.Analyze(store, Query("step_a", "step_b") with { MaxDegreeOfParallelism = 1 }).Steps.Select(s => s.Reached)];
        long[] many = [.. FunnelAnalyzer.Analyze(store, Query("step_a", "step_b") with { MaxDegreeOfParallelism = 4 }).Steps.Select(s => s.Reached)];

        one.ShouldBe([500L, 166L]);
        many.ShouldBe(one);
    }
}
