using System.Collections.Immutable;

namespace Funnel.Analytics.Experiments;

/// <summary>How p-values are corrected when an experiment tests several metrics or variants at once.</summary>
public enum MultipleTestingCorrection
{
    /// <summary>No correction: each comparison is judged alone (false positives grow with the number of comparisons).</summary>
    None = 0,

    /// <summary>Holm–Bonferroni (Holm 1979): controls the family-wise error rate, the chance of any false positive.</summary>
    HolmBonferroni = 1,

    /// <summary>Benjamini–Hochberg (1995): controls the false discovery rate, the expected share of false positives among the winners.</summary>
    BenjaminiHochberg = 2,
}

/// <summary>Whether a comparison shows the treatment better, worse or neither.</summary>
public enum VerdictOutcome
{
    /// <summary>Not significant after correction: keep the test running or call it a draw.</summary>
    Inconclusive = 0,

    /// <summary>Significantly better than the control.</summary>
    Better = 1,

    /// <summary>Significantly worse than the control.</summary>
    Worse = 2,
}

/// <summary>One metric of one variant against the control: the input of <see cref="ExperimentStatistics.Verdicts"/>.</summary>
/// <param name="Metric">The metric, such as <c>purchase</c> or <c>revenue per visitor</c>.</param>
/// <param name="Variant">The variant compared with the control.</param>
/// <param name="RelativeLift">The relative lift over the control.</param>
/// <param name="PValue">The two-sided p-value of the comparison.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record MetricComparison(string Metric, string Variant, double RelativeLift, double PValue)
{
    /// <summary>Takes the z-test of a conversion comparison.</summary>
    /// <param name="metric">The metric name.</param>
    /// <param name="variant">The variant key.</param>
    /// <param name="result">The comparison.</param>
    /// <returns>The entry.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static MetricComparison Of(string metric, string variant, ConversionTestResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new MetricComparison(metric, variant, result.RelativeLift, result.PValue);
    }

    /// <summary>Takes the Welch (or CUPED) test of a per-visitor metric.</summary>
    /// <param name="metric">The metric name.</param>
    /// <param name="variant">The variant key.</param>
    /// <param name="result">The comparison.</param>
    /// <returns>The entry.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static MetricComparison Of(string metric, string variant, MeanTestResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new MetricComparison(metric, variant, result.RelativeLift, result.PValue);
    }
}

/// <summary>The verdict on one comparison after the correction for multiple testing.</summary>
/// <param name="Comparison">The comparison.</param>
/// <param name="AdjustedPValue">The corrected p-value (equal to the raw one without correction).</param>
/// <param name="Outcome">Better or worse when the adjusted p-value is below 1 − confidence level; otherwise inconclusive.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ExperimentVerdict(MetricComparison Comparison, double AdjustedPValue, VerdictOutcome Outcome)
{
    /// <summary>Gets whether the comparison is significant after correction.</summary>
    public bool IsSignificant => Outcome != VerdictOutcome.Inconclusive;
}

/// <summary>Adjusted p-values for several simultaneous tests, the same as R's <c>p.adjust</c> ("holm", "BH").</summary>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class MultipleTesting
{
    /// <summary>Adjusts p-values for multiple testing.</summary>
    /// <param name="pValues">The raw p-values, in any order.</param>
    /// <param name="correction">The method.</param>
    /// <returns>The adjusted p-values, in the order given, each within [raw, 1].</returns>
    /// <remarks>
    /// <para>
    /// With the p-values sorted ascending, p₍₁₎ ≤ … ≤ p₍ₘ₎: Holm's adjusted p₍ᵢ₎ is max over j ≤ i of
    /// min(1, (m − j + 1)·p₍ⱼ₎); Benjamini–Hochberg's is min over j ≥ i of min(1, m·p₍ⱼ₎ ÷ j).
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="pValues"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A p-value is not within [0, 1], or the method is unknown.</exception>
    public static ImmutableArray<double> Adjust(IReadOnlyList<double> pValues, MultipleTestingCorrection correction)
    {
        ArgumentNullException.ThrowIfNull(pValues);
        for (int i = 0; i < pValues.Count; i++)
        {
            if (!(pValues[i] >= 0 && pValues[i] <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(pValues), pValues[i], $"'pValues[{i}]' must be within [0, 1].");
            }
        }

        int m = pValues.Count;
        int[] order = [.. Enumerable.Range(0, m).OrderBy(i => pValues[i]).ThenBy(i => i)];
        double[] adjusted = new double[m];
        switch (correction)
        {
            case MultipleTestingCorrection.None:
                return [.. pValues];
            case MultipleTestingCorrection.HolmBonferroni:
                double running = 0;
                for (int rank = 0; rank < m; rank++)
                {
                    running = Math.Max(running, Math.Min(1, (m - rank) * pValues[order[rank]]));
                    adjusted[order[rank]] = running;
                }

                break;
            case MultipleTestingCorrection.BenjaminiHochberg:
                double least = 1;
                for (int rank = m - 1; rank >= 0; rank--)
                {
                    // m ÷ i first, as R does: at i = m the factor is exactly 1, so no p-value is adjusted below itself.
                    least = Math.Min(least, (double)m / (rank + 1) * pValues[order[rank]]);
                    adjusted[order[rank]] = least;
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(correction), correction, "Unknown correction.");
        }

        return [.. adjusted];
    }
}

/// <content>Verdicts across metrics and variants, corrected for multiple testing.</content>
public static partial class ExperimentStatistics
{
    /// <summary>Judges every metric of every variant together, with the settings' correction for multiple testing.</summary>
    /// <param name="comparisons">The comparisons: every metric of every variant against the control.</param>
    /// <param name="settings">The confidence level and <see cref="ExperimentStatisticsSettings.Correction"/>; defaults to <see cref="ExperimentStatisticsSettings.Default"/> (no correction).</param>
    /// <returns>A verdict per comparison, in the order given.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="comparisons"/> or an entry is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A p-value is not within [0, 1].</exception>
    public static ImmutableArray<ExperimentVerdict> Verdicts(IReadOnlyList<MetricComparison> comparisons, ExperimentStatisticsSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(comparisons);
        settings ??= ExperimentStatisticsSettings.Default;
        double[] raw = new double[comparisons.Count];
        for (int i = 0; i < raw.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(comparisons[i], $"{nameof(comparisons)}[{i}]");
            raw[i] = comparisons[i].PValue;
        }

        ImmutableArray<double> adjusted = MultipleTesting.Adjust(raw, settings.Correction);
        double alpha = 1 - settings.ConfidenceLevel;
        return
        [
            .. comparisons.Select((c, i) => new ExperimentVerdict(
                c,
                adjusted[i],
                adjusted[i] >= alpha ? VerdictOutcome.Inconclusive : c.RelativeLift > 0 ? VerdictOutcome.Better : VerdictOutcome.Worse)),
        ];
    }
}
