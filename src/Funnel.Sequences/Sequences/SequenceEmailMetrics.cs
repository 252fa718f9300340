namespace Funnel.Sequences;

/// <summary>The sends that did not reach the lead, counting each message (lead and email key) once.</summary>
/// <param name="FailedPermanently">Messages whose send failed for good (<see cref="EmailFailed"/> with <see cref="EmailFailed.Permanent"/>).</param>
/// <param name="Suppressed">Messages not sent because the lead may not receive them (<see cref="EmailSuppressed"/>).</param>
/// <remarks>Read with <see cref="Kpis.EmailMetrics"/>: sent + failed permanently + suppressed is every message the sequences meant to send.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SequenceEmailMetrics(long FailedPermanently, long Suppressed)
{
    /// <summary>Gets metrics with no failures and no suppressions.</summary>
    public static SequenceEmailMetrics None { get; } = new(0, 0);
}
