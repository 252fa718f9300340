using System.Globalization;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;
using NpgsqlTypes;

namespace Funnel.Storage.PostgreSql.Core;

/// <summary>The durable <see cref="IFunnelEventLog"/> on PostgreSQL: the <c>events</c> table, one row per event id.</summary>
/// <remarks>
/// <para>
/// An append is one transaction: it takes the transaction-scoped advisory lock <c>funnel.events:&lt;schema&gt;</c>,
/// inserts every new event with one statement over <c>unnest</c> arrays (<c>ON CONFLICT (id) DO NOTHING</c>), and, when
/// it inserted a row, sends <c>NOTIFY &lt;schema&gt;_events</c>, which PostgreSQL delivers on commit. The lock is
/// released only after the commit is visible, so appends of every instance take positions and commit one after the
/// other: a reader that has seen position <c>p</c> never later finds a new event below it. Duplicates (within the
/// batch or already logged) are left out before the insert, so they spend no position.
/// </para>
/// <para>
/// Because the lock is held through the commit's disk flush, each transaction costs the whole cluster one flush.
/// Appends of one instance therefore share transactions: one round is written at a time, and the appends that arrive
/// meanwhile are written together in the next (no timer). Each caller's events still commit atomically and in order,
/// and its count covers its own events (an id two callers give in one round counts for the first). Cancelling a
/// caller stops its wait, not a round already queued: its events may still be appended, which a retry, being
/// idempotent by id, tolerates.
/// </para>
/// <para>
/// Each row keeps the event's lead (<c>lead_id</c>, for <see cref="ReadLeadAsync"/>) and its
/// <see cref="LogPartition.KeyOf(FunnelEvent)"/> (<c>partition_key</c>, for <see cref="ReadPartitionAsync"/>). An
/// <see cref="UnknownEvent"/> (a type a newer version wrote) is filed under the <c>leadId</c> of its JSON, as the newer
/// version files it. The payload is the <see cref="FunnelEventSerializer"/>'s JSON as <c>jsonb</c>: it reads back
/// equal as JSON, with PostgreSQL's key order and spacing.
/// </para>
/// </remarks>
/// <threadsafety>Safe to call from many threads and app instances at once.</threadsafety>
internal sealed class PgFunnelEventLog : IFunnelEventLog
{
    private readonly PgDatabase _database;
    private readonly FunnelEventSerializer _serializer;
    private readonly string _lockKey;
    private readonly string _channel;
    private readonly string _insert;
    private readonly string _read;
    private readonly string _readPartition;
    private readonly string _readLead;
    private readonly string _count;
    private readonly string _countPartition;
    private readonly Lock _queueGate = new();
    private List<PendingAppend> _queue = [];
    private bool _flushing;

    public PgFunnelEventLog(PgDatabase database, FunnelEventSerializer serializer)
    {
        _database = database;
        _serializer = serializer;
        _lockKey = LockKey(database.Schema);
        _channel = EventsChannel(database.Schema);
        string events = database.Table("events");
        _insert = $"""
            WITH appended AS (
                INSERT INTO {events} (id, type, lead_id, partition_key, occurred_at, payload)
                SELECT u.id, u.type, u.lead_id, u.partition_key, u.occurred_at, u.payload::jsonb
                FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::integer[], $5::timestamptz[], $6::text[])
                    WITH ORDINALITY AS u (id, type, lead_id, partition_key, occurred_at, payload, n)
                WHERE NOT EXISTS (SELECT 1 FROM {events} e WHERE e.id = u.id)
                ORDER BY u.n
                ON CONFLICT (id) DO NOTHING
                RETURNING id)
            SELECT array_agg(id), CASE WHEN count(*) > 0 THEN (SELECT 1 FROM pg_notify($7, '')) END FROM appended
            """;
        _read = $"SELECT position, payload FROM {events} WHERE position > $1 ORDER BY position LIMIT $2";
        _readPartition = $"SELECT position, payload FROM {events} WHERE position > $1 AND partition_key % $3 = $4 ORDER BY position LIMIT $2";
        _readLead = $"SELECT position, payload FROM {events} WHERE lead_id = $1 ORDER BY position LIMIT $2";
        _count = $"SELECT count(*) FROM (SELECT 1 FROM {events} WHERE position > $1 ORDER BY position LIMIT $2) AS pending";
        _countPartition = $"SELECT count(*) FROM (SELECT 1 FROM {events} WHERE position > $1 AND partition_key % $3 = $4 ORDER BY position LIMIT $2) AS pending";
    }

    /// <summary>Returns the channel the log notifies after an append: <c>&lt;schema&gt;_events</c>.</summary>
    public static string EventsChannel(string schema) => schema + "_events";

    /// <summary>Returns the name of the advisory lock every insert into the log takes first: <c>funnel.events:&lt;schema&gt;</c>.</summary>
    /// <remarks>Whatever inserts into <c>events</c> (this log, or the outbox recording a dispatch's events) takes it, so positions commit in order.</remarks>
    public static string LockKey(string schema) => "funnel.events:" + schema;

    /// <summary>Gets the database the log is in.</summary>
    public PgDatabase Database => _database;

    public async Task<int> AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (FunnelEvent e in events)
        {
            ArgumentNullException.ThrowIfNull(e, nameof(events));
        }

        if (events.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return 0;
        }

        Row[] rows = new Row[events.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            FunnelEvent e = events[i];
            LeadId? lead = EventLeads.LeadOf(e);
            rows[i] = new Row(
                e.Id.Value, e.EventType, lead?.Value, LogPartition.KeyOf(lead ?? default), PgValues.ToDateTime(e.OccurredAt), _serializer.Serialize(e));
        }

        PendingAppend pending = new(rows);
        bool flush;
        lock (_queueGate)
        {
            _queue.Add(pending);
            flush = !_flushing;
            _flushing = true;
        }

        if (flush)
        {
            _ = FlushAsync();
        }

        return await pending.Appended.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<LoggedEvent>> ReadAsync(long after, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return QueryAsync(_read, command => command.With(after).With(max), cancellationToken);
    }

    public Task<IReadOnlyList<LoggedEvent>> ReadPartitionAsync(
        long after, int max, LogPartition partition, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partition.Count, nameof(partition));
        ArgumentOutOfRangeException.ThrowIfNegative(partition.Index, nameof(partition));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition.Index, partition.Count, nameof(partition));
        return partition.Count == 1
            ? ReadAsync(after, max, cancellationToken)
            : QueryAsync(
                _readPartition,
                command => command.With(after).With(max).With(partition.Count).With(partition.Index),
                cancellationToken);
    }

    public Task<int> CountAsync(long after, int max, LogPartition partition, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partition.Count, nameof(partition));
        ArgumentOutOfRangeException.ThrowIfNegative(partition.Index, nameof(partition));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition.Index, partition.Count, nameof(partition));
        return _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, partition.Count == 1 ? _count : _countPartition);
                command.With(after).With(max);
                if (partition.Count > 1)
                {
                    command.With(partition.Count).With(partition.Index);
                }

                return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            },
            cancellationToken);
    }

    public Task<IReadOnlyList<LoggedEvent>> ReadLeadAsync(LeadId lead, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return QueryAsync(_readLead, command => command.With(lead.Value).With(max), cancellationToken);
    }

    private Task<IReadOnlyList<LoggedEvent>> QueryAsync(
        string sql, Action<NpgsqlCommand> parameters, CancellationToken cancellationToken) =>
        _database.ReadAsync<IReadOnlyList<LoggedEvent>>(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, sql);
                parameters(command);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                List<LoggedEvent> read = [];
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    read.Add(new LoggedEvent(reader.GetInt64(0), _serializer.Deserialize(reader.GetString(1))));
                }

                return read;
            },
            cancellationToken);

    /// <summary>Writes the queued appends, one transaction per round, until the queue is empty (one flush in flight).</summary>
    private async Task FlushAsync()
    {
        while (true)
        {
            List<PendingAppend> round;
            lock (_queueGate)
            {
                if (_queue.Count == 0)
                {
                    _flushing = false;
                    return;
                }

                round = _queue;
                _queue = [];
            }

            try
            {
                HashSet<Guid> inserted = await InsertAsync(round).ConfigureAwait(false);
                foreach (PendingAppend append in round)
                {
                    // An id appended twice in one round counts for the first caller that gave it, as if in sequence.
                    append.Appended.TrySetResult(append.Rows.Count(r => inserted.Remove(r.Id)));
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The round's transaction rolled back: every caller in it sees the failure, none is half-appended.
                foreach (PendingAppend append in round)
                {
                    append.Appended.TrySetException(ex);
                }
            }
        }
    }

    /// <summary>Appends the rows of a round in one transaction under the log's advisory lock; returns the ids inserted.</summary>
    private Task<HashSet<Guid>> InsertAsync(List<PendingAppend> round)
    {
        HashSet<Guid> seen = [];
        List<Row> rows = [];
        foreach (PendingAppend append in round)
        {
            rows.AddRange(append.Rows.Where(r => seen.Add(r.Id)));
        }

        return _database.WriteAsync(
            async (connection, transaction) =>
            {
                await using NpgsqlBatch batch = new(connection, transaction);
                NpgsqlBatchCommand gate = new("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))");
                gate.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _lockKey });
                batch.BatchCommands.Add(gate);
                NpgsqlBatchCommand insert = new(_insert);
                insert.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. rows.Select(static r => r.Id)] });
                insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. rows.Select(static r => r.Type)] });
                insert.Parameters.Add(new NpgsqlParameter<Guid?[]> { TypedValue = [.. rows.Select(static r => r.Lead)] });
                insert.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. rows.Select(static r => r.PartitionKey)] });
                insert.Parameters.Add(new NpgsqlParameter<DateTime[]>
                {
                    TypedValue = [.. rows.Select(static r => r.OccurredAt)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz,
                });
                insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. rows.Select(static r => r.Payload)] });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _channel });
                batch.BatchCommands.Add(insert);
                await using NpgsqlDataReader reader = await batch.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
                await reader.NextResultAsync(CancellationToken.None).ConfigureAwait(false);
                await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
                return reader.IsDBNull(0) ? [] : reader.GetFieldValue<Guid[]>(0).ToHashSet();
            },
            CancellationToken.None);
    }

    /// <summary>One event as the insert takes it.</summary>
    private readonly record struct Row(Guid Id, string Type, Guid? Lead, int PartitionKey, DateTime OccurredAt, string Payload);

    /// <summary>One caller's append, waiting for the round that writes it.</summary>
    private sealed class PendingAppend(Row[] rows)
    {
        public Row[] Rows { get; } = rows;

        public TaskCompletionSource<int> Appended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
