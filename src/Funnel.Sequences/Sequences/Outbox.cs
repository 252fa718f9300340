using System.Collections.Immutable;
using Funnel.Events;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>The state of one send in the outbox.</summary>
public enum SendState
{
    /// <summary>Waiting for its due instant.</summary>
    Pending,

    /// <summary>Claimed by a dispatcher until the lease ends; due again if the lease runs out (the dispatcher crashed).</summary>
    Sending,

    /// <summary>Accepted by the mail server.</summary>
    Sent,

    /// <summary>Failed in a way worth retrying; due again at the backoff instant.</summary>
    FailedTransient,

    /// <summary>Failed for good (a permanent error, or too many transient ones).</summary>
    FailedPermanent,

    /// <summary>Not sent because the lead may not receive it (unsubscribed, bounced, complained, no consent).</summary>
    Suppressed,

    /// <summary>Not sent because the step's conditions did not hold or its anchored instant had passed.</summary>
    Skipped,

    /// <summary>Not sent because the enrolment ended first (an exit goal).</summary>
    Cancelled,
}

/// <summary>One send of one step to one lead, keyed by its idempotency key (enrolment, step).</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record OutboxEntry
{
    /// <summary>Gets the idempotency key, <c>{enrolment}:{step}</c>; unique in the outbox.</summary>
    public required string Key { get; init; }

    /// <summary>Gets the enrolment.</summary>
    public required EnrolmentId Enrolment { get; init; }

    /// <summary>Gets the lead.</summary>
    public required LeadId LeadId { get; init; }

    /// <summary>Gets the sequence key.</summary>
    public required string Sequence { get; init; }

    /// <summary>Gets the index of the step in the sequence when the entry was scheduled.</summary>
    /// <remarks>The step's key in <see cref="Key"/> is its identity: if steps were inserted or removed since, the dispatcher finds the step by key.</remarks>
    public required int StepIndex { get; init; }

    /// <summary>Gets the instant the step is meant to be sent at (the computed send time, or the deferred one); later steps count from it.</summary>
    public required Instant ScheduledFor { get; init; }

    /// <summary>Gets the instant the entry is next due: the send instant, the retry instant, or the end of a claim's lease.</summary>
    public required Instant DueAt { get; init; }

    /// <summary>Gets the state.</summary>
    /// <value>Defaults to <see cref="SendState.Pending"/>.</value>
    public SendState State { get; init; } = SendState.Pending;

    /// <summary>Gets the number of send attempts made.</summary>
    /// <value>Defaults to 0.</value>
    public int Attempts { get; init; }

    /// <summary>Gets the dispatcher holding the claim while <see cref="SendState.Sending"/>.</summary>
    /// <value><see langword="null"/> when not claimed.</value>
    public string? ClaimedBy { get; init; }

    /// <summary>Gets when the entry reached a final state.</summary>
    /// <value><see langword="null"/> while pending.</value>
    public Instant? CompletedAt { get; init; }

    /// <summary>Gets the transport message id of a sent email.</summary>
    /// <value><see langword="null"/> when not sent or unknown.</value>
    public string? MessageId { get; init; }

    /// <summary>Gets the last failure or the reason for suppression or skipping.</summary>
    /// <value><see langword="null"/> when there is none.</value>
    public string? Reason { get; init; }

    /// <summary>Gets the version, incremented by every stored change (for compare-and-set).</summary>
    /// <value>Starts at 0.</value>
    public long Version { get; init; }

    /// <summary>Gets the outcome of the send, recorded while the entry is still claimed, before the follow-up work (next step, enrolment) is done.</summary>
    /// <remarks>
    /// A dispatcher that finds an entry with an outcome (its predecessor crashed after recording it) does not send again:
    /// it only finishes the follow-up work and moves the entry to this state.
    /// </remarks>
    /// <value><see langword="null"/> until the send has a result.</value>
    public SendState? Outcome { get; init; }

    /// <summary>Gets the events recorded by the change that stored this version (transactional outbox).</summary>
    /// <remarks>
    /// <see cref="ISendOutbox.TryUpdateAsync"/> appends these events to the outbox's event log in the same atomic step as
    /// the state change, so an event is recorded exactly when its change is; they are handed out by
    /// <see cref="ISendOutbox.ClaimEventsAsync"/> until acknowledged.
    /// </remarks>
    /// <value>Defaults to empty.</value>
    public ImmutableArray<FunnelEvent> Events { get; init; } = [];

    /// <summary>Returns the idempotency key of a step of an enrolment.</summary>
    /// <param name="enrolment">The enrolment.</param>
    /// <param name="step">The step key.</param>
    /// <returns>The key, <c>{enrolment}:{step}</c>.</returns>
    public static string KeyOf(EnrolmentId enrolment, string step) => enrolment.ToString() + ":" + step;
}

/// <summary>The outbox of sends: the dispatcher claims due entries with a lease and completes them by compare-and-set.</summary>
/// <remarks>
/// A claim moves due entries (pending, failed-transient, or sending with an expired lease) to
/// <see cref="SendState.Sending"/> with <see cref="OutboxEntry.DueAt"/> at the end of the lease, atomically, so two
/// dispatchers never claim the same entry; if a dispatcher crashes its claims become due again when the lease ends.
/// Every change is compare-and-set on <see cref="OutboxEntry.Version"/>. A database implementation uses
/// <c>UPDATE … WHERE due_at &lt;= now … FOR UPDATE SKIP LOCKED</c> over an index on <c>due_at</c>.
/// <para>
/// The outbox also keeps the event log (transactional outbox): the <see cref="OutboxEntry.Events"/> of an update are
/// inserted in the same transaction as the entry's new state, then handed out by <see cref="ClaimEventsAsync"/> with a
/// lease (like sends) until <see cref="AcknowledgeEventsAsync"/> removes them. Acknowledging does not change any entry's
/// version, so it never disturbs a claim.
/// </para>
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads and processes at once.</threadsafety>
public interface ISendOutbox
{
    /// <summary>Adds an entry unless one with its key exists (so scheduling a step twice adds it once).</summary>
    /// <param name="entry">The entry (version 0).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added.</returns>
    Task<bool> TryAddAsync(OutboxEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Claims up to <paramref name="max"/> entries due at <paramref name="now"/>, earliest first.</summary>
    /// <param name="now">The current instant.</param>
    /// <param name="max">The most entries to claim.</param>
    /// <param name="lease">How long the claim lasts.</param>
    /// <param name="owner">The claiming dispatcher's id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The claimed entries, as stored (state <see cref="SendState.Sending"/>).</returns>
    Task<ImmutableArray<OutboxEntry>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default);

    /// <summary>Replaces <paramref name="current"/> with <paramref name="replacement"/> if the stored version is still <paramref name="current"/>'s.</summary>
    /// <param name="current">The entry as claimed or read.</param>
    /// <param name="replacement">The new state; its version is set to <paramref name="current"/>'s plus one.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when the claim was lost.</returns>
    Task<bool> TryUpdateAsync(OutboxEntry current, OutboxEntry replacement, CancellationToken cancellationToken = default);

    /// <summary>Claims up to <paramref name="max"/> unacknowledged events that are not under another claim's lease, oldest first.</summary>
    /// <param name="now">The current instant.</param>
    /// <param name="max">The most events to claim.</param>
    /// <param name="lease">How long the claim lasts; unacknowledged events are handed out again after it.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The events, with the ids they were recorded with.</returns>
    Task<ImmutableArray<FunnelEvent>> ClaimEventsAsync(Instant now, int max, Duration lease, CancellationToken cancellationToken = default);

    /// <summary>Removes events from the event log; unknown or already acknowledged ids are ignored.</summary>
    /// <param name="ids">The ids of the events recorded by the caller.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the events are removed.</returns>
    Task AcknowledgeEventsAsync(IEnumerable<EventId> ids, CancellationToken cancellationToken = default);
}

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
    public Task<bool> TryAddAsync(OutboxEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        cancellationToken.ThrowIfCancellationRequested();
        lock (gate)
        {
            if (!entries.TryAdd(entry.Key, entry with { Version = 0 }))
            {
                return Task.FromResult(false);
            }

            if (IsOpen(entry.State))
            {
                due.Enqueue(entry.Key, entry.DueAt);
            }

            return Task.FromResult(true);
        }
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
            if (!entries.TryGetValue(current.Key, out OutboxEntry? stored) || stored.Version != current.Version)
            {
                return Task.FromResult(false);
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

            return Task.FromResult(true);
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

    private static bool IsOpen(SendState state) => state is SendState.Pending or SendState.FailedTransient or SendState.Sending;
}
