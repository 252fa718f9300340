using System.Collections.Immutable;
using Funnel.Events;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>The in-memory <see cref="ISendOutbox"/>: a dictionary by key plus a priority queue of due instants.</summary>
/// <remarks>
/// A claim pops only the due part of the queue (stale queue items, left by updates, are dropped when popped), so a
/// tick costs O(k log n) for k due entries among n, not a scan of all n. The event log is kept the same way: a
/// dictionary by event id plus a queue ordered by when each event may be handed out, changed under the same lock as
/// the entries, so an update and its events are stored together.
/// </remarks>
/// <threadsafety>All members are thread-safe (one lock).</threadsafety>
public sealed class InMemorySendOutbox : ISendOutbox
{
    private readonly Dictionary<string, OutboxEntry> entries = new(StringComparer.Ordinal);
    private readonly PriorityQueue<string, Instant> due = new();
    private readonly Dictionary<EventId, (FunnelEvent Event, Instant AvailableAt)> events = [];
    private readonly PriorityQueue<EventId, (Instant AvailableAt, long Sequence)> eventQueue = new();
    private readonly Lock gate = new();
    private long eventSequence;

    /// <summary>Gets the number of entries.</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return entries.Count;
            }
        }
    }

    /// <summary>Gets the number of recorded events not yet acknowledged.</summary>
    public int UnacknowledgedEvents
    {
        get
        {
            lock (gate)
            {
                return events.Count;
            }
        }
    }

    /// <summary>Returns every entry, for inspection (failed sends are visible here and as <c>email_failed</c> events).</summary>
    /// <returns>A snapshot, in no particular order.</returns>
    public IReadOnlyList<OutboxEntry> Snapshot()
    {
        lock (gate)
        {
            return [.. entries.Values];
        }
    }

    /// <summary>Returns the entry with the key.</summary>
    /// <param name="key">The idempotency key.</param>
    /// <returns>The entry, or <see langword="null"/>.</returns>
    public OutboxEntry? Find(string key)
    {
        lock (gate)
        {
            return entries.GetValueOrDefault(key);
        }
    }

    /// <inheritdoc/>
    public Task<OutboxEntry?> FindAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Find(key));
    }

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(OutboxEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        cancellationToken.ThrowIfCancellationRequested();
        lock (gate)
        {
            return Task.FromResult(Add(entry));
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<string>> TryAddManyAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(entries, static e => e.Key, nameof(entries));
        cancellationToken.ThrowIfCancellationRequested();
        ImmutableArray<string>.Builder added = ImmutableArray.CreateBuilder<string>();
        lock (gate)
        {
            foreach (OutboxEntry entry in entries)
            {
                if (Add(entry))
                {
                    added.Add(entry.Key);
                }
            }
        }

        return Task.FromResult(added.DrainToImmutable());
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<OutboxEntry>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentNullException.ThrowIfNull(owner);
        if (lease <= Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "The lease must be positive.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        ImmutableArray<OutboxEntry>.Builder claimed = ImmutableArray.CreateBuilder<OutboxEntry>();
        lock (gate)
        {
            Instant until = now + lease;
            while (claimed.Count < max && due.TryPeek(out string? key, out Instant at) && at <= now)
            {
                due.Dequeue();
                if (!entries.TryGetValue(key, out OutboxEntry? entry) || entry.DueAt != at || !IsOpen(entry.State))
                {
                    continue; // stale: the entry changed after this item was queued.
                }

                OutboxEntry next = entry with { State = SendState.Sending, DueAt = until, ClaimedBy = owner, Version = entry.Version + 1, Events = [] };
                entries[key] = next;
                due.Enqueue(key, until);
                claimed.Add(next);
            }
        }

        return Task.FromResult(claimed.DrainToImmutable());
    }

    /// <inheritdoc/>
    public Task<bool> TryUpdateAsync(OutboxEntry current, OutboxEntry replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        cancellationToken.ThrowIfCancellationRequested();
        lock (gate)
        {
            return Task.FromResult(Update(current, replacement));
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<string>> TryUpdateManyAsync(IReadOnlyList<(OutboxEntry Current, OutboxEntry Replacement)> updates, CancellationToken cancellationToken = default)
    {
        if (updates is { Count: 1 })
        {
            ArgumentNullException.ThrowIfNull(updates[0].Current, nameof(updates)); // one key is distinct: no set needed.
        }
        else
        {
            StoreBatches.CheckDistinct(updates, static u => u.Current.Key, nameof(updates));
        }

        cancellationToken.ThrowIfCancellationRequested();
        ImmutableArray<string>.Builder won = ImmutableArray.CreateBuilder<string>(updates.Count);
        lock (gate)
        {
            for (int i = 0; i < updates.Count; i++)
            {
                (OutboxEntry current, OutboxEntry replacement) = updates[i];
                ArgumentNullException.ThrowIfNull(replacement, nameof(updates));
                if (Update(current, replacement))
                {
                    won.Add(current.Key);
                }
            }
        }

        return Task.FromResult(won.DrainToImmutable());
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<OutboxEntry>> ListAsync(SendState state, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        lock (gate)
        {
            return Task.FromResult<ImmutableArray<OutboxEntry>>([.. entries.Values
                .Where(e => e.State == state)
                .OrderBy(e => e.DueAt)
                .ThenBy(e => e.Key, StringComparer.Ordinal)
                .Take(limit)]);
        }
    }

    /// <inheritdoc/>
    public Task<int> PurgeCompletedAsync(Instant completedBefore, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        cancellationToken.ThrowIfCancellationRequested();
        lock (gate)
        {
            List<OutboxEntry> old = [.. entries.Values
                .Where(e => !IsOpen(e.State) && e.CompletedAt is { } at && at < completedBefore)
                .OrderBy(e => e.CompletedAt)
                .ThenBy(e => e.Key, StringComparer.Ordinal)
                .Take(max)];
            foreach (OutboxEntry entry in old)
            {
                entries.Remove(entry.Key);
            }

            return Task.FromResult(old.Count);
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<FunnelEvent>> ClaimEventsAsync(Instant now, int max, Duration lease, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        if (lease <= Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "The lease must be positive.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        ImmutableArray<FunnelEvent>.Builder claimed = ImmutableArray.CreateBuilder<FunnelEvent>();
        lock (gate)
        {
            Instant until = now + lease;
            List<EventId> leased = [];
            while (claimed.Count < max && eventQueue.TryPeek(out EventId id, out (Instant AvailableAt, long Sequence) at) && at.AvailableAt <= now)
            {
                eventQueue.Dequeue();
                if (!events.TryGetValue(id, out (FunnelEvent Event, Instant AvailableAt) stored) || stored.AvailableAt != at.AvailableAt)
                {
                    continue; // stale: acknowledged, or claimed again after this item was queued.
                }

                events[id] = (stored.Event, until);
                leased.Add(id);
                claimed.Add(stored.Event);
            }

            foreach (EventId id in leased)
            {
                eventQueue.Enqueue(id, (until, eventSequence++));
            }
        }

        return Task.FromResult(claimed.DrainToImmutable());
    }

    /// <inheritdoc/>
    public Task AcknowledgeEventsAsync(IEnumerable<EventId> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        lock (gate)
        {
            foreach (EventId id in ids)
            {
                events.Remove(id);
            }
        }

        return Task.CompletedTask;
    }

    private bool Add(OutboxEntry entry)
    {
        if (!entries.TryAdd(entry.Key, entry with { Version = 0 }))
        {
            return false;
        }

        if (IsOpen(entry.State))
        {
            due.Enqueue(entry.Key, entry.DueAt);
        }

        return true;
    }

    private bool Update(OutboxEntry current, OutboxEntry replacement)
    {
        if (!entries.TryGetValue(current.Key, out OutboxEntry? stored) || stored.Version != current.Version)
        {
            return false;
        }

        OutboxEntry updated = replacement with { Key = current.Key, Version = current.Version + 1 };
        entries[current.Key] = updated;
        if (IsOpen(updated.State) && updated.DueAt != stored.DueAt)
        {
            due.Enqueue(current.Key, updated.DueAt);
        }

        if (!updated.Events.IsDefaultOrEmpty && updated.Events != current.Events)
        {
            foreach (FunnelEvent e in updated.Events)
            {
                if (events.TryAdd(e.Id, (e, Instant.MinValue)))
                {
                    eventQueue.Enqueue(e.Id, (Instant.MinValue, eventSequence++));
                }
            }
        }

        return true;
    }

    private static bool IsOpen(SendState state) => state is SendState.Pending or SendState.FailedTransient or SendState.Sending;
}
