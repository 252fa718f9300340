using Funnel.Events;
using Funnel.Pipeline;
using Npgsql;
using NpgsqlTypes;

namespace Funnel.Storage.PostgreSql.Tests.Analytics;

/// <summary>Fills the <c>events</c> table with binary <c>COPY … FROM STDIN</c>, in the shape the event log writes.</summary>
/// <remarks>
/// Each row holds the <see cref="FunnelEventSerializer"/> JSON as payload and the columns the log derives from the
/// event (type, lead, <see cref="LogPartition.KeyOf(FunnelEvent)"/>, time); positions are given by the identity in
/// write order. Tests and benchmarks use it so they need not wait for the event log store. Instants are written
/// truncated to the microsecond, as the log stores them: give events whole microseconds to compare them in memory.
/// </remarks>
internal static class EventLogCopy
{
    /// <summary>Returns the <c>COPY</c> statement for the events table of a schema.</summary>
    public static string Sql(string schema) =>
        $"COPY {schema}.events (id, type, lead_id, partition_key, occurred_at, payload) FROM STDIN (FORMAT BINARY)";

    /// <summary>Writes events in one <c>COPY</c> and returns how many were written.</summary>
    public static async Task<long> WriteAsync(NpgsqlConnection connection, string schema, IEnumerable<FunnelEvent> events, FunnelEventSerializer serializer, CancellationToken cancellationToken = default)
    {
        await using NpgsqlBinaryImporter import = await connection.BeginBinaryImportAsync(Sql(schema), cancellationToken).ConfigureAwait(false);
        foreach (FunnelEvent e in events)
        {
            await WriteRowAsync(import, e, serializer, cancellationToken).ConfigureAwait(false);
        }

        return (long)await import.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes one event's row to an open import.</summary>
    public static async Task WriteRowAsync(NpgsqlBinaryImporter import, FunnelEvent e, FunnelEventSerializer serializer, CancellationToken cancellationToken = default)
    {
        await import.StartRowAsync(cancellationToken).ConfigureAwait(false);
        await import.WriteAsync(e.Id.Value, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
        await import.WriteAsync(e.EventType, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        if (e is LeadEvent lead)
        {
            await import.WriteAsync(lead.LeadId.Value, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await import.WriteNullAsync(cancellationToken).ConfigureAwait(false);
        }

        await import.WriteAsync(LogPartition.KeyOf(e), NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
        DateTime utc = e.OccurredAt.ToDateTimeUtc();
        await import.WriteAsync(new DateTime(utc.Ticks - (utc.Ticks % 10), DateTimeKind.Utc), NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
        await import.WriteAsync(serializer.Serialize(e), NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
    }
}
