using Funnel.Events;

namespace Funnel.Pipeline;

/// <summary>The append-only log of every funnel event, read forward by the <see cref="FunnelPipeline"/>.</summary>
/// <remarks>
/// <para>
/// Every event the library produces or accepts is appended here once; the pipeline delivers each one to every
/// registered <see cref="IFunnelHandler"/>. Appending is idempotent by <see cref="FunnelEvent.Id"/>: an event
/// whose id is already in the log is skipped, so a producer that retries after a crash appends nothing twice.
/// Positions are assigned in append order, start at 1 and never change; they may have gaps (a database sequence
/// that rolled back), so a reader compares positions, never counts them.
/// </para>
/// <para>
/// The in-memory default (<see cref="InMemoryFunnelEventLog"/>) is for tests and samples; the storage packages
/// replace it with a durable log.
/// </para>
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IFunnelEventLog
{
    /// <summary>Appends the events whose ids are not in the log yet, in order, atomically.</summary>
    /// <param name="events">The events.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The number of events appended (those already in the log are not counted).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> or one of its items is <see langword="null"/>.</exception>
    Task<int> AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default);

    /// <summary>Reads events after a position, oldest first.</summary>
    /// <param name="after">The position to read after; 0 reads from the start.</param>
    /// <param name="max">The most events to return.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Up to <paramref name="max"/> events with positions greater than <paramref name="after"/>, in position order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="after"/> is negative or <paramref name="max"/> is not positive.</exception>
    Task<IReadOnlyList<LoggedEvent>> ReadAsync(long after, int max, CancellationToken cancellationToken = default);

    /// <summary>Reads events of one partition after a position, oldest first.</summary>
    /// <remarks>
    /// The default implementation reads the whole log forward and keeps the partition's events; durable logs store
    /// <see cref="LogPartition.KeyOf(FunnelEvent)"/> with each event and select the partition in the query.
    /// </remarks>
    /// <param name="after">The position to read after; 0 reads from the start.</param>
    /// <param name="max">The most events to return.</param>
    /// <param name="partition">The partition; <see cref="LogPartition.All"/> reads every event.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Up to <paramref name="max"/> events of the partition with positions greater than <paramref name="after"/>, in position order.</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="after"/> is negative, <paramref name="max"/> is not positive, or the partition's index is not below its positive count.
    /// </exception>
    async Task<IReadOnlyList<LoggedEvent>> ReadPartitionAsync(long after, int max, LogPartition partition, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partition.Count, nameof(partition));
        ArgumentOutOfRangeException.ThrowIfNegative(partition.Index, nameof(partition));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition.Index, partition.Count, nameof(partition));
        if (partition.Count == 1)
        {
            return await ReadAsync(after, max, cancellationToken).ConfigureAwait(false);
        }

        List<LoggedEvent> found = [];
        int page = Math.Max(max, 256);
        while (true)
        {
            IReadOnlyList<LoggedEvent> read = await ReadAsync(after, page, cancellationToken).ConfigureAwait(false);
            foreach (LoggedEvent logged in read)
            {
                if (partition.Contains(logged.Event))
                {
                    found.Add(logged);
                    if (found.Count == max)
                    {
                        return found;
                    }
                }
            }

            if (read.Count < page)
            {
                return found;
            }

            after = read[^1].Position;
        }
    }

    /// <summary>Counts the events of one partition after a position, up to a limit, without reading them.</summary>
    /// <remarks>
    /// The pipeline's status reports each handler's backlog with it. The default implementation reads the events
    /// through <see cref="ReadPartitionAsync"/>; durable logs count in the query instead of deserialising the events.
    /// </remarks>
    /// <param name="after">The position to count after; 0 counts from the start.</param>
    /// <param name="max">The most events to count.</param>
    /// <param name="partition">The partition; <see cref="LogPartition.All"/> counts every event.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The number of the partition's events with positions greater than <paramref name="after"/>, at most <paramref name="max"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="after"/> is negative, <paramref name="max"/> is not positive, or the partition's index is not below its positive count.
    /// </exception>
    async Task<int> CountAsync(long after, int max, LogPartition partition, CancellationToken cancellationToken = default) =>
        (await ReadPartitionAsync(after, max, partition, cancellationToken).ConfigureAwait(false)).Count;

    /// <summary>Reads the events about one lead, oldest first.</summary>
    /// <remarks>Engines that decide from a lead's history (scoring, segments) read it here.</remarks>
    /// <param name="lead">The lead.</param>
    /// <param name="max">The most events to return; the oldest are returned first.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Up to <paramref name="max"/> of the lead's events, in position order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    Task<IReadOnlyList<LoggedEvent>> ReadLeadAsync(LeadId lead, int max, CancellationToken cancellationToken = default);
}
