namespace Funnel.Email;

/// <summary>How one variant of an email test did: the leads it was sent to and those who converted (opened or clicked).</summary>
/// <param name="Variant">The variant key, such as <c>control</c>.</param>
/// <param name="Sent">The leads it was sent to.</param>
/// <param name="Converted">The leads among them who did what the test measures.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record VariantResult(string Variant, long Sent, long Converted);

/// <summary>Names the winner of an email A/B test from its results, for a broadcast's automatic winner.</summary>
/// <remarks>
/// <c>AddFunnelAnalytics()</c> registers the implementation that uses the experiment statistics
/// (<c>StatisticalVariantWinnerSelector</c>): a winner is named only when it is significantly better and every
/// variant has the minimum sample.
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IVariantWinnerSelector
{
    /// <summary>Returns the winning variant, or <see langword="null"/> when no variant is significantly better than the others.</summary>
    /// <param name="results">Each variant's results, the control included.</param>
    /// <param name="control">The control's key.</param>
    /// <param name="minimumSamplePerVariant">The sends every variant needs before a winner is named.</param>
    /// <returns>The winner's key, or <see langword="null"/>.</returns>
    string? SelectWinner(IReadOnlyList<VariantResult> results, string control, long minimumSamplePerVariant);
}
