using BenchmarkDotNet.Attributes;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Samples.EbookMasterclass;

namespace Funnel.Benchmarks;

/// <summary>The funnel report over the E-Book Masterclass traffic: the hot path of every KPI dashboard refresh.</summary>
[MemoryDiagnoser]
public class FunnelReportBenchmarks
{
    private readonly FunnelReporter reporter = new();
    private IReadOnlyList<FunnelEvent> events = [];

    /// <summary>Visitors simulated; about 2.3 events per visitor with the case study's shares.</summary>
    [Params(50_000, 500_000)]
    public int Visitors { get; set; }

    [GlobalSetup]
    public void Setup() => events = MasterclassScenario.GenerateEvents(new ScenarioOptions { Visitors = Visitors });

    [Benchmark]
    public FunnelReport CreateReport() => reporter.CreateReport(MasterclassScenario.Funnel, events);
}
