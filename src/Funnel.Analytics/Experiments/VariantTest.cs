using System.Collections.Immutable;

namespace Funnel.Analytics.Experiments;

/// <summary>One variant of a test compared with the control.</summary>
/// <param name="Variant">The variant key.</param>
/// <param name="Result">The statistics of the comparison (<see cref="ExperimentStatistics.CompareConversions"/>).</param>
/// <param name="Verdict">The verdict after the settings' correction for multiple testing.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record VariantComparison(string Variant, ConversionTestResult Result, ExperimentVerdict Verdict);

/// <summary>The evaluation of a test of several variants against a control, such as an email's subject-line test.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record VariantTestResult
{
    /// <summary>Gets the control's key.</summary>
    public required string Control { get; init; }

    /// <summary>Gets each other variant compared with the control, ordered by key (ordinal).</summary>
    /// <value>Empty while a variant has no visitors or the control has no conversions (no relative lift exists yet).</value>
    public required ImmutableArray<VariantComparison> Comparisons { get; init; }

    /// <summary>Gets whether every variant, the control included, has reached the minimum sample.</summary>
    public required bool HasMinimumSample { get; init; }

    /// <summary>Gets the winning variant: the best significantly better one, or the control when every other variant is significantly worse.</summary>
    /// <value><see langword="null"/> while the result is inconclusive or a variant is below the minimum sample.</value>
    public string? Winner { get; init; }

    /// <summary>Gets whether the test has a winner.</summary>
    public bool IsSignificant => Winner is not null;
}

/// <summary>Evaluates a test of several variants against a control with the experiment statistics.</summary>
/// <remarks>
/// Each variant is compared with the control by <see cref="ExperimentStatistics.CompareConversions"/> and judged with
/// <see cref="ExperimentStatistics.Verdicts"/>, so the settings' <see cref="ExperimentStatisticsSettings.Correction"/>
/// applies across the variants (choose <see cref="MultipleTestingCorrection.HolmBonferroni"/> for more than one
/// challenger). The samples are usually an email's results per variant: the open rate is opened ÷ sent, the click
/// rate clicked ÷ sent, the conversion rate converted ÷ sent.
/// </remarks>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class VariantTest
{
    /// <summary>Compares every variant with the control and names the winner, if there is a significant one.</summary>
    /// <param name="samples">The conversions and visitors of each variant, keyed by variant, the control included.</param>
    /// <param name="control">The control's key.</param>
    /// <param name="minimumSamplePerVariant">The visitors every variant needs before a winner is named.</param>
    /// <param name="settings">The confidence level and correction; defaults to <see cref="ExperimentStatisticsSettings.Default"/>.</param>
    /// <returns>The comparisons and the winner.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="samples"/>, <paramref name="control"/> or a sample is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">There are fewer than two variants, the control is not among them, or a sample has more conversions than visitors or negative counts.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minimumSamplePerVariant"/> is negative.</exception>
    public static VariantTestResult Evaluate(
        IReadOnlyDictionary<string, ConversionSample> samples,
        string control = "control",
        long minimumSamplePerVariant = 0,
        ExperimentStatisticsSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(control);
        ArgumentOutOfRangeException.ThrowIfNegative(minimumSamplePerVariant);
        if (samples.Count < 2)
        {
            throw new ArgumentException($"A test needs at least two variants, not {samples.Count}.", nameof(samples));
        }

        if (!samples.TryGetValue(control, out ConversionSample? baseline))
        {
            throw new ArgumentException($"The samples do not include the control '{control}'.", nameof(samples));
        }

        foreach ((string key, ConversionSample? sample) in samples)
        {
            ArgumentNullException.ThrowIfNull(sample, nameof(samples));
            if (sample.Visitors < 0 || sample.Conversions < 0 || sample.Conversions > sample.Visitors)
            {
                throw new ArgumentException($"Variant '{key}' must have 0 ≤ Conversions ≤ Visitors, not {sample.Conversions} of {sample.Visitors}.", nameof(samples));
            }
        }

        settings ??= ExperimentStatisticsSettings.Default;
        bool hasMinimum = samples.Values.All(s => s.Visitors >= Math.Max(1, minimumSamplePerVariant));
        List<string> challengers = [.. samples.Keys.Where(k => k != control).Order(StringComparer.Ordinal)];
        if (baseline.Conversions == 0 || samples.Values.Any(static s => s.Visitors == 0))
        {
            return new VariantTestResult { Control = control, Comparisons = [], HasMinimumSample = hasMinimum };
        }

        List<ConversionTestResult> results = [.. challengers.Select(k => ExperimentStatistics.CompareConversions(baseline, samples[k], settings))];
        ImmutableArray<ExperimentVerdict> verdicts = ExperimentStatistics.Verdicts(
            [.. challengers.Select((k, i) => MetricComparison.Of("conversion", k, results[i]))], settings);
        ImmutableArray<VariantComparison> comparisons = [.. challengers.Select((k, i) => new VariantComparison(k, results[i], verdicts[i]))];
        string? winner = null;
        if (hasMinimum)
        {
            // The best of the significantly better; the control only when it beats every challenger.
            winner = comparisons
                .Where(static c => c.Verdict.Outcome == VerdictOutcome.Better)
                .OrderByDescending(static c => c.Result.Treatment.Rate)
                .Select(static c => c.Variant)
                .FirstOrDefault();
            if (winner is null && comparisons.All(static c => c.Verdict.Outcome == VerdictOutcome.Worse))
            {
                winner = control;
            }
        }

        return new VariantTestResult { Control = control, Comparisons = comparisons, HasMinimumSample = hasMinimum, Winner = winner };
    }
}
