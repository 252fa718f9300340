using Funnel.Email;

namespace Funnel.Analytics.Experiments;

/// <summary>Names an email test's winner with the experiment statistics (<see cref="VariantTest.Evaluate"/>).</summary>
/// <remarks>
/// Each variant's sends are the visitors and its conversions the conversions of a <see cref="ConversionSample"/>; the
/// winner is the best significantly better challenger, or the control when it beats every challenger, and only once
/// every variant has the minimum sample. With more than one challenger, use a settings' correction such as
/// <see cref="MultipleTestingCorrection.HolmBonferroni"/>. <c>AddFunnelAnalytics()</c> registers it with
/// <see cref="ExperimentStatisticsSettings.Default"/>.
/// </remarks>
/// <param name="settings">The confidence level and correction.</param>
/// <threadsafety>This type is immutable and safe to use from any thread.</threadsafety>
public sealed class StatisticalVariantWinnerSelector(ExperimentStatisticsSettings settings) : IVariantWinnerSelector
{
    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="results"/>, <paramref name="control"/> or a result is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Fewer than two variants, no control, a variant named twice, or a result with more conversions than sends.</exception>
    public string? SelectWinner(IReadOnlyList<VariantResult> results, string control, long minimumSamplePerVariant)
    {
        ArgumentNullException.ThrowIfNull(results);
        Dictionary<string, ConversionSample> samples = new(StringComparer.Ordinal);
        foreach (VariantResult result in results)
        {
            ArgumentNullException.ThrowIfNull(result, nameof(results));
            if (!samples.TryAdd(result.Variant, new ConversionSample(result.Converted, result.Sent)))
            {
                throw new ArgumentException($"Variant '{result.Variant}' is named twice.", nameof(results));
            }
        }

        return VariantTest.Evaluate(samples, control, minimumSamplePerVariant, settings ?? ExperimentStatisticsSettings.Default).Winner;
    }
}
