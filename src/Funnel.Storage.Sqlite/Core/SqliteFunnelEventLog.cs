using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;

namespace Funnel.Storage.Sqlite.Core;

/// <summary>The durable <see cref="IFunnelEventLog"/>: the <c>events</c> table, one row per event id.</summary>
/// <remarks>
/// <para>
/// The payload is the <see cref="FunnelEventSerializer"/>'s JSON (registered by <c>AddFunnel</c>), so an event type
/// this process does not know reads as an <see cref="UnknownEvent"/> and is written back unchanged. Positions are the
/// table's rowid, assigned by the one writer in commit order, so a reader that has seen position <c>p</c> never later
/// finds a new event below it; the log is append-only, so no position is ever reused.
/// </para>
/// <para>
/// An append serializes its events on the caller's thread, then runs one write: one prepared
/// <c>INSERT … ON CONFLICT (id) DO NOTHING</c> per event, counting the rows inserted. The write shares its commit
/// with the other writes queued meanwhile (group commit), so many callers appending single events cost one disk flush
/// per group, and a batch of a thousand events costs one.
/// </para>
/// </remarks>
/// <threadsafety>Safe to call from many threads at once.</threadsafety>
internal sealed class SqliteFunnelEventLog(SqliteDatabase database, FunnelEventSerializer serializer) : IFunnelEventLog
{
    // The position is the rowid (largest plus one), so an id that ON CONFLICT skips spends no position.
    private const string Insert =
        "INSERT INTO events (id, type, lead_id, occurred_at, payload) VALUES ($id, $type, $lead, $at, $payload) "
        + "ON CONFLICT (id) DO NOTHING";

    public Task<int> AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (FunnelEvent e in events)
        {
            ArgumentNullException.ThrowIfNull(e, nameof(events));
        }

        if (events.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Task.FromResult(0);
        }

        Row[] rows = new Row[events.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = RowOf(events[i], serializer);
        }

        return database.WriteAsync(
            s =>
            {
                int appended = 0;
                foreach (Row row in rows)
                {
                    appended += Write(s, row);
                }

                return appended;
            },
            cancellationToken);
    }

    /// <summary>Gets the database the log is in.</summary>
    internal SqliteDatabase Database => database;

    /// <summary>Returns an event as the log stores it, serialized (off the writer's thread).</summary>
    internal static Row RowOf(FunnelEvent e, FunnelEventSerializer serializer) => new(
        e.Id.Value.ToString("D"),
        e.EventType,
        EventLeads.LeadOf(e)?.Value.ToString("D"),
        SqliteValues.Nanoseconds(e.OccurredAt),
        serializer.Serialize(e));

    /// <summary>Inserts one event in a write work item (the log's own appends, or the outbox's with an outcome); returns 1 when inserted, 0 when its id was logged already.</summary>
    internal static int Write(SqliteSession session, Row row) => session.Execute(
        Insert,
        ("$id", row.Id),
        ("$type", row.Type),
        ("$lead", row.Lead),
        ("$at", row.OccurredAt),
        ("$payload", row.Payload));

    public async Task<IReadOnlyList<LoggedEvent>> ReadAsync(
        long after, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return await database.ReadAsync(
            s => s.Query(
                "SELECT position, payload FROM events WHERE position > $after ORDER BY position LIMIT $max",
                Map,
                ("$after", after),
                ("$max", max)),
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> CountAsync(long after, int max, LogPartition partition, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partition.Count, nameof(partition));
        ArgumentOutOfRangeException.ThrowIfNegative(partition.Index, nameof(partition));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition.Index, partition.Count, nameof(partition));
        if (partition.Count != 1)
        {
            // Partitions are not stored with SQLite's events (one instance delivers the whole log): count what they read.
            return (await ((IFunnelEventLog)this).ReadPartitionAsync(after, max, partition, cancellationToken).ConfigureAwait(false)).Count;
        }

        return await database.ReadAsync(
            s => (int)(long)s.Scalar(
                "SELECT count(*) FROM (SELECT 1 FROM events WHERE position > $after ORDER BY position LIMIT $max)",
                ("$after", after),
                ("$max", max))!,
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<LoggedEvent>> ReadLeadAsync(
        LeadId lead, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return await database.ReadAsync(
            s => s.Query(
                "SELECT position, payload FROM events WHERE lead_id = $lead ORDER BY position LIMIT $max",
                Map,
                ("$lead", lead.Value),
                ("$max", max)),
            cancellationToken).ConfigureAwait(false);
    }

    private LoggedEvent Map(SqliteDataReader row) => new(row.GetInt64(0), serializer.Deserialize(row.GetString(1)));

    /// <summary>One event as the log's insert takes it.</summary>
    internal readonly record struct Row(string Id, string Type, string? Lead, long OccurredAt, string Payload);
}
