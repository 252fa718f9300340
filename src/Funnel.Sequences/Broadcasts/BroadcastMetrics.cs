using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Kpis;

namespace Funnel.Sequences;

/// <summary>The figures of one broadcast, each message (lead) counted once: sent, delivered, opened, clicked, unsubscribed, and what was not sent.</summary>
/// <param name="Broadcast">The broadcast key.</param>
/// <param name="Email">The delivery and engagement figures, with their rates (open, click, click-to-open, unsubscribe, bounce, complaint).</param>
/// <param name="FailedPermanently">Leads whose send failed for good.</param>
/// <param name="Suppressed">Leads not sent the broadcast because they may not be mailed (unsubscribed, bounced, complained, no consent).</param>
/// <param name="Skipped">Leads not sent the broadcast because they had left its segment when their send came due.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record BroadcastMetrics(string Broadcast, EmailMetrics Email, long FailedPermanently, long Suppressed, long Skipped)
{
    /// <summary>Computes a broadcast's figures from the email events (those whose email key is the broadcast's key).</summary>
    /// <remarks>
    /// Each figure counts distinct leads: a lead who opened twice is one open, and a click counts as an open too (an
    /// image-blocking client opens no pixel). The result does not depend on the order of the events. Read the events
    /// from the event log; the <c>email_skipped</c> of a lead who left the segment is recorded by the dispatcher.
    /// </remarks>
    /// <param name="events">The events, such as those of the event log.</param>
    /// <param name="broadcast">The broadcast key.</param>
    /// <returns>The figures.</returns>
    /// <exception cref="ArgumentNullException">An argument or one of the events is <see langword="null"/>.</exception>
    public static BroadcastMetrics Compute(IEnumerable<FunnelEvent> events, string broadcast)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(broadcast);
        HashSet<LeadId> sent = [], bounced = [], opened = [], clicked = [], unsubscribed = [], complained = [], failed = [], suppressed = [], skipped = [];
        foreach (FunnelEvent e in events)
        {
            ArgumentNullException.ThrowIfNull(e, nameof(events));
            if (e is not EmailEvent email || !string.Equals(email.Email, broadcast, StringComparison.Ordinal))
            {
                continue;
            }

            HashSet<LeadId>? into = e switch
            {
                EmailSent => sent,
                EmailBounced => bounced,
                EmailOpened => opened,
                EmailClicked => clicked,
                EmailUnsubscribed => unsubscribed,
                EmailComplained => complained,
                EmailFailed { Permanent: true } => failed,
                EmailSuppressed => suppressed,
                EmailSkipped => skipped,
                _ => null,
            };
            into?.Add(email.LeadId);
            if (e is EmailClicked)
            {
                opened.Add(email.LeadId);
            }
        }

        // Engagement counts only delivered messages, as the funnel report does.
        opened.IntersectWith(sent);
        opened.ExceptWith(bounced);
        clicked.IntersectWith(opened);
        unsubscribed.IntersectWith(sent);
        complained.IntersectWith(sent);
        bounced.IntersectWith(sent);
        EmailMetrics metrics = new(sent.Count, bounced.Count, opened.Count, clicked.Count, unsubscribed.Count, complained.Count);
        return new BroadcastMetrics(broadcast, metrics, failed.Count, suppressed.Count, skipped.Count);
    }
}
