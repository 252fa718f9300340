using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Storage.Sqlite.Core;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;
using NodaTime;

namespace Funnel.Storage.Sqlite.Sequences;

/// <summary>The <see cref="ISendOutbox"/> on SQLite: table <c>outbox</c> for the sends; the events of an update go into the event log's <c>events</c> (with the log of the same database) or <c>outbox_events</c>.</summary>
/// <remarks>
/// <para>
/// Every call that changes something is one write work item of the <see cref="SqliteDatabase"/> (one transaction,
/// shared with other writes by group commit): a batch member runs its statement once per item inside that one work
/// item, and a read-compare-write such as a claim cannot interleave with another writer. The claim reads the due open
/// entries through the partial index <c>outbox_due</c> (exactly the claim's predicate), earliest first, and moves them to
/// <see cref="SendState.Sending"/> in the same work item.
/// </para>
/// <para>
/// The events of an update are inserted into <c>outbox_events</c> in the same work item as the entry's new state, only
/// when the compare-and-set wins, and only when the replacement carries events other than those of the entry it
/// replaces (the in-memory rule: an update that copies the current entry's events records nothing again). The
/// events are not stored on the entry: an entry read back (claimed or found) has empty
/// <see cref="OutboxEntry.Events"/>; they live in the event log until acknowledged. Created with the
/// <see cref="SqliteFunnelEventLog"/> of the same database (as <c>AddFunnelSqlite</c> registers it), the outbox writes
/// them into the log's <c>events</c> instead, in the same work item, as an append does (an id already logged is left out).
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe; the database file may be shared with other processes (one writer at a time).</threadsafety>
internal sealed class SqliteSendOutbox(SqliteDatabase database, FunnelEventSerializer serializer, IFunnelEventLog? eventLog) : ISendOutbox
{
    /// <summary>The event log the events of an update go to in the update's own work item, or <see langword="null"/> to keep them in <c>outbox_events</c>.</summary>
    private readonly SqliteFunnelEventLog? _log = eventLog is SqliteFunnelEventLog log && log.Database == database ? log : null;

    /// <summary>Creates the outbox; the events of its updates go to <c>outbox_events</c>, for <see cref="ClaimEventsAsync"/>.</summary>
    public SqliteSendOutbox(SqliteDatabase database, FunnelEventSerializer serializer)
        : this(database, serializer, eventLog: null)
    {
    }

    /// <summary>Stored in <c>outbox_events.available_at</c> for an event that may be handed out at once.</summary>
    private const long AtOnce = long.MinValue;

    private const string Columns =
        "key, enrolment_id, lead_id, sequence, step_index, scheduled_for, due_at, state, attempts, claimed_by, completed_at, message_id, reason, outcome, version";

    private const string InsertSql =
        "INSERT INTO outbox (" + Columns + ") VALUES ($key, $enrolment, $lead, $sequence, $step, $scheduled, $due, $state, "
        + "$attempts, $claimedBy, $completed, $messageId, $reason, $outcome, 0) ON CONFLICT (key) DO NOTHING";

    private const string UpdateSql =
        "UPDATE outbox SET enrolment_id = $enrolment, lead_id = $lead, sequence = $sequence, step_index = $step, "
        + "scheduled_for = $scheduled, due_at = $due, state = $state, attempts = $attempts, claimed_by = $claimedBy, "
        + "completed_at = $completed, message_id = $messageId, reason = $reason, outcome = $outcome, version = version + 1 "
        + "WHERE key = $key AND version = $version";

    private const string InsertEventSql =
        "INSERT INTO outbox_events (id, available_at, type, payload) VALUES ($id, $at, $type, $payload) ON CONFLICT (id) DO NOTHING";

    // The WHERE clause repeats the partial index's predicate word for word, so SQLite uses outbox_due.
    internal const string DueSql =
        "SELECT " + Columns + " FROM outbox WHERE state IN (0, 1, 3) AND due_at <= $now ORDER BY due_at, key LIMIT $max";

    private const string ClaimSql =
        "UPDATE outbox SET state = 1, due_at = $until, claimed_by = $owner, version = version + 1 "
        + "WHERE key IN (SELECT value FROM json_each($keys))";

    internal const string AvailableEventsSql =
        "SELECT seq, payload FROM outbox_events WHERE available_at <= $now ORDER BY available_at, seq LIMIT $max";

    internal const string PurgeSql =
        "DELETE FROM outbox WHERE key IN (SELECT key FROM outbox WHERE state IN (2, 4, 5, 6, 7, 8) AND completed_at < $before "
        + "ORDER BY completed_at, key LIMIT $max)";

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(OutboxEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        cancellationToken.ThrowIfCancellationRequested();
        return database.WriteAsync(session => Insert(session, entry), cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<string>> TryAddManyAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(entries, static e => e.Key, nameof(entries));
        cancellationToken.ThrowIfCancellationRequested();
        if (entries.Count == 0)
        {
            return Task.FromResult(ImmutableArray<string>.Empty);
        }

        OutboxEntry[] batch = [.. entries];
        return database.WriteAsync(
            session =>
            {
                ImmutableArray<string>.Builder added = ImmutableArray.CreateBuilder<string>(batch.Length);
                foreach (OutboxEntry entry in batch)
                {
                    if (Insert(session, entry))
                    {
                        added.Add(entry.Key);
                    }
                }

                return added.DrainToImmutable();
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<OutboxEntry?> FindAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return database.ReadAsync(
            session => session.QueryFirst("SELECT " + Columns + " FROM outbox WHERE key = $key", ReadEntry, ("$key", key)),
            cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<ImmutableArray<OutboxEntry>> ListAsync(SendState state, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        List<OutboxEntry> found = await database.ReadAsync(
            session => session.Query(
                "SELECT " + Columns + " FROM outbox WHERE state = $state ORDER BY due_at, key LIMIT $max",
                ReadEntry,
                ("$state", (int)state),
                ("$max", limit)),
            cancellationToken).ConfigureAwait(false);
        return [.. found];
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
        Instant until = now + lease;
        return database.WriteAsync(
            session =>
            {
                List<OutboxEntry> due = session.Query(DueSql, ReadEntry, ("$now", now), ("$max", max));
                if (due.Count == 0)
                {
                    return ImmutableArray<OutboxEntry>.Empty;
                }

                string keys = JsonSerializer.Serialize(due.ConvertAll(static e => e.Key));
                session.Execute(ClaimSql, ("$until", until), ("$owner", owner), ("$keys", keys));
                ImmutableArray<OutboxEntry>.Builder claimed = ImmutableArray.CreateBuilder<OutboxEntry>(due.Count);
                foreach (OutboxEntry entry in due)
                {
                    claimed.Add(entry with { State = SendState.Sending, DueAt = until, ClaimedBy = owner, Version = entry.Version + 1 });
                }

                return claimed.MoveToImmutable();
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<bool> TryUpdateAsync(OutboxEntry current, OutboxEntry replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        cancellationToken.ThrowIfCancellationRequested();
        PendingUpdate update = Prepare(current, replacement);
        return database.WriteAsync(session => Apply(session, update), cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<string>> TryUpdateManyAsync(IReadOnlyList<(OutboxEntry Current, OutboxEntry Replacement)> updates, CancellationToken cancellationToken = default) =>
        TryAddAndUpdateManyAsync([], updates, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>One transaction, so one commit: the insert-if-absent additions and the compare-and-sets with their events.</remarks>
    public Task<ImmutableArray<string>> TryAddAndUpdateManyAsync(
        IReadOnlyList<OutboxEntry> additions,
        IReadOnlyList<(OutboxEntry Current, OutboxEntry Replacement)> updates,
        CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(additions, static e => e.Key, nameof(additions));
        StoreBatches.CheckDistinct(updates, static u => u.Current.Key, nameof(updates));
        cancellationToken.ThrowIfCancellationRequested();
        if (additions.Count == 0 && updates.Count == 0)
        {
            return Task.FromResult(ImmutableArray<string>.Empty);
        }

        OutboxEntry[] added = [.. additions];
        PendingUpdate[] batch = new PendingUpdate[updates.Count];
        for (int i = 0; i < batch.Length; i++)
        {
            (OutboxEntry current, OutboxEntry replacement) = updates[i];
            ArgumentNullException.ThrowIfNull(replacement, nameof(updates));
            batch[i] = Prepare(current, replacement);
        }

        return database.WriteAsync(
            session =>
            {
                foreach (OutboxEntry entry in added)
                {
                    Insert(session, entry);
                }

                ImmutableArray<string>.Builder won = ImmutableArray.CreateBuilder<string>(batch.Length);
                foreach (PendingUpdate update in batch)
                {
                    if (Apply(session, update))
                    {
                        won.Add(update.Key);
                    }
                }

                return won.DrainToImmutable();
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The SQLite event log of the same database when <c>AddFunnelSqlite</c> registered both: the events of an update
    /// are then inserted into <c>events</c> in the update's own work item, so they commit with the send's new state and,
    /// the database having one writer, take their positions in commit order. Otherwise <see langword="null"/>, and they
    /// go to <c>outbox_events</c>.
    /// </remarks>
    public IFunnelEventLog? EventLog => _log;

    /// <inheritdoc/>
    public Task<int> PurgeCompletedAsync(Instant completedBefore, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        cancellationToken.ThrowIfCancellationRequested();
        return database.WriteAsync(session => session.Execute(PurgeSql, ("$before", completedBefore), ("$max", max)), cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<ImmutableArray<FunnelEvent>> ClaimEventsAsync(Instant now, int max, Duration lease, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        if (lease <= Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "The lease must be positive.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        Instant until = now + lease;
        List<string> payloads = await database.WriteAsync(
            session =>
            {
                List<(long Seq, string Payload)> rows = session.Query(
                    AvailableEventsSql,
                    static r => (r.GetInt64(0), r.GetString(1)),
                    ("$now", now),
                    ("$max", max));
                if (rows.Count > 0)
                {
                    string seqs = "[" + string.Join(',', rows.Select(static r => r.Seq.ToString(CultureInfo.InvariantCulture))) + "]";
                    session.Execute("UPDATE outbox_events SET available_at = $until WHERE seq IN (SELECT value FROM json_each($seqs))", ("$until", until), ("$seqs", seqs));
                }

                return rows.ConvertAll(static r => r.Payload);
            },
            cancellationToken).ConfigureAwait(false);

        // Deserialized here, off the writer's thread.
        ImmutableArray<FunnelEvent>.Builder events = ImmutableArray.CreateBuilder<FunnelEvent>(payloads.Count);
        foreach (string payload in payloads)
        {
            events.Add(serializer.Deserialize(payload));
        }

        return events.MoveToImmutable();
    }

    /// <inheritdoc/>
    public Task AcknowledgeEventsAsync(IEnumerable<EventId> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        List<string> texts = [.. ids.Select(static id => id.Value.ToString("D", CultureInfo.InvariantCulture))];
        if (texts.Count == 0)
        {
            return Task.CompletedTask;
        }

        string json = JsonSerializer.Serialize(texts);
        return database.WriteAsync(
            session => session.Execute("DELETE FROM outbox_events WHERE id IN (SELECT value FROM json_each($ids))", ("$ids", json)),
            cancellationToken);
    }

    /// <summary>The events to record with an update, serialized before the write (off the writer's thread).</summary>
    private PendingUpdate Prepare(OutboxEntry current, OutboxEntry replacement)
    {
        ImmutableArray<FunnelEvent> events = replacement.Events;
        StoredEvent[] stored = [];
        SqliteFunnelEventLog.Row[] logged = [];
        if (!events.IsDefaultOrEmpty && events != current.Events)
        {
            if (_log is null)
            {
                stored = new StoredEvent[events.Length];
            }
            else
            {
                logged = new SqliteFunnelEventLog.Row[events.Length];
            }

            for (int i = 0; i < events.Length; i++)
            {
                FunnelEvent e = events[i] ?? throw new ArgumentException("An event of the replacement is null.", nameof(replacement));
                if (_log is null)
                {
                    stored[i] = new StoredEvent(e.Id.Value, e.EventType, serializer.Serialize(e));
                }
                else
                {
                    logged[i] = SqliteFunnelEventLog.RowOf(e, serializer);
                }
            }
        }

        return new PendingUpdate(current.Key, current.Version, replacement, stored, logged);
    }

    private static bool Apply(SqliteSession session, PendingUpdate update)
    {
        OutboxEntry r = update.Replacement;
        int changed = session.Execute(
            UpdateSql,
            ("$key", update.Key),
            ("$version", update.Version),
            ("$enrolment", r.Enrolment.Value),
            ("$lead", r.LeadId.Value),
            ("$sequence", r.Sequence),
            ("$step", r.StepIndex),
            ("$scheduled", r.ScheduledFor),
            ("$due", r.DueAt),
            ("$state", r.State),
            ("$attempts", r.Attempts),
            ("$claimedBy", r.ClaimedBy),
            ("$completed", r.CompletedAt),
            ("$messageId", r.MessageId),
            ("$reason", r.Reason),
            ("$outcome", r.Outcome));
        if (changed == 0)
        {
            return false;
        }

        foreach (StoredEvent e in update.Events)
        {
            session.Execute(InsertEventSql, ("$id", e.Id), ("$at", AtOnce), ("$type", e.Type), ("$payload", e.Payload));
        }

        foreach (SqliteFunnelEventLog.Row row in update.Logged)
        {
            SqliteFunnelEventLog.Write(session, row);
        }

        return true;
    }

    private static bool Insert(SqliteSession session, OutboxEntry entry) => session.Execute(
        InsertSql,
        ("$key", entry.Key),
        ("$enrolment", entry.Enrolment.Value),
        ("$lead", entry.LeadId.Value),
        ("$sequence", entry.Sequence),
        ("$step", entry.StepIndex),
        ("$scheduled", entry.ScheduledFor),
        ("$due", entry.DueAt),
        ("$state", entry.State),
        ("$attempts", entry.Attempts),
        ("$claimedBy", entry.ClaimedBy),
        ("$completed", entry.CompletedAt),
        ("$messageId", entry.MessageId),
        ("$reason", entry.Reason),
        ("$outcome", entry.Outcome)) == 1;

    private static OutboxEntry ReadEntry(SqliteDataReader r) => new()
    {
        Key = r.GetString(0),
        Enrolment = new EnrolmentId(Guid.Parse(r.GetString(1), CultureInfo.InvariantCulture)),
        LeadId = new LeadId(Guid.Parse(r.GetString(2), CultureInfo.InvariantCulture)),
        Sequence = r.GetString(3),
        StepIndex = r.GetInt32(4),
        ScheduledFor = r.GetInstant(5),
        DueAt = r.GetInstant(6),
        State = (SendState)r.GetInt32(7),
        Attempts = r.GetInt32(8),
        ClaimedBy = r.GetNullableString(9),
        CompletedAt = r.GetNullableInstant(10),
        MessageId = r.GetNullableString(11),
        Reason = r.GetNullableString(12),
        Outcome = r.IsDBNull(13) ? null : (SendState)r.GetInt32(13),
        Version = r.GetInt64(14),
    };

    private readonly record struct StoredEvent(Guid Id, string Type, string Payload);

    /// <summary>A compare-and-set with the events it records: kept for <c>outbox_events</c>, or rows for the event log.</summary>
    private readonly record struct PendingUpdate(string Key, long Version, OutboxEntry Replacement, StoredEvent[] Events, SqliteFunnelEventLog.Row[] Logged);
}
