using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Sequences;

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
/// version, so it never disturbs a claim. An outbox in the same database as the event log may instead insert them
/// straight into the log in that transaction (see <see cref="EventLog"/>).
/// </para>
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads and processes at once.</threadsafety>
public interface ISendOutbox
{
    /// <summary>Adds an entry unless one with its key exists (so scheduling a step twice adds it once).</summary>
    /// <param name="entry">The entry; it is stored with version 0.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added.</returns>
    Task<bool> TryAddAsync(OutboxEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Finds an entry by its idempotency key.</summary>
    /// <param name="key">The key, <c>{enrolment}:{step}</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The entry as stored, or <see langword="null"/> when there is none.</returns>
    Task<OutboxEntry?> FindAsync(string key, CancellationToken cancellationToken = default);

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

    /// <summary>Gets the event log this outbox writes the events of an update into, in the update's own transaction, or <see langword="null"/> when it keeps them for <see cref="ClaimEventsAsync"/>.</summary>
    /// <remarks>
    /// <para>
    /// A database outbox whose event log is in the same database can write the events with the new state: they then
    /// reach the log when the send's outcome commits, without the claim, append and acknowledgement of a drain. The
    /// <see cref="SequenceEngine"/> requires this log to be its own <see cref="SequenceEngineSettings.EventLog"/>, and
    /// then reports the events of its own updates in <see cref="DispatchResult.Events"/>; it still drains what
    /// <see cref="ClaimEventsAsync"/> hands out (events an earlier version kept).
    /// </para>
    /// <para>
    /// The default is <see langword="null"/>, as for the in-memory outbox. The SQLite and PostgreSQL outboxes return the
    /// event log of their database when <c>AddFunnelSqlite</c> or <c>AddFunnelPostgreSql</c> registered both.
    /// </para>
    /// </remarks>
    IFunnelEventLog? EventLog => null;

    /// <summary>Removes events from the event log; unknown or already acknowledged ids are ignored.</summary>
    /// <param name="ids">The ids of the events recorded by the caller.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the events are removed.</returns>
    Task AcknowledgeEventsAsync(IEnumerable<EventId> ids, CancellationToken cancellationToken = default);

    /// <summary>Removes entries that reached a final state before <paramref name="completedBefore"/> (retention), oldest first.</summary>
    /// <remarks>
    /// Only entries in a final state (<see cref="SendState.Sent"/>, <see cref="SendState.FailedPermanent"/>,
    /// <see cref="SendState.Suppressed"/>, <see cref="SendState.Skipped"/>, <see cref="SendState.Cancelled"/>) whose
    /// <see cref="OutboxEntry.CompletedAt"/> is earlier than the cutoff are removed; open entries never are. Run it from
    /// a scheduled job until it returns less than <paramref name="max"/>. A purged key can be added again, so purge
    /// only entries older than any redelivery of the events that schedule them.
    /// </remarks>
    /// <param name="completedBefore">The cutoff.</param>
    /// <param name="max">The most entries to remove in this call.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The number of entries removed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    Task<int> PurgeCompletedAsync(Instant completedBefore, int max, CancellationToken cancellationToken = default);

    /// <summary>Lists up to <paramref name="limit"/> entries in one state, earliest due first (then by key), for operations pages.</summary>
    /// <remarks>
    /// A read, not a claim: the entries may change as soon as they are returned, so act on one only by compare-and-set
    /// (<see cref="TryUpdateAsync"/>). The in-memory, SQLite and PostgreSQL outboxes implement it; the default
    /// implementation throws <see cref="NotSupportedException"/>, so an outbox written before this member still compiles.
    /// </remarks>
    /// <param name="state">The state to list.</param>
    /// <param name="limit">The most entries to return.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The entries as stored, ordered by <see cref="OutboxEntry.DueAt"/> then <see cref="OutboxEntry.Key"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is not positive.</exception>
    /// <exception cref="NotSupportedException">The outbox cannot list its entries (the default implementation).</exception>
    Task<ImmutableArray<OutboxEntry>> ListAsync(SendState state, int limit, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} cannot list its entries: implement ISendOutbox.ListAsync.");

    /// <summary>Adds several entries, each as by <see cref="TryAddAsync"/> (insert-if-absent), in order.</summary>
    /// <remarks>The default implementation calls <see cref="TryAddAsync"/> once per entry; a database store overrides it with one statement.</remarks>
    /// <param name="entries">The entries; each key at most once.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The keys of the entries added, in the order given; a missing key existed already.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="entries"/> or an entry is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A key appears more than once.</exception>
    async Task<ImmutableArray<string>> TryAddManyAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(entries, static e => e.Key, nameof(entries));
        ImmutableArray<string>.Builder added = ImmutableArray.CreateBuilder<string>();
        foreach (OutboxEntry entry in entries)
        {
            if (await TryAddAsync(entry, cancellationToken).ConfigureAwait(false))
            {
                added.Add(entry.Key);
            }
        }

        return added.DrainToImmutable();
    }

    /// <summary>Applies several compare-and-set updates, each as by <see cref="TryUpdateAsync"/> (with its events), in order.</summary>
    /// <remarks>
    /// Each update succeeds or fails on its own; the events of an update are recorded exactly when it succeeds. The
    /// default implementation calls <see cref="TryUpdateAsync"/> once per update; a database store overrides it with one
    /// statement that returns the winners' keys.
    /// </remarks>
    /// <param name="updates">The entries as claimed or read and their replacements; each key at most once.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The keys of the entries stored, in the order given; a missing key lost its claim.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="updates"/> or an entry is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A key appears more than once.</exception>
    async Task<ImmutableArray<string>> TryUpdateManyAsync(IReadOnlyList<(OutboxEntry Current, OutboxEntry Replacement)> updates, CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(updates, static u => u.Current.Key, nameof(updates));
        ImmutableArray<string>.Builder won = ImmutableArray.CreateBuilder<string>();
        foreach ((OutboxEntry current, OutboxEntry replacement) in updates)
        {
            if (await TryUpdateAsync(current, replacement, cancellationToken).ConfigureAwait(false))
            {
                won.Add(current.Key);
            }
        }

        return won.DrainToImmutable();
    }

    /// <summary>Adds several entries (as by <see cref="TryAddManyAsync"/>) and applies several compare-and-set updates (as by <see cref="TryUpdateManyAsync"/>), in one store call.</summary>
    /// <remarks>
    /// The dispatcher finishes a batch with it: the next steps of the sends made and their final states. Each part keeps
    /// its own semantics (an addition is insert-if-absent, an update succeeds or fails on its own with its events), so
    /// the two parts need not be atomic together. The default implementation calls <see cref="TryAddManyAsync"/> and
    /// then <see cref="TryUpdateManyAsync"/>; a database store overrides it to write both in one transaction, which
    /// saves a commit per batch.
    /// </remarks>
    /// <param name="additions">The entries to add; each key at most once.</param>
    /// <param name="updates">The entries as claimed or read and their replacements; each key at most once.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The keys of the updates stored, in the order given; a missing key lost its claim.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="additions"/>, <paramref name="updates"/> or an entry is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A key appears more than once in one of the lists.</exception>
    async Task<ImmutableArray<string>> TryAddAndUpdateManyAsync(
        IReadOnlyList<OutboxEntry> additions,
        IReadOnlyList<(OutboxEntry Current, OutboxEntry Replacement)> updates,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(additions);
        ArgumentNullException.ThrowIfNull(updates);
        if (additions.Count > 0)
        {
            await TryAddManyAsync(additions, cancellationToken).ConfigureAwait(false);
        }

        return await TryUpdateManyAsync(updates, cancellationToken).ConfigureAwait(false);
    }
}
