using System.Collections.Immutable;
using Funnel.Definitions;
using Funnel.Events;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using static Funnel.Analytics.Tests.AnalyticsTestData;

namespace Funnel.Analytics.Tests.Funnels;

public class FunnelAnalyzerProperties
{
    private static string TypeName(int type) => "type_" + (char)('a' + type);

    private static (AnalyticsEventStore Store, FunnelQuery Query) Build(FunnelCase c, bool shuffle = false)
    {
        IEnumerable<(int Lead, int Minute, int Type)> events = shuffle ? c.Events.Reverse() : c.Events;
        AnalyticsEventStore store = AnalyticsEventStore.Load(events.Select(e => E(e.Lead, TypeName(e.Type), e.Minute)));
        var query = new FunnelQuery
        {
            Funnel = FunnelOf([.. Enumerable.Range(0, c.Steps).Select(TypeName)]),
            Window = Duration.FromMinutes(c.WindowMinutes),
            StrictOrder = c.Strict,
            Exclusions = c.Exclusions ? [EventMatch.For(TypeName(c.Steps))] : [],
        };
        return (store, query);
    }

    [Property(MaxTest = 500)]
    public Property EveryLead_AgreesWithTheBruteForceReference_InTheChosenEngine() => AgreesWithReference(null);

    [Property(MaxTest = 300)]
    public Property EveryLead_AgreesWithTheBruteForceReference_InTheScanEngine() => AgreesWithReference(FunnelAnalyzer.Engine.Scan);

    private static Property AgreesWithReference(FunnelAnalyzer.Engine? engine) => Prop.ForAll(FunnelArbitraries.Cases(), c =>
    {
        (AnalyticsEventStore store, FunnelQuery query) = Build(c);
        FunnelAnalyzer.Engine chosen = c.Strict ? FunnelAnalyzer.Engine.Strict : engine ?? FunnelAnalyzer.Engine.Sweep;
        (int Depth, long StartTicks, long EndTicks)[] fast = FunnelAnalyzer.EvaluateLeads(store, query, chosen);
        long window = Duration.FromMinutes(c.WindowMinutes).BclCompatibleTicks;
        for (int lead = 0; lead < store.LeadCount; lead++)
        {
            LeadId id = store.LeadAt(lead);
            BruteForceFunnel.Ev[] mine = [.. c.Events.Where(e => Lead(e.Lead) == id).Select(e => new BruteForceFunnel.Ev(At(e.Minute).ToUnixTimeTicks(), e.Type))];
            (int depth, long start, long end) = BruteForceFunnel.Evaluate(mine, c.Steps, window, c.Strict, c.Exclusions);
            if (fast[lead].Depth != depth || (depth > 0 && (fast[lead].StartTicks != start || fast[lead].EndTicks != end)))
            {
                return false.Label($"{chosen} lead {lead}: fast {fast[lead]} vs reference ({depth}, {start}, {end})");
            }
        }

        return true.ToProperty();
    });

    [Property(MaxTest = 300)]
    public Property StepCounts_NeverIncrease_AndMatchTheReferenceTotals() => Prop.ForAll(FunnelArbitraries.Cases(), c =>
    {
        (AnalyticsEventStore store, FunnelQuery query) = Build(c);
        FunnelAnalysis analysis = FunnelAnalyzer.Analyze(store, query with { MaxDegreeOfParallelism = 2 });
        long[] counts = [.. analysis.Steps.Select(s => s.Reached)];
        long window = Duration.FromMinutes(c.WindowMinutes).BclCompatibleTicks;
        int[] depths = [.. c.Events.GroupBy(e => e.Lead).Select(g => BruteForceFunnel.Evaluate(
            [.. g.Select(e => new BruteForceFunnel.Ev(At(e.Minute).ToUnixTimeTicks(), e.Type))], c.Steps, window, c.Strict, c.Exclusions).Depth)];
        long[] expected = [.. Enumerable.Range(1, c.Steps).Select(k => (long)depths.Count(d => d >= k))];
        return (counts.Zip(counts.Skip(1)).All(p => p.First >= p.Second) && counts.SequenceEqual(expected))
            .Label($"counts [{string.Join(",", counts)}] expected [{string.Join(",", expected)}]");
    });

    [Property(MaxTest = 200)]
    public Property LoadOrder_DoesNotChangeTheCounts() => Prop.ForAll(FunnelArbitraries.Cases(), c =>
    {
        (AnalyticsEventStore a, FunnelQuery query) = Build(c);
        (AnalyticsEventStore b, _) = Build(c, shuffle: true);
        ImmutableArray<FunnelStepAnalysis> x = FunnelAnalyzer.Analyze(a, query).Steps;
        ImmutableArray<FunnelStepAnalysis> y = FunnelAnalyzer.Analyze(b, query).Steps;
        return x.Select(s => s.Reached).SequenceEqual(y.Select(s => s.Reached));
    });
}

/// <summary>The counting kernels (the AVX2 one, two leads at a time, and the scalar one) against the brute force.</summary>
public class FunnelCountingProperties
{
    private static string TypeName(int type) => "type_" + (char)('a' + type);

    /// <summary>Many leads of a few events each, at colliding minutes, so pairs of leads of unequal length and ties both occur.</summary>
    private static Arbitrary<FunnelCase> ManyLeads()
    {
        Gen<FunnelCase> gen =
            from steps in Gen.Choose(1, 4)
            from window in Gen.Elements(0, 2, 5, 10, 1000)
            from events in Gen.ArrayOf(
                from lead in Gen.Choose(1, 25)
                from minute in Gen.Choose(0, 40)
                from type in Gen.Choose(0, steps + 1)
                select (lead, minute, type))
            select new FunnelCase(steps, window, false, false, events);
        return gen.ToArbitrary();
    }

    [Property(MaxTest = 400)]
    public Property CountKernels_AgreeWithTheBruteForceReference() => Prop.ForAll(ManyLeads(), c =>
    {
        AnalyticsEventStore store = AnalyticsEventStore.Load(c.Events.Select(e => E(e.Lead, TypeName(e.Type), e.Minute)));
        var query = new FunnelQuery
        {
            Funnel = FunnelOf([.. Enumerable.Range(0, c.Steps).Select(TypeName)]),
            Window = Duration.FromMinutes(c.WindowMinutes),
        };
        long window = query.Window.BclCompatibleTicks;
        var expected = new long[c.Steps + 1];
        foreach (IGrouping<int, (int Lead, int Minute, int Type)> lead in c.Events.GroupBy(e => e.Lead))
        {
            expected[BruteForceFunnel.Evaluate([.. lead.Select(e => new BruteForceFunnel.Ev(At(e.Minute).ToUnixTimeTicks(), e.Type))], c.Steps, window, false, false).Depth]++;
        }

        long[] vector = FunnelAnalyzer.CountDepths(store, query, vector: true);
        long[] scalar = FunnelAnalyzer.CountDepths(store, query, vector: false);
        long[] reached = [.. FunnelAnalyzer.Analyze(store, query with { MaxDegreeOfParallelism = 1 }).Steps.Select(s => s.Reached)];
        long[] expectedReached = [.. Enumerable.Range(1, c.Steps).Select(k => expected.Skip(k).Sum())];
        return (vector.SequenceEqual(expected) && scalar.SequenceEqual(expected) && reached.SequenceEqual(expectedReached))
            .Label($"vector [{string.Join(",", vector)}] scalar [{string.Join(",", scalar)}] analysis [{string.Join(",", reached)}] expected [{string.Join(",", expected)}]");
    });
}
