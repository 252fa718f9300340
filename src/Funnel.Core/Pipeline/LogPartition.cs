using Funnel.Events;

namespace Funnel.Pipeline;

/// <summary>One of <see cref="Count"/> slices of the event log, split by lead: every event of a lead falls in the same partition.</summary>
/// <remarks>
/// Several app instances share the pipeline's work by partition: each handler's progress is kept per partition, and
/// each partition is leased to one instance at a time, so the events of one lead reach a handler in order, on one
/// instance at a time. An event's partition is <c>KeyOf(event) % Count</c>; the key is a stable hash of the lead id,
/// so durable logs store it with the event and select a partition without reading the others.
/// </remarks>
/// <param name="Index">The partition, from 0 to <see cref="Count"/> - 1.</param>
/// <param name="Count">How many partitions the log is split into; 1 reads the whole log.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public readonly record struct LogPartition(int Index, int Count)
{
    /// <summary>Gets the single partition that holds every event.</summary>
    public static LogPartition All { get; } = new(0, 1);

    /// <summary>Returns the partition key of a lead: a stable, non-negative 31-bit hash (FNV-1a) of its id.</summary>
    /// <param name="lead">The lead.</param>
    /// <returns>The key, the same in every process and version.</returns>
    public static int KeyOf(LeadId lead)
    {
        Span<byte> bytes = stackalloc byte[16];
        _ = lead.Value.TryWriteBytes(bytes);
        uint hash = 2166136261;
        foreach (byte b in bytes)
        {
            hash = unchecked((hash ^ b) * 16777619);
        }

        return (int)(hash & 0x7FFF_FFFF);
    }

    /// <summary>Returns the partition key of an event: that of its lead, or that of the empty lead id for an event about no lead.</summary>
    /// <param name="funnelEvent">The event.</param>
    /// <returns>The key.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="funnelEvent"/> is <see langword="null"/>.</exception>
    public static int KeyOf(FunnelEvent funnelEvent)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        return KeyOf(funnelEvent is LeadEvent lead ? lead.LeadId : default);
    }

    /// <summary>Returns whether an event belongs to this partition.</summary>
    /// <param name="funnelEvent">The event.</param>
    /// <returns><see langword="true"/> when <c>KeyOf(event) % Count == Index</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="funnelEvent"/> is <see langword="null"/>.</exception>
    public bool Contains(FunnelEvent funnelEvent) => Count <= 1 || KeyOf(funnelEvent) % Count == Index;
}
