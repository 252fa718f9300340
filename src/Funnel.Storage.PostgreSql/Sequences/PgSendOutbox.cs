using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql.Core;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;
using NpgsqlTypes;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Sequences;

/// <summary>The <see cref="ISendOutbox"/> on PostgreSQL: table <c>outbox</c> for the sends; the events of an update go into the event log's <c>events</c> (with the log of the same database) or <c>outbox_events</c>.</summary>
/// <remarks>
/// <para>
/// Several app instances may dispatch from one outbox. A claim is one statement: the due open entries are selected
/// through the partial index <c>outbox_due</c> (exactly the claim's predicate), earliest first, <c>FOR UPDATE SKIP
/// LOCKED</c>, and moved to <see cref="SendState.Sending"/> with the lease end as <c>due_at</c> and the version plus
/// one, so two dispatchers never hold one entry: a row another claim locked is skipped, and one it just claimed no
/// longer matches the predicate when re-checked. A crashed holder's entries are due again when the lease ends.
/// </para>
/// <para>
/// Every update is a compare-and-set on <c>version</c> (the fencing token): a holder whose lease ran out and whose
/// entry was claimed again stores nothing. A batch of updates is one statement over <c>unnest</c> arrays; the events
/// of the winners, and only theirs, are inserted by the same statement, so an update and its events commit together
/// or not at all. Created with the <see cref="PgFunnelEventLog"/> of the same database (as <c>AddFunnelPostgreSql</c>
/// registers it), the outbox inserts them into the log's <c>events</c>, as an append does: the batch first takes the
/// log's transaction-scoped advisory lock (one round trip with the statement, held through the commit), so positions
/// still commit in order, and an id already logged is left out. Otherwise they go to <c>outbox_events</c>, from which
/// they are handed out with a lease (<c>available_at</c>, claimed with <c>SKIP LOCKED</c>) until acknowledged
/// (deleted). As in the in-memory outbox, a replacement that carries the events of the entry it replaces records
/// nothing again; the events are not stored on the entry, so an entry read back has empty <see cref="OutboxEntry.Events"/>.
/// </para>
/// <para>
/// An add or update that leaves an open entry due at or before the clock's now also sends
/// <c>NOTIFY &lt;schema&gt;_sends</c> in its transaction (once per statement), so listening dispatchers wake at once.
/// Instants are stored to the microsecond: <c>due_at</c> rounded up, so an entry is never due early, the others
/// truncated.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe and safe to call from several processes on one database.</threadsafety>
internal sealed class PgSendOutbox : ISendOutbox
{
    private readonly PgDatabase _database;
    private readonly FunnelEventSerializer _serializer;
    private readonly IClock _clock;

    /// <summary>The event log the events of an update go to in the update's own transaction, or <see langword="null"/> to keep them in <c>outbox_events</c>.</summary>
    private readonly PgFunnelEventLog? _log;

    private const string Columns =
        "key, enrolment_id, lead_id, sequence, step_index, scheduled_for, due_at, state, attempts, claimed_by, completed_at, message_id, reason, outcome, version";

    private const string Unnest =
        "unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::int[], $6::timestamptz[], $7::timestamptz[], $8::int[], "
        + "$9::int[], $10::text[], $11::timestamptz[], $12::text[], $13::text[], $14::int[]) WITH ORDINALITY";

    // The same columns as parameters $22 to $35, for the additions of the combined statement.
    private const string UnnestAdditions =
        "unnest($22::text[], $23::uuid[], $24::uuid[], $25::text[], $26::int[], $27::timestamptz[], $28::timestamptz[], $29::int[], "
        + "$30::int[], $31::text[], $32::timestamptz[], $33::text[], $34::text[], $35::int[]) WITH ORDINALITY";

    private const string UnnestColumns =
        "(key, enrolment_id, lead_id, sequence, step_index, scheduled_for, due_at, state, attempts, claimed_by, completed_at, message_id, reason, outcome, n)";

    private const string Open = "state IN (0, 1, 3)";

    private readonly string _addSql;

    private readonly string _updateSql;

    // The update statement's compare-and-sets and events ($1 to $21) with insert-if-absent additions ($22 to $35), in
    // one statement: one commit. The keys differ (an addition is a later step), so the two never meet on a row.
    private readonly string _addAndUpdateSql;

    // The same two with the events inserted into the event log instead of outbox_events (their extra columns follow
    // the statement's own parameters), run after the log's advisory lock; null without the log.
    private readonly string? _directUpdateSql;

    private readonly string? _directAddAndUpdateSql;

    private readonly string _eventsLockKey;

    private readonly string _eventsChannel;

    // The WHERE clause repeats the partial index's predicate word for word, so the planner uses outbox_due; the update
    // finds the selected rows through the primary key (KeysOf), and the join with `due` only adds the instant each was due.
    private readonly string _claimSql;

    private readonly string _findSql;

    private readonly string _listSql;

    private readonly string _claimEventsSql;

    private readonly string _acknowledgeSql;

    private readonly string _purgeSql;

    private readonly string _channel;

    /// <summary>Creates the outbox; the events of its updates go to <c>outbox_events</c>, for <see cref="ClaimEventsAsync"/>.</summary>
    public PgSendOutbox(PgDatabase database, FunnelEventSerializer serializer, IClock clock)
        : this(database, serializer, clock, eventLog: null)
    {
    }

    /// <summary>Creates the outbox; when <paramref name="eventLog"/> is the PostgreSQL event log of the same database, the events of its updates go straight into it.</summary>
    public PgSendOutbox(PgDatabase database, FunnelEventSerializer serializer, IClock clock, IFunnelEventLog? eventLog)
    {
        _database = database;
        _serializer = serializer;
        _clock = clock;
        _log = eventLog is PgFunnelEventLog log && log.Database == database ? log : null;
        _addSql =
            $"WITH added AS (INSERT INTO {database.Table("outbox")} AS o ({Columns}) "
            + $"SELECT u.key, u.enrolment_id, u.lead_id, u.sequence, u.step_index, u.scheduled_for, u.due_at, u.state, u.attempts, "
            + $"u.claimed_by, u.completed_at, u.message_id, u.reason, u.outcome, 0 FROM {Unnest} AS u{UnnestColumns} ORDER BY u.n "
            + "ON CONFLICT (key) DO NOTHING RETURNING o.key, o.state, o.due_at), "
            + $"wake AS (SELECT pg_notify($15, '') FROM added WHERE {Open} AND due_at <= $16 LIMIT 1) "
            + "SELECT key FROM added UNION ALL SELECT NULL FROM wake";
        _updateSql = UpdateSql(database, directEvents: null);
        _addAndUpdateSql = AddAndUpdateSql(database, directEvents: null);
        _directUpdateSql = _log is null ? null : UpdateSql(database, DirectEvents(database, first: 22));
        _directAddAndUpdateSql = _log is null ? null : AddAndUpdateSql(database, DirectEvents(database, first: 36));
        _eventsLockKey = PgFunnelEventLog.LockKey(database.Schema);
        _eventsChannel = PgFunnelEventLog.EventsChannel(database.Schema);
        _claimSql =
            $"WITH due AS (SELECT key, due_at FROM {database.Table("outbox")} WHERE {Open} AND due_at <= $1 "
            + "ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
            + $"claimed AS (UPDATE {database.Table("outbox")} o SET state = 1, due_at = $3, claimed_by = $4, version = o.version + 1 "
            + $"WHERE o.key = ANY ({KeysOf("due")}) RETURNING {Prefixed("o.")}) "
            + $"SELECT {Prefixed("claimed.")}, due.due_at FROM claimed JOIN due USING (key)";
        _findSql =
            $"SELECT {Columns} FROM {database.Table("outbox")} WHERE key = $1";
        _listSql =
            $"SELECT {Columns} FROM {database.Table("outbox")} WHERE state = $1 ORDER BY due_at, key LIMIT $2";
        _claimEventsSql =
            $"WITH c AS (SELECT seq, available_at FROM {database.Table("outbox_events")} WHERE available_at <= $1 "
            + "ORDER BY available_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED), "
            + $"leased AS (UPDATE {database.Table("outbox_events")} e SET available_at = $3 WHERE e.seq = ANY (ARRAY(SELECT seq FROM c)) "
            + "RETURNING e.payload, e.seq) "
            + "SELECT leased.payload, c.available_at, leased.seq FROM leased JOIN c USING (seq)";
        _acknowledgeSql =
            $"DELETE FROM {database.Table("outbox_events")} WHERE id = ANY (ARRAY(SELECT unnest($1::uuid[])))";
        _purgeSql =
            $"DELETE FROM {database.Table("outbox")} WHERE key IN (SELECT key FROM {database.Table("outbox")} "
            + "WHERE state IN (2, 4, 5, 6, 7, 8) AND completed_at < $1 ORDER BY completed_at, key LIMIT $2 FOR UPDATE SKIP LOCKED)";
        _channel = database.Schema + "_sends";
    }

    /// <summary>Gets the claim statement (<c>$1</c> now, <c>$2</c> max, <c>$3</c> lease end, <c>$4</c> owner), for plan tests.</summary>
    internal string ClaimSql => _claimSql;

    /// <summary>Gets the event claim statement (<c>$1</c> now, <c>$2</c> max, <c>$3</c> lease end), for plan tests.</summary>
    internal string ClaimEventsSql => _claimEventsSql;

    /// <summary>Gets the purge statement (<c>$1</c> cutoff, <c>$2</c> max), for plan tests.</summary>
    internal string PurgeSql => _purgeSql;

    /// <inheritdoc/>
    /// <remarks>
    /// The PostgreSQL event log of the same database when <c>AddFunnelPostgreSql</c> registered both (the events of an
    /// update are then inserted into <c>events</c> by the update's own statement, after the log's advisory lock, so they
    /// commit with the send's new state and take their positions in commit order, as an append's do); otherwise
    /// <see langword="null"/>, and they go to <c>outbox_events</c>.
    /// </remarks>
    public IFunnelEventLog? EventLog => _log;

    /// <inheritdoc/>
    public async Task<bool> TryAddAsync(OutboxEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return !(await TryAddManyAsync([entry], cancellationToken).ConfigureAwait(false)).IsEmpty;
    }

    /// <inheritdoc/>
    public async Task<ImmutableArray<string>> TryAddManyAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(entries, static e => e.Key, nameof(entries));
        cancellationToken.ThrowIfCancellationRequested();
        if (entries.Count == 0)
        {
            return [];
        }

        OutboxEntry[] batch = [.. entries];
        HashSet<string> added = await _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, _addSql);
                AddEntryArrays(command, batch);
                command.Add(_channel).Add(_clock.GetCurrentInstant());
                return await ReadKeysAsync(command, cancellationToken).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        return InOrder(batch, added);
    }

    /// <inheritdoc/>
    public Task<OutboxEntry?> FindAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, _findSql).Add(key);
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadEntry(reader) : null;
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<OutboxEntry>> ListAsync(SendState state, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, _listSql).Add((int)state).Add(limit);
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                ImmutableArray<OutboxEntry>.Builder found = ImmutableArray.CreateBuilder<OutboxEntry>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    found.Add(ReadEntry(reader));
                }

                return found.ToImmutable();
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<ImmutableArray<OutboxEntry>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentNullException.ThrowIfNull(owner);
        if (lease <= Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "The lease must be positive.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        Instant until = now + lease;
        List<(OutboxEntry Entry, DateTime WasDue)> claimed = await _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, _claimSql)
                    .Add(now).Add(max).Add(RoundUp(until), NpgsqlDbType.TimestampTz).Add(owner);
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                List<(OutboxEntry, DateTime)> rows = [];
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    // The caller holds the lease until the instant it asked for; the row keeps it rounded up.
                    rows.Add((ReadEntry(reader) with { DueAt = until }, reader.GetDateTime(15)));
                }

                return rows;
            },
            cancellationToken).ConfigureAwait(false);

        // RETURNING has no order: earliest due first, as selected.
        return [.. claimed.OrderBy(static c => c.WasDue).ThenBy(static c => c.Entry.Key, StringComparer.Ordinal).Select(static c => c.Entry)];
    }

    /// <inheritdoc/>
    public async Task<bool> TryUpdateAsync(OutboxEntry current, OutboxEntry replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        return !(await TryUpdateManyAsync([(current, replacement)], cancellationToken).ConfigureAwait(false)).IsEmpty;
    }

    /// <inheritdoc/>
    public async Task<ImmutableArray<string>> TryUpdateManyAsync(IReadOnlyList<(OutboxEntry Current, OutboxEntry Replacement)> updates, CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(updates, static u => u.Current.Key, nameof(updates));
        cancellationToken.ThrowIfCancellationRequested();
        if (updates.Count == 0)
        {
            return [];
        }

        UpdateArrays arrays = UpdateArrays.Of(updates, _serializer);
        bool direct = _directUpdateSql is not null && arrays.EventIds.Length > 0;
        HashSet<string> won = await _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, direct ? _directUpdateSql! : _updateSql);
                arrays.AddTo(command, _channel, _clock.GetCurrentInstant());
                return direct
                    ? await ReadKeysAfterLockAsync(connection, arrays.AddEventColumns(command, _eventsChannel), cancellationToken).ConfigureAwait(false)
                    : await ReadKeysAsync(command, cancellationToken).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        return InOrder(arrays.Replacements, won);
    }

    /// <inheritdoc/>
    /// <remarks>One statement, so one commit: the compare-and-sets with their events and the insert-if-absent additions.</remarks>
    public async Task<ImmutableArray<string>> TryAddAndUpdateManyAsync(
        IReadOnlyList<OutboxEntry> additions,
        IReadOnlyList<(OutboxEntry Current, OutboxEntry Replacement)> updates,
        CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(additions, static e => e.Key, nameof(additions));
        StoreBatches.CheckDistinct(updates, static u => u.Current.Key, nameof(updates));
        cancellationToken.ThrowIfCancellationRequested();
        if (additions.Count == 0)
        {
            return await TryUpdateManyAsync(updates, cancellationToken).ConfigureAwait(false);
        }

        if (updates.Count == 0)
        {
            await TryAddManyAsync(additions, cancellationToken).ConfigureAwait(false);
            return [];
        }

        UpdateArrays arrays = UpdateArrays.Of(updates, _serializer);
        OutboxEntry[] added = [.. additions];
        bool direct = _directAddAndUpdateSql is not null && arrays.EventIds.Length > 0;
        HashSet<string> won = await _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, direct ? _directAddAndUpdateSql! : _addAndUpdateSql);
                arrays.AddTo(command, _channel, _clock.GetCurrentInstant());
                AddEntryArrays(command, added);
                return direct
                    ? await ReadKeysAfterLockAsync(connection, arrays.AddEventColumns(command, _eventsChannel), cancellationToken).ConfigureAwait(false)
                    : await ReadKeysAsync(command, cancellationToken).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        return InOrder(arrays.Replacements, won);
    }

    /// <inheritdoc/>
    public Task<int> PurgeCompletedAsync(Instant completedBefore, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        cancellationToken.ThrowIfCancellationRequested();
        return _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, _purgeSql).Add(completedBefore).Add(max);
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            },
            cancellationToken);
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
        List<(string Payload, DateTime Available, long Seq)> rows = await _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, _claimEventsSql).Add(now).Add(max).Add(RoundUp(now + lease), NpgsqlDbType.TimestampTz);
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                List<(string, DateTime, long)> read = [];
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    read.Add((reader.GetString(0), reader.GetDateTime(1), reader.GetInt64(2)));
                }

                return read;
            },
            cancellationToken).ConfigureAwait(false);

        // In the order they were available and recorded in; deserialized after the connection is back in the pool.
        return [.. rows.OrderBy(static r => r.Available).ThenBy(static r => r.Seq).Select(r => _serializer.Deserialize(r.Payload))];
    }

    /// <inheritdoc/>
    public Task AcknowledgeEventsAsync(IEnumerable<EventId> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        Guid[] values = [.. ids.Select(static id => id.Value)];
        if (values.Length == 0)
        {
            return Task.CompletedTask;
        }

        return _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, _acknowledgeSql).Add(values);
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <summary>The parameters of a batch of compare-and-sets: the replacements (keyed by the entries as claimed or read), the expected versions, and the new events of each.</summary>
    private sealed record UpdateArrays(
        OutboxEntry[] Replacements, long[] Versions, string[] EventKeys, Guid[] EventIds, string[] EventTypes, string[] EventPayloads, FunnelEvent[] Events)
    {
        public static UpdateArrays Of(IReadOnlyList<(OutboxEntry Current, OutboxEntry Replacement)> updates, FunnelEventSerializer serializer)
        {
            OutboxEntry[] replacements = new OutboxEntry[updates.Count];
            long[] versions = new long[updates.Count];
            List<string> eventKeys = [];
            List<Guid> eventIds = [];
            List<string> eventTypes = [];
            List<string> eventPayloads = [];
            List<FunnelEvent> recorded = [];
            for (int i = 0; i < replacements.Length; i++)
            {
                (OutboxEntry current, OutboxEntry replacement) = updates[i];
                ArgumentNullException.ThrowIfNull(replacement, nameof(updates));

                // The key and version come from the entry as claimed or read; the rest from the replacement.
                replacements[i] = replacement with { Key = current.Key };
                versions[i] = current.Version;
                ImmutableArray<FunnelEvent> events = replacement.Events;
                if (events.IsDefaultOrEmpty || events == current.Events)
                {
                    continue;
                }

                foreach (FunnelEvent? e in events)
                {
                    if (e is null)
                    {
                        throw new ArgumentException("An event of a replacement is null.", nameof(updates));
                    }

                    eventKeys.Add(current.Key);
                    eventIds.Add(e.Id.Value);
                    eventTypes.Add(e.EventType);
                    eventPayloads.Add(serializer.Serialize(e));
                    recorded.Add(e);
                }
            }

            return new UpdateArrays(replacements, versions, [.. eventKeys], [.. eventIds], [.. eventTypes], [.. eventPayloads], [.. recorded]);
        }

        /// <summary>Adds the events' columns the event log keeps besides key, id, type and payload (lead, partition key, instant) and the log's channel, after the statement's own parameters.</summary>
        /// <returns>The command.</returns>
        public NpgsqlCommand AddEventColumns(NpgsqlCommand command, string eventsChannel)
        {
            Guid?[] leads = new Guid?[Events.Length];
            int[] partitions = new int[Events.Length];
            DateTime[] times = new DateTime[Events.Length];
            for (int i = 0; i < Events.Length; i++)
            {
                LeadId? lead = EventLeads.LeadOf(Events[i]);
                leads[i] = lead?.Value;
                partitions[i] = LogPartition.KeyOf(lead ?? default);
                times[i] = PgValues.ToDateTime(Events[i].OccurredAt);
            }

            return command.Add(leads, NpgsqlDbType.Array | NpgsqlDbType.Uuid).Add(partitions).AddTimestamps(times).Add(eventsChannel);
        }

        /// <summary>Adds <c>$1</c>…<c>$21</c> of the update statement: the entries, the versions, the events, the wake-up channel and now.</summary>
        public void AddTo(NpgsqlCommand command, string channel, Instant now)
        {
            AddEntryArrays(command, Replacements);
            command.Add(Versions).Add(EventKeys).Add(EventIds).Add(EventTypes).Add(EventPayloads).Add(channel).Add(now);
        }
    }

    /// <summary>Adds <c>$1</c>…<c>$14</c>: one array per column of the entries, in the order of <see cref="Unnest"/>.</summary>
    private static void AddEntryArrays(NpgsqlCommand command, OutboxEntry[] entries)
    {
        int n = entries.Length;
        string[] keys = new string[n];
        Guid[] enrolments = new Guid[n];
        Guid[] leads = new Guid[n];
        string[] sequences = new string[n];
        int[] steps = new int[n];
        DateTime[] scheduled = new DateTime[n];
        DateTime[] due = new DateTime[n];
        int[] states = new int[n];
        int[] attempts = new int[n];
        string?[] claimedBy = new string?[n];
        DateTime?[] completed = new DateTime?[n];
        string?[] messageIds = new string?[n];
        string?[] reasons = new string?[n];
        int?[] outcomes = new int?[n];
        for (int i = 0; i < n; i++)
        {
            OutboxEntry e = entries[i];
            keys[i] = e.Key;
            enrolments[i] = e.Enrolment.Value;
            leads[i] = e.LeadId.Value;
            sequences[i] = e.Sequence ?? throw new ArgumentException("An entry has no sequence.", nameof(entries));
            steps[i] = e.StepIndex;
            scheduled[i] = PgValues.ToDateTime(e.ScheduledFor);
            due[i] = RoundUp(e.DueAt);
            states[i] = (int)e.State;
            attempts[i] = e.Attempts;
            claimedBy[i] = e.ClaimedBy;
            completed[i] = e.CompletedAt is { } at ? PgValues.ToDateTime(at) : null;
            messageIds[i] = e.MessageId;
            reasons[i] = e.Reason;
            outcomes[i] = e.Outcome is { } outcome ? (int)outcome : null;
        }

        command.Add(keys).Add(enrolments).Add(leads).Add(sequences).Add(steps).AddTimestamps(scheduled).AddTimestamps(due)
            .Add(states).Add(attempts).Add(claimedBy).AddTimestamps(completed).Add(messageIds).Add(reasons).Add(outcomes);
    }

    /// <summary>Returns an instant as a <c>timestamptz</c> value rounded up to the microsecond (a due instant is never earlier than asked).</summary>
    private static DateTime RoundUp(Instant instant)
    {
        DateTime truncated = PgValues.ToDateTime(instant);
        bool finite = truncated != DateTime.MinValue && truncated.Ticks <= DateTime.MaxValue.Ticks - 10;
        return finite && PgValues.FromDateTime(truncated) < instant ? truncated.AddTicks(10) : truncated;
    }

    private static async Task<HashSet<string>> ReadKeysAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        HashSet<string> keys = new(StringComparer.Ordinal);
        await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            // The row of the wake-up CTE is null.
            if (!reader.IsDBNull(0))
            {
                keys.Add(reader.GetString(0));
            }
        }

        return keys;
    }

    /// <summary>
    /// Runs <paramref name="statement"/> after the event log's transaction-scoped advisory lock, in one batch (one round
    /// trip, one implicit transaction, so the lock is held through the commit), and reads the winners' keys.
    /// </summary>
    /// <remarks>
    /// The lock is taken before the statement locks any outbox row, and nothing that holds the lock waits for an outbox
    /// row lock held by a statement that waits for the lock, so the two never deadlock.
    /// </remarks>
    private async Task<HashSet<string>> ReadKeysAfterLockAsync(NpgsqlConnection connection, NpgsqlCommand statement, CancellationToken cancellationToken)
    {
        await using NpgsqlBatch batch = new(connection);
        NpgsqlBatchCommand gate = new("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))");
        gate.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _eventsLockKey });
        batch.BatchCommands.Add(gate);
        NpgsqlBatchCommand body = new(statement.CommandText);
        foreach (NpgsqlParameter parameter in statement.Parameters)
        {
            body.Parameters.Add(parameter.Clone());
        }

        batch.BatchCommands.Add(body);
        await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlDataReader reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        HashSet<string> keys = new(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!reader.IsDBNull(0))
            {
                keys.Add(reader.GetString(0));
            }
        }

        return keys;
    }

    private static ImmutableArray<string> InOrder(OutboxEntry[] batch, HashSet<string> keys) =>
        [.. batch.Select(static e => e.Key).Where(keys.Contains)];

    /// <summary>Returns the update statement: compare-and-sets with their events (<c>$1</c>…<c>$21</c>), and the wake-ups.</summary>
    private static string UpdateSql(PgDatabase database, string? directEvents) =>
        CompareAndSet(database, directEvents)
        + $"wake AS (SELECT pg_notify($20, '') FROM won WHERE {Open} AND due_at <= $21 LIMIT 1) "
        + "SELECT key FROM won UNION ALL SELECT NULL FROM wake" + (directEvents is null ? string.Empty : " UNION ALL SELECT NULL FROM logged");

    /// <summary>Returns the combined statement: the update statement's parts and the insert-if-absent additions (<c>$22</c>…<c>$35</c>).</summary>
    private static string AddAndUpdateSql(PgDatabase database, string? directEvents) =>
        CompareAndSet(database, directEvents)
        + $"added AS (INSERT INTO {database.Table("outbox")} AS o ({Columns}) "
        + $"SELECT a.key, a.enrolment_id, a.lead_id, a.sequence, a.step_index, a.scheduled_for, a.due_at, a.state, a.attempts, "
        + $"a.claimed_by, a.completed_at, a.message_id, a.reason, a.outcome, 0 FROM {UnnestAdditions} AS a{UnnestColumns} ORDER BY a.n "
        + "ON CONFLICT (key) DO NOTHING RETURNING o.state, o.due_at), "
        + $"wake AS (SELECT pg_notify($20, '') FROM (SELECT state, due_at FROM won UNION ALL SELECT state, due_at FROM added) w "
        + $"WHERE {Open} AND due_at <= $21 LIMIT 1) "
        + "SELECT key FROM won UNION ALL SELECT NULL FROM wake" + (directEvents is null ? string.Empty : " UNION ALL SELECT NULL FROM logged");

    /// <summary>
    /// Returns the common table expressions of a batch of compare-and-sets (<c>$1</c>…<c>$19</c>): <c>won</c>, the entries
    /// updated, and their events inserted (into <c>outbox_events</c>, or as <paramref name="directEvents"/> says). The
    /// events of the winners only: the join with <c>won</c> drops those of a lost compare-and-set.
    /// </summary>
    private static string CompareAndSet(PgDatabase database, string? directEvents) =>
        $"WITH u AS (SELECT * FROM {Unnest} AS u{UnnestColumns}), "
        + $"won AS (UPDATE {database.Table("outbox")} o SET enrolment_id = u.enrolment_id, lead_id = u.lead_id, sequence = u.sequence, "
        + "step_index = u.step_index, scheduled_for = u.scheduled_for, due_at = u.due_at, state = u.state, attempts = u.attempts, "
        + "claimed_by = u.claimed_by, completed_at = u.completed_at, message_id = u.message_id, reason = u.reason, outcome = u.outcome, "
        + "version = o.version + 1 FROM u JOIN unnest($15::bigint[]) WITH ORDINALITY AS v(version, n) USING (n) "
        + "WHERE o.key = u.key AND o.version = v.version RETURNING o.key, o.state, o.due_at), "
        + (directEvents ?? $"ev AS (INSERT INTO {database.Table("outbox_events")} (id, type, payload) "
            + "SELECT e.id, e.type, e.payload::json FROM unnest($16::text[], $17::uuid[], $18::text[], $19::text[]) WITH ORDINALITY "
            + "AS e(key, id, type, payload, n) JOIN won USING (key) ORDER BY e.n ON CONFLICT (id) DO NOTHING), ");

    /// <summary>
    /// Returns the common table expressions that insert the winners' events into the event log, as
    /// <see cref="PgFunnelEventLog"/> does (a duplicate id is left out and spends no position), and notify the log's
    /// channel when one was inserted. The events' key, id, type and payload are <c>$16</c>…<c>$19</c>; their lead,
    /// partition key and instant are the three parameters from <paramref name="first"/>, the channel the fourth.
    /// </summary>
    private static string DirectEvents(PgDatabase database, int first) =>
        $"ev AS (INSERT INTO {database.Table("events")} (id, type, lead_id, partition_key, occurred_at, payload) "
        + "SELECT e.id, e.type, e.lead_id, e.partition_key, e.occurred_at, e.payload::jsonb "
        + $"FROM unnest($16::text[], $17::uuid[], $18::text[], $19::text[], ${first}::uuid[], ${first + 1}::integer[], ${first + 2}::timestamptz[]) "
        + "WITH ORDINALITY AS e(key, id, type, payload, lead_id, partition_key, occurred_at, n) JOIN won USING (key) "
        + $"WHERE NOT EXISTS (SELECT 1 FROM {database.Table("events")} x WHERE x.id = e.id) "
        + "ORDER BY e.n ON CONFLICT (id) DO NOTHING RETURNING 1), "
        + $"logged AS (SELECT pg_notify(${first + 3}, '') FROM ev LIMIT 1), ";

    /// <summary>
    /// Returns <c>ARRAY(SELECT key FROM <paramref name="relation"/>)</c>: matching rows with <c>key = ANY (…)</c> of it makes
    /// the planner look each key up in the primary key. A join on the key (or <c>= ANY</c> of a parameter it can see)
    /// lets it hash the whole table instead, which costs a scan of the table per batch and grows with the table. Only for
    /// statements that do not also join on the key: with both, the planner may probe the whole array once per joined row.
    /// </summary>
    private static string KeysOf(string relation) => $"ARRAY(SELECT key FROM {relation})";

    private static string Prefixed(string prefix) => string.Join(", ", Columns.Split(", ").Select(c => prefix + c));

    private static OutboxEntry ReadEntry(NpgsqlDataReader r) => new()
    {
        Key = r.GetString(0),
        Enrolment = new EnrolmentId(r.GetGuid(1)),
        LeadId = new LeadId(r.GetGuid(2)),
        Sequence = r.GetString(3),
        StepIndex = r.GetInt32(4),
        ScheduledFor = r.GetInstant(5),
        DueAt = r.GetInstant(6),
        State = (SendState)r.GetInt16(7),
        Attempts = r.GetInt32(8),
        ClaimedBy = r.GetNullableString(9),
        CompletedAt = r.GetNullableInstant(10),
        MessageId = r.GetNullableString(11),
        Reason = r.GetNullableString(12),
        Outcome = r.IsDBNull(13) ? null : (SendState)r.GetInt16(13),
        Version = r.GetInt64(14),
    };
}
