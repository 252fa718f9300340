using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using Funnel.Analytics.Experiments;
using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Tests;

public class DashboardExperimentsTests
{
    private static readonly Experiment Headline = new() { Key = "headline", Variants = [new("control"), new("bold", 1)] };

    private static readonly ExperimentStatisticsSettings Settings =
        ExperimentStatisticsSettings.Default with { Correction = MultipleTestingCorrection.HolmBonferroni };

    [Fact]
    public async Task Experiments_ExposuresAndOrders_ShowTheLibrarysStatistics()
    {
        await using DashboardHost host = await StartAsync(services => services.AddFunnelAnalytics().AddSingleton(Headline));
        await ExposeAsync(host, "headline", ("control", 200, 20), ("bold", 200, 40));
        var log = (InMemoryFunnelEventLog)host.Services.GetRequiredService<IFunnelEventLog>();
        ImmutableDictionary<string, CovariateSample> exposed = ExperimentCovariates.Conversions(log.Snapshot(), "headline", EventTypes.OrderPlaced, Duration.FromDays(30));
        Dictionary<string, ConversionSample> samples = exposed.ToDictionary(p => p.Key, p => new ConversionSample((long)p.Value.Sum, p.Value.Count));
        VariantTestResult expected = VariantTest.Evaluate(samples, "control", 0, Settings);
        VariantComparison bold = expected.Comparisons.ShouldHaveSingleItem();
        SampleRatioCheck ratio = ExperimentStatistics.SampleRatioMismatch([200, 200], [1, 1]);
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/experiments");

        samples["bold"].ShouldBe(new ConversionSample(40, 200));
        PageTables.Row(page, "control (control)")[1..5].ShouldBe(["200", "20", Rate(0.1), Interval(ExperimentStatistics.WilsonInterval(20, 200))]);
        PageTables.Row(page, "bold").ShouldBe(
        [
            "bold", "200", "40", Rate(0.2), Interval(ExperimentStatistics.WilsonInterval(40, 200)),
            "+" + Rate(bold.Result.RelativeLift), Interval(bold.Result.RelativeLiftInterval), Rate(bold.Result.ChanceToBeatControl),
            PValue(bold.Result.SequentialPValue), bold.Result.IsSequentiallySignificant ? "Significant: safe to stop" : "Keep running",
            PValue(bold.Verdict.AdjustedPValue), bold.Verdict.Outcome.ToString(),
        ]);
        bold.Verdict.Outcome.ShouldBe(VerdictOutcome.Better);
        string text = WebUtility.HtmlDecode(page);
        text.ShouldContain(expected.Winner is { } w ? $"Winner: {w}." : "No significant winner yet.");
        ratio.IsMismatch.ShouldBeFalse();
        text.ShouldContain(string.Create(CultureInfo.InvariantCulture,
            $"Sample ratio: matches the weights (chi-square {ratio.ChiSquare:0.###}, 1 degrees of freedom, p-value {PValue(ratio.PValue)})."));
        page.ShouldContain("<svg role=\"img\"");
        text.ShouldContain($"aria-label=\"Conversion by variant of headline: control {Rate(0.1)}, bold {Rate(0.2)}\"");
    }

    [Fact]
    public async Task Experiments_SplitOffTheWeights_ReportsASampleRatioMismatch()
    {
        await using DashboardHost host = await StartAsync(services => services.AddFunnelAnalytics().AddSingleton(Headline));
        await ExposeAsync(host, "headline", ("control", 300, 30), ("bold", 200, 20));
        SampleRatioCheck ratio = ExperimentStatistics.SampleRatioMismatch([300, 200], [1, 1]);
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/experiments");

        ratio.IsMismatch.ShouldBeTrue();
        string text = WebUtility.HtmlDecode(page);
        text.ShouldContain("Sample ratio: MISMATCH");
        text.ShouldContain($"p-value {PValue(ratio.PValue)})");
    }

    [Fact]
    public async Task Experiments_UnregisteredExperimentInTheLog_ShownWithoutTheSampleRatioCheck()
    {
        await using DashboardHost host = await StartAsync(services => services.AddFunnelAnalytics());
        await ExposeAsync(host, "price", ("control", 50, 5), ("low", 50, 0));
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/experiments");

        PageTables.Row(page, "low")[1..4].ShouldBe(["50", "0", Rate(0)]);
        page.ShouldContain("Sample ratio: not checked; register the Experiment");
    }

    [Fact]
    public async Task Experiments_RegisteredWithoutExposures_ListsItsVariantsWithNothingToCompare()
    {
        await using DashboardHost host = await StartAsync(services => services.AddFunnelAnalytics().AddSingleton(Headline));
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/experiments");

        PageTables.Row(page, "bold")[1..3].ShouldBe(["0", "0"]);
        page.ShouldContain("Sample ratio: not checked; no exposures yet.");
        page.ShouldContain("No significant winner yet.");
    }

    [Fact]
    public async Task Experiments_HostileKeysInTheLog_AreShownAsText()
    {
        await using DashboardHost host = await StartAsync(services => services.AddFunnelAnalytics());
        await ExposeAsync(host, "test" + Seeds.Hostile, ("control", 10, 1), ("b" + Seeds.Hostile, 10, 2));
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/experiments");

        page.ShouldNotContain("<script>");
        PageTables.Row(page, "b" + Seeds.Hostile)[1..3].ShouldBe(["10", "2"]);
    }

    [Fact]
    public async Task Experiments_AnalyticsNotRegistered_SaysHowToSetItUp()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/experiments");

        page.ShouldContain("Experiments are not set up: call services.AddFunnelAnalytics().");
    }

    private static Task<DashboardHost> StartAsync(Action<IServiceCollection> services) =>
        DashboardHost.StartAsync("Production", o => o.AuthorizationPolicy = DashboardHost.Policy, true, services);

    /// <summary>Exposes leads to each variant, and has the first <c>converted</c> of them order after their exposure.</summary>
    private static async Task ExposeAsync(DashboardHost host, string experiment, params (string Variant, int Exposed, int Converted)[] variants)
    {
        var events = new List<FunnelEvent>();
        int n = 0;
        foreach ((string variant, int exposedCount, int converted) in variants)
        {
            for (int i = 0; i < exposedCount; i++, n++)
            {
                var lead = new LeadId(new Guid(1000 + n, 0, 0, new byte[8]));
                Instant at = DashboardHost.Start + Duration.FromMinutes(n);
                events.Add(new ExperimentExposed { LeadId = lead, OccurredAt = at, Experiment = experiment, Variant = variant });
                if (i < converted)
                {
                    events.Add(new OrderPlaced
                    {
                        LeadId = lead, OccurredAt = at + Duration.FromHours(1), Order = new OrderId(Guid.NewGuid()), Offer = new OfferId("guide"),
                        Total = new Money(4_900, Currency.USD),
                    });
                }
            }
        }

        await host.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(events);
    }

    private static string Rate(double value) => value.ToString("P1", CultureInfo.InvariantCulture);

    private static string Interval(ConfidenceInterval interval) => $"{Rate(interval.Lower)} to {Rate(interval.Upper)}";

    private static string PValue(double p) => p < 0.0001 ? "< 0.0001" : p.ToString("0.0000", CultureInfo.InvariantCulture);
}
