using Funnel.Events;
using Funnel.Kpis;

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

    /// <summary>Gets the report section that computes these metrics, under the key <c>email-delivery</c>.</summary>
    /// <remarks>
    /// <c>AddFunnelSequences</c> registers it for the reporter that <c>AddFunnel</c> registers; list it in
    /// <see cref="FunnelReportSettings.Sections"/> for a reporter built by hand. Read the result with
    /// <c>report.Section&lt;SequenceEmailMetrics&gt;()</c>.
    /// </remarks>
    public static IFunnelReportSection ReportSection { get; } = new SequenceEmailReportSection();
}

/// <summary>The <c>email-delivery</c> section of the funnel report.</summary>
internal sealed class SequenceEmailReportSection : IFunnelReportSection
{
    public string Key => "email-delivery";

    public IFunnelReportSectionBuilder CreateBuilder(FunnelReportSettings settings) => new Builder();

    /// <summary>Counts each message (lead and email key) once.</summary>
    private sealed class Builder : IFunnelReportSectionBuilder
    {
        private readonly HashSet<(LeadId, string)> failedPermanently = [];
        private readonly HashSet<(LeadId, string)> suppressed = [];

        public void Add(FunnelEvent funnelEvent)
        {
            switch (funnelEvent)
            {
                case EmailFailed { Permanent: true } failed:
                    failedPermanently.Add((failed.LeadId, failed.Email));
                    break;
                case EmailSuppressed skipped:
                    suppressed.Add((skipped.LeadId, skipped.Email));
                    break;
            }
        }

        public object Build() => new SequenceEmailMetrics(failedPermanently.Count, suppressed.Count);
    }
}
