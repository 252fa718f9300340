using System.Globalization;
using Funnel.Analytics;
using Funnel.Analytics.Experiments;
using Funnel.Events;
using Funnel.Kpis;
using NodaTime;
using static Funnel.Samples.EbookMasterclass.ReportPrinter;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>Prints what Funnel.Analytics adds: a windowed funnel with a channel breakdown, a forecast and an A/B test.</summary>
public static partial class AnalyticsPrinter
{
    /// <summary>The headline test runs on its own simulated traffic, so the case-study events stay as they are.</summary>
    public static readonly Experiment HeadlineTest = new()
    {
        Key = "sales-page-headline",
        Variants = [new ExperimentVariant("control"), new ExperimentVariant("transformation")],
    };

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void Print(IReadOnlyList<FunnelEvent> events, FunnelReport report, ScenarioOptions options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        PrintFunnel(events, output);
        PrintForecast(report, output);
        PrintHeadlineTest(options, output);
    }

    private static void PrintFunnel(IReadOnlyList<FunnelEvent> events, TextWriter output)
    {
        AnalyticsEventStore store = AnalyticsEventStore.Load(events);
        FunnelAnalysis analysis = FunnelAnalyzer.Analyze(store, new FunnelQuery
        {
            Funnel = MasterclassScenario.Funnel,
            Window = Duration.FromDays(7),
            Breakdown = FunnelBreakdown.Channel,
            IncludeTimeToConvert = true,
            IncludeMoney = true,
        });

        output.WriteLine();
        output.WriteLine($"Ordered funnel, 7-day window from the blog visit (Funnel.Analytics, {Count(store.EventCount)} events of {Count(store.LeadCount)} leads, {store.BytesPerEvent} bytes per event)");
        List<string[]> rows = [["Step", "Reached", "From previous", "Median time", "90th percentile"]];
        foreach (FunnelStepAnalysis step in analysis.Steps)
        {
            rows.Add([step.Step.Name, Count(step.Reached), step.FromPrevious.ToString("P1", Invariant), Time(step.MedianTimeToConvert), Time(step.P90TimeToConvert)]);
        }

        WriteTable(output, rows, rightAligned: [1, 2, 3, 4]);
        output.WriteLine("Leads who reach the sales page more than 7 days after their first blog visit are not counted here.");

        output.WriteLine();
        output.WriteLine("7-day funnel by channel of the first step");
        List<string[]> channels = [["Channel", .. analysis.Steps.Select(s => s.Step.Name), "Overall"]];
        foreach (FunnelBreakdownRow row in analysis.Breakdown)
        {
            channels.Add([row.Value ?? "(none)", .. row.Reached.Select(Count), row.OverallConversion.ToString("P2", Invariant)]);
        }

        WriteTable(output, channels, rightAligned: [1, 2, 3, 4, 5]);

        output.WriteLine();
        output.WriteLine("Money of the leads who reached each step (their orders minus refunds from their first blog visit on; all the ad spend)");
        List<string[]> money = [["Step", "Revenue", "Cost per lead reached", "ROAS", "Payback"]];
        foreach (FunnelStepAnalysis step in analysis.Steps)
        {
            FunnelMoney m = step.Money!;
            money.Add([step.Step.Name, Format(m.Revenue), Format(m.AcquisitionCost), Roas(m.ReturnOnAdSpend), Time(m.PaybackPeriod)]);
        }

        WriteTable(output, money, rightAligned: [1, 2, 3, 4]);
        output.WriteLine("The last step's cost is the CAC of the buyers counted in the window; payback is when the visitors' purchases covered the spend.");

        output.WriteLine();
        output.WriteLine("Money by channel of the first step (the channel's own ad spend)");
        List<string[]> channelMoney = [["Channel", "Ad spend", "Revenue", "CAC", "ROAS", "Payback"]];
        foreach (FunnelBreakdownRow row in analysis.Breakdown)
        {
            FunnelMoney first = row.Money[0];
            channelMoney.Add([row.Value ?? "(none)", Format(first.AdSpend), Format(first.Revenue), Format(row.Money[^1].AcquisitionCost), Roas(first.ReturnOnAdSpend), Time(first.PaybackPeriod)]);
        }

        WriteTable(output, channelMoney, rightAligned: [1, 2, 3, 4, 5]);
    }

    private static string Roas(Ratio roas) => roas.IsDefined ? roas.ToDecimal().ToString("0.00", Invariant) + "x" : "-";

    private static void PrintForecast(FunnelReport report, TextWriter output)
    {
        FunnelMetrics all = report.Overall;
        if (all.Steps[^1].Reached == 0 || !all.AdSpend.IsPositive)
        {
            output.WriteLine();
            output.WriteLine("Forecast: needs at least one purchase and some ad spend to measure from.");
            return;
        }

        var baseline = new ForecastBaseline
        {
            StageCounts = [.. all.Steps.Select(s => s.Reached)],
            Orders = all.Orders,
            Revenue = all.Revenue,
            AdSpend = all.AdSpend,
        };
        Money doubled = all.AdSpend * 2;
        FunnelForecast forecast = FunnelForecaster.Project(baseline, doubled);
        FunnelSimulation simulation = FunnelForecaster.Simulate(baseline, doubled, runs: 10_000, seed: 1);

        output.WriteLine();
        output.WriteLine($"Forecast: doubling the ad spend to {Format(doubled)} (same cost per visitor and stage rates)");
        List<string[]> rows =
        [
            ["Metric", "Projection", "90% band (Monte Carlo, 10,000 runs, seed 1)"],
            ["Visitors", Count((long)forecast.StageCounts[0]), "n/a"],
            ["Leads", Count((long)forecast.StageCounts[1]), "n/a"],
            ["Buyers", forecast.Buyers.ToString("#,0.#", Invariant), $"{simulation.Buyers.Low:#,0} to {simulation.Buyers.High:#,0}"],
            ["Revenue", Format(forecast.Revenue), $"{Format(simulation.Revenue.Low)} to {Format(simulation.Revenue.High)}"],
            ["CAC", Format(forecast.CustomerAcquisitionCost), $"{Format(simulation.CustomerAcquisitionCost.Low)} to {Format(simulation.CustomerAcquisitionCost.High)}"],
            ["ROAS", forecast.ReturnOnAdSpend.ToString("X3", Invariant), $"{simulation.ReturnOnAdSpend.Low:0.000}x to {simulation.ReturnOnAdSpend.High:0.000}x"],
            ["Break-even cost per lead / per click", $"{Format(forecast.BreakEvenCostPerLead)} / {Format(forecast.BreakEvenCostPerClick)}", "n/a"],
            ["Chance revenue covers the spend", "n/a", Pct(simulation.ChanceToBreakEven)],
        ];
        WriteTable(output, rows, rightAligned: [1]);
    }

    /// <summary>Simulates sales-page visitors split by the sticky assignment, with true rates of 5.0 % and 6.5 %.</summary>
    public static (ConversionSample Control, ConversionSample Treatment, MeanSample ControlRevenue, MeanSample TreatmentRevenue) SimulateHeadlineTest(ScenarioOptions options, int visitors = 8_000)
    {
        ArgumentNullException.ThrowIfNull(options);
        var random = new Random(unchecked(options.Seed + 2026));
        var assigner = new ExperimentAssigner();
        double price = (double)options.Price.ToMajor();
        long[] seen = new long[2];
        long[] bought = new long[2];
        var revenue = new List<double>[] { [], [] };
        Span<byte> bytes = stackalloc byte[16];
        for (int i = 0; i < visitors; i++)
        {
            random.NextBytes(bytes);
            var lead = new LeadId(new Guid(bytes));
            int variant = assigner.Assign(HeadlineTest, lead).Variant == "control" ? 0 : 1;
            bool buys = random.NextDouble() < (variant == 0 ? 0.050 : 0.065);
            seen[variant]++;
            bought[variant] += buys ? 1 : 0;
            revenue[variant].Add(buys ? price : 0);
        }

        return (new ConversionSample(bought[0], seen[0]), new ConversionSample(bought[1], seen[1]),
            MeanSample.FromValues(revenue[0]), MeanSample.FromValues(revenue[1]));
    }

    private static void PrintHeadlineTest(ScenarioOptions options, TextWriter output)
    {
        (ConversionSample control, ConversionSample treatment, MeanSample controlRevenue, MeanSample treatmentRevenue) = SimulateHeadlineTest(options);
        ConversionTestResult r = ExperimentStatistics.CompareConversions(control, treatment);
        MeanTestResult rpv = ExperimentStatistics.CompareMeans(controlRevenue, treatmentRevenue);
        SampleRatioCheck srm = ExperimentStatistics.SampleRatioMismatch([control.Visitors, treatment.Visitors], [1, 1]);
        double needed = ExperimentStatistics.SampleSizePerVariant(r.Control.Rate, r.Control.Rate * 0.20);

        output.WriteLine();
        output.WriteLine($"A/B test '{HeadlineTest.Key}' (simulated separately: {Count(control.Visitors + treatment.Visitors)} sales-page visitors, true rates 5.0% vs 6.5%, seed {options.Seed + 2026})");
        List<string[]> rows =
        [
            ["Variant", "Visitors", "Purchases", "Conversion", "95% Wilson interval", "Revenue / visitor"],
            ["control", Count(control.Visitors), Count(control.Conversions), Pct(control.Rate), $"{Pct(r.ControlInterval.Lower)} to {Pct(r.ControlInterval.Upper)}", Usd(controlRevenue.Mean)],
            ["transformation", Count(treatment.Visitors), Count(treatment.Conversions), Pct(treatment.Rate), $"{Pct(r.TreatmentInterval.Lower)} to {Pct(r.TreatmentInterval.Upper)}", Usd(treatmentRevenue.Mean)],
        ];
        WriteTable(output, rows, rightAligned: [1, 2, 3, 5]);
        List<string[]> stats =
        [
            ["Statistic", "Value"],
            ["Relative lift (95% interval)", $"{Signed(r.RelativeLift)} ({Signed(r.RelativeLiftInterval.Lower)} to {Signed(r.RelativeLiftInterval.Upper)})"],
            ["Two-proportion z-test", $"z = {r.Z.ToString("0.000", Invariant)}, p = {r.PValue.ToString("0.0000", Invariant)}"],
            ["Chance to beat control (exact Beta posteriors)", Pct(r.ChanceToBeatControl)],
            ["Revenue per visitor, Welch t-test", $"{Usd(rpv.Difference)} per visitor, p = {rpv.PValue.ToString("0.0000", Invariant)}"],
            ["Always-valid lift interval (sequential, peeking-safe)", $"{Signed(r.SequentialRelativeLiftInterval.Lower)} to {Signed(r.SequentialRelativeLiftInterval.Upper)}, p = {r.SequentialPValue.ToString("0.0000", Invariant)}"],
            ["Sample-ratio mismatch check", $"chi-square = {srm.ChiSquare.ToString("0.00", Invariant)}, p = {srm.PValue.ToString("0.000", Invariant)}{(srm.IsMismatch ? " MISMATCH" : " (ok)")}"],
            ["Visitors per variant for a 20% relative lift (80% power)", Count((long)Math.Ceiling(needed))],
        ];
        WriteTable(output, stats, rightAligned: []);
        output.WriteLine("Verdict: " + Verdict(r, srm));
        PrintBeyondTheVerdict(options, r, rpv, output);
    }

    public static string Verdict(ConversionTestResult result, SampleRatioCheck srm)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(srm);
        if (srm.IsMismatch)
        {
            return "do not trust this test: the split does not match the 50/50 weights (sample-ratio mismatch).";
        }

        string winner = result.RelativeLift > 0 ? "transformation" : "control";
        if (result.IsSequentiallySignificant)
        {
            return $"ship the {winner} headline: the difference is significant even with peeking-safe sequential testing.";
        }

        return result.IsSignificant
            ? $"the {winner} headline leads (fixed-horizon p < 0.05), but the peeking-safe test has not confirmed it yet: keep the test running."
            : "no winner yet: keep the test running.";
    }

    private static string Time(Duration? duration) =>
        duration is not { } d ? "n/a" : d.TotalDays >= 1 ? $"{d.TotalDays.ToString("0.0", Invariant)} d" : $"{d.TotalHours.ToString("0.0", Invariant)} h";

    private static string Pct(double value) => value.ToString("0.00%", Invariant);

    private static string Signed(double value) => value.ToString("+0.0%;-0.0%;0.0%", Invariant);

    private static string Usd(double value) => value.ToString("$0.00;-$0.00", Invariant);
}
