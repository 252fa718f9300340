using Funnel.Leads;

namespace Funnel.Pipeline;

/// <summary>Reads of the event log that engines deciding from one person's history share.</summary>
/// <threadsafety>All members are thread-safe when the log is.</threadsafety>
public static class FunnelEventLogExtensions
{
    /// <summary>Reads the events of one person: the lead's, and those the anonymous visitor ids linked to the lead (<see cref="IdentityLinked"/>) recorded before the link.</summary>
    /// <remarks>
    /// Scoring, segments and automation branches read a lead's history here, so the pages a visitor viewed on another
    /// device before opting in count for the lead once linked. The visitors' events keep their own lead id. A lead
    /// with no link costs one read, as <see cref="IFunnelEventLog.ReadLeadAsync"/>; each linked visitor one more.
    /// </remarks>
    /// <param name="log">The event log.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="max">The most events to return, the oldest first.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Up to <paramref name="max"/> events, in position order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public static async Task<IReadOnlyList<LoggedEvent>> ReadPersonAsync(this IFunnelEventLog log, LeadId lead, int max, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        IReadOnlyList<LoggedEvent> own = await log.ReadLeadAsync(lead, max, cancellationToken).ConfigureAwait(false);
        List<LeadId> visitors = [.. own.Select(static e => e.Event).OfType<IdentityLinked>().Select(static l => l.VisitorId).Where(v => v != lead).Distinct()];
        if (visitors.Count == 0)
        {
            return own;
        }

        List<LoggedEvent> all = [.. own];
        foreach (LeadId visitor in visitors)
        {
            all.AddRange(await log.ReadLeadAsync(visitor, max, cancellationToken).ConfigureAwait(false));
        }

        return [.. all.DistinctBy(static e => e.Position).OrderBy(static e => e.Position).Take(max)];
    }
}
