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

    public PgFunnelEventLog(PgDatabase database, FunnelEventSerializer serializer)
    {
        _database = database;
        _serializer = serializer;
        _lockKey = "funnel.events:" + database.Schema;
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
                RETURNING 1)
            SELECT count(*)::integer, CASE WHEN count(*) > 0 THEN (SELECT 1 FROM pg_notify($7, '')) END FROM appended
            """;
        _read = $"SELECT position, payload FROM {events} WHERE position > $1 ORDER BY position LIMIT $2";
        _readPartition = $"SELECT position, payload FROM {events} WHERE position > $1 AND partition_key % $3 = $4 ORDER BY position LIMIT $2";
        _readLead = $"SELECT position, payload FROM {events} WHERE lead_id = $1 ORDER BY position LIMIT $2";
    }

    /// <summary>Returns the channel the log notifies after an append: <c>&lt;schema&gt;_events</c>.</summary>
    public static string EventsChannel(string schema) => schema + "_events";

    public Task<int> AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (FunnelEvent e in events)
        {
            ArgumentNullException.ThrowIfNull(e, nameof(events));
        }

        HashSet<EventId> seen = [];
        List<FunnelEvent> distinct = new(events.Count);
        foreach (FunnelEvent e in events)
        {
            if (seen.Add(e.Id))
            {
                distinct.Add(e);
            }
        }

        if (distinct.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Task.FromResult(0);
        }

        int count = distinct.Count;
        Guid[] ids = new Guid[count];
        string[] types = new string[count];
        Guid?[] leads = new Guid?[count];
        int[] keys = new int[count];
        DateTime[] occurred = new DateTime[count];
        string[] payloads = new string[count];
        for (int i = 0; i < count; i++)
        {
            FunnelEvent e = distinct[i];
            LeadId? lead = EventLeads.LeadOf(e);
            ids[i] = e.Id.Value;
            types[i] = e.EventType;
            leads[i] = lead?.Value;
            keys[i] = LogPartition.KeyOf(lead ?? default);
            occurred[i] = PgValues.ToDateTime(e.OccurredAt);
            payloads[i] = _serializer.Serialize(e);
        }

        return _database.WriteAsync(
            async (connection, transaction) =>
            {
                await using NpgsqlBatch batch = new(connection, transaction);
                NpgsqlBatchCommand gate = new("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))");
                gate.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _lockKey });
                batch.BatchCommands.Add(gate);
                NpgsqlBatchCommand insert = new(_insert);
                insert.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
                insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = types });
                insert.Parameters.Add(new NpgsqlParameter<Guid?[]> { TypedValue = leads });
                insert.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = keys });
                insert.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = occurred, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
                insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = payloads });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _channel });
                batch.BatchCommands.Add(insert);
                await using NpgsqlDataReader reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                return reader.GetInt32(0);
            },
            cancellationToken);
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
}
