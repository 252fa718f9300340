using System.Collections.Immutable;
using Funnel.Analytics.Experiments;
using NodaTime;
using static Funnel.Samples.EbookMasterclass.ReportPrinter;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>The outcome of <see cref="AnalyticsPrinter.SimulateBandit"/>.</summary>
/// <param name="Visitors">The visitors simulated.</param>
/// <param name="BanditRegret">Σ (best rate − rate of the variant shown) over the bandit's visitors: expected purchases lost.</param>
/// <param name="FixedSplitRegret">The same for a fixed 50/50 split: visitors × ½ × the gap between the rates.</param>
/// <param name="BanditPurchases">The purchases the bandit's visitors made.</param>
/// <param name="FinalWeights">The bandit's weights at the end (control, transformation).</param>
public sealed record BanditSimulation(long Visitors, double BanditRegret, double FixedSplitRegret, long BanditPurchases, ImmutableArray<double> FinalWeights);

/// <content>The statistics beyond the verdict: Bayesian risk, corrected verdicts, CUPED and a Thompson-sampling bandit.</content>
public static partial class AnalyticsPrinter
{
    private static readonly double[] HeadlineRates = [0.050, 0.065];

    /// <summary>Runs the headline test as a Thompson-sampling bandit: 250 visitors an hour for 72 hours, weights updated every 6 hours.</summary>
    /// <param name="seed">The seed of the traffic and of the bandit's draws.</param>
    /// <returns>The regret of the bandit and of a fixed 50/50 split.</returns>
    public static BanditSimulation SimulateBandit(int seed)
    {
        const int Hours = 72;
        const int PerHour = 250;
        var random = new Random(seed);
        var bandit = new ThompsonSamplingBandit(HeadlineTest with { Key = "sales-page-headline-bandit" }, new BanditSettings { Seed = seed });
        Instant start = Instant.FromUtc(2026, 1, 5, 0, 0);
        long[] seen = new long[2];
        long[] bought = new long[2];
        double regret = 0;
        Span<byte> bytes = stackalloc byte[16];
        for (int hour = 0; hour < Hours; hour++)
        {
            bandit.Update([new ConversionSample(bought[0], seen[0]), new ConversionSample(bought[1], seen[1])], start + Duration.FromHours(hour));
            for (int i = 0; i < PerHour; i++)
            {
                random.NextBytes(bytes);
                int arm = bandit.Assign(new LeadId(new Guid(bytes))).Variant == "control" ? 0 : 1;
                seen[arm]++;
                bought[arm] += random.NextDouble() < HeadlineRates[arm] ? 1 : 0;
                regret += HeadlineRates[1] - HeadlineRates[arm];
            }
        }

        long visitors = Hours * PerHour;
        return new BanditSimulation(visitors, regret, visitors * 0.5 * (HeadlineRates[1] - HeadlineRates[0]), bought[0] + bought[1], bandit.Weights);
    }

    /// <summary>Simulates revenue per visitor with each lead's spend in the 30 days before exposure as the CUPED covariate.</summary>
    /// <param name="seed">The seed.</param>
    /// <param name="visitors">The visitors, split evenly.</param>
    /// <param name="lift">The true relative lift of the treatment.</param>
    /// <returns>The control's and the treatment's sums.</returns>
    /// <remarks>A lead's spend before and after exposure share a per-lead level (log-normal, mean about $55), plus $35 of noise each, so the two correlate at about 0.7.</remarks>
    public static (CovariateSample Control, CovariateSample Treatment) SimulateRevenueWithHistory(int seed, int visitors, double lift)
    {
        var random = new Random(seed);
        var arms = new List<(double, double)>[] { [], [] };
        for (int i = 0; i < visitors; i++)
        {
            int arm = i % 2;
            double level = 40 * Math.Exp(0.8 * Normal(random));
            double before = Math.Max(0, level + (35 * Normal(random)));
            double after = Math.Max(0, (level * (arm == 1 ? 1 + lift : 1)) + (35 * Normal(random)));
            arms[arm].Add((after, before));
        }

        return (CovariateSample.FromValues(arms[0]), CovariateSample.FromValues(arms[1]));
    }

    private static void PrintBeyondTheVerdict(ScenarioOptions options, ConversionTestResult r, MeanTestResult rpv, TextWriter output)
    {
        BayesianLiftResult normal = r.Bayesian!;
        BayesianLiftResult exact = r.BetaBinomial!;
        output.WriteLine();
        output.WriteLine("Bayesian view of the headline test (relative lift; risk = expected relative loss of shipping that variant)");
        List<string[]> bayes =
        [
            ["Posterior", "Expected lift", "95% credible interval", "Chance to win", "Risk: control", "Risk: transformation"],
            ["Normal approximation (GrowthBook), flat prior", Signed(normal.ExpectedLift), $"{Signed(normal.CredibleInterval.Lower)} to {Signed(normal.CredibleInterval.Upper)}", Pct(normal.ChanceToWin), Pct(normal.ControlRisk), Pct(normal.TreatmentRisk)],
            ["Exact Beta(1, 1) posteriors, by quadrature", Signed(exact.ExpectedLift), $"{Signed(exact.CredibleInterval.Lower)} to {Signed(exact.CredibleInterval.Upper)}", Pct(exact.ChanceToWin), Pct(exact.ControlRisk), Pct(exact.TreatmentRisk)],
        ];
        WriteTable(output, bayes, rightAligned: [1, 3, 4, 5]);

        // Two metrics of two variants: 4 comparisons to correct (the second variant's p-values are made up for the demo).
        MetricComparison[] comparisons =
        [
            MetricComparison.Of("purchase", "transformation", r),
            MetricComparison.Of("revenue per visitor", "transformation", rpv),
            new MetricComparison("purchase", "question-headline", 0.09, 0.030),
            new MetricComparison("revenue per visitor", "question-headline", 0.11, 0.040),
        ];
        var plain = ExperimentStatistics.Verdicts(comparisons);
        var holm = ExperimentStatistics.Verdicts(comparisons, new ExperimentStatisticsSettings { Correction = MultipleTestingCorrection.HolmBonferroni });
        var bh = ExperimentStatistics.Verdicts(comparisons, new ExperimentStatisticsSettings { Correction = MultipleTestingCorrection.BenjaminiHochberg });
        output.WriteLine();
        output.WriteLine("Verdicts corrected for 4 comparisons: 2 metrics x 2 variants (the question-headline p-values are illustrative)");
        List<string[]> verdicts = [["Metric", "Variant", "Raw p", "No correction", "Holm-Bonferroni", "Benjamini-Hochberg"]];
        for (int i = 0; i < comparisons.Length; i++)
        {
            verdicts.Add([comparisons[i].Metric, comparisons[i].Variant, P(plain[i].AdjustedPValue), Verdict(plain[i]), Verdict(holm[i]), Verdict(bh[i])]);
        }

        WriteTable(output, verdicts, rightAligned: [2]);

        int seed = unchecked(options.Seed + 2027);
        (CovariateSample control, CovariateSample treatment) = SimulateRevenueWithHistory(seed, 4000, lift: 0.05);
        MeanTestResult plainRevenue = ExperimentStatistics.CompareMeans(control.Metric, treatment.Metric);
        MeanTestResult cuped = ExperimentStatistics.CompareWithCovariate(control, treatment);
        output.WriteLine();
        output.WriteLine($"CUPED on a simulated revenue test (4,000 visitors, true lift +5%, covariate: spend in the 30 days before exposure, seed {seed})");
        List<string[]> cupedRows =
        [
            ["Analysis", "Relative lift", "95% interval", "p-value"],
            ["Welch t-test", Signed(plainRevenue.RelativeLift), $"{Signed(plainRevenue.RelativeLiftInterval.Lower)} to {Signed(plainRevenue.RelativeLiftInterval.Upper)}", P(plainRevenue.PValue)],
            [$"CUPED (theta = {cuped.Cuped!.Theta.ToString("0.000", Invariant)})", Signed(cuped.RelativeLift), $"{Signed(cuped.RelativeLiftInterval.Lower)} to {Signed(cuped.RelativeLiftInterval.Upper)}", P(cuped.PValue)],
        ];
        WriteTable(output, cupedRows, rightAligned: [1, 3]);
        output.WriteLine($"Variance reduction: {Pct(cuped.Cuped.VarianceReduction)} (the same precision with about that share fewer visitors)");

        BanditSimulation bandit = SimulateBandit(seed);
        output.WriteLine();
        output.WriteLine($"Thompson-sampling bandit on the headline ({Count(bandit.Visitors)} visitors over 72 h, weights every 6 h, 1% floor, true rates 5.0% vs 6.5%, seed {seed})");
        List<string[]> banditRows =
        [
            ["Allocation", "Regret (expected purchases lost)", "Final weights"],
            ["Fixed 50/50 split", bandit.FixedSplitRegret.ToString("0.0", Invariant), "50% / 50%"],
            ["Thompson sampling", bandit.BanditRegret.ToString("0.0", Invariant), $"{Pct(bandit.FinalWeights[0])} / {Pct(bandit.FinalWeights[1])}"],
        ];
        WriteTable(output, banditRows, rightAligned: [1]);
        output.WriteLine($"Regret ratio: {(bandit.BanditRegret / bandit.FixedSplitRegret).ToString("0.00", Invariant)} of the fixed split's");
    }

    private static string Verdict(ExperimentVerdict verdict) => verdict.Outcome switch
    {
        VerdictOutcome.Better => $"better (p = {P(verdict.AdjustedPValue)})",
        VerdictOutcome.Worse => $"worse (p = {P(verdict.AdjustedPValue)})",
        _ => $"inconclusive (p = {P(verdict.AdjustedPValue)})",
    };

    private static string P(double p) => p.ToString("0.0000", Invariant);

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
