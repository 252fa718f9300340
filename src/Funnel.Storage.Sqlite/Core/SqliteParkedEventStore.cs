using System.Text.Json;
using System.Text.Json.Serialization;
using Funnel.Pipeline;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;
using NodaTime;

namespace Funnel.Storage.Sqlite.Core;

/// <summary>The <see cref="IParkedEventStore"/> in table <c>parked_events</c>, by position and handler.</summary>
/// <threadsafety>Safe to call from many threads at once.</threadsafety>
internal sealed class SqliteParkedEventStore(SqliteDatabase database) : IParkedEventStore
{
    private const string Insert =
        "INSERT INTO parked_events (position, handler, version, document) VALUES ($position, $handler, 0, $document) "
        + "ON CONFLICT DO NOTHING";

    private const string Delete =
        "DELETE FROM parked_events WHERE position = $position AND handler = $handler AND version = $version";

    public Task<bool> TryAddAsync(ParkedEvent parked, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parked);
        string document = Document.Write(parked);
        return database.WriteAsync(
            s => s.Execute(
                Insert, ("$position", parked.Position), ("$handler", parked.Handler), ("$document", document)) == 1,
            cancellationToken);
    }

    public async Task<IReadOnlyList<ParkedEvent>> ListAsync(int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return await database.ReadAsync(
            s => s.Query(
                "SELECT version, document FROM parked_events ORDER BY position, handler LIMIT $max",
                Map,
                ("$max", max)),
            cancellationToken).ConfigureAwait(false);
    }

    public Task<bool> TryRemoveAsync(ParkedEvent parked, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parked);
        return database.WriteAsync(
            s => s.Execute(
                Delete,
                ("$position", parked.Position),
                ("$handler", parked.Handler),
                ("$version", parked.Version)) == 1,
            cancellationToken);
    }

    private static ParkedEvent Map(SqliteDataReader row) => Document.Read(row.GetString(1), row.GetInt64(0));

    /// <summary>The stored JSON of a <see cref="ParkedEvent"/>, shape 1: the record but its version.</summary>
    private sealed record Document
    {
        [JsonPropertyName("v")]
        [JsonPropertyOrder(-1)]
        public int V { get; init; } = 1;

        public required string Handler { get; init; }

        public required long Position { get; init; }

        public required EventId EventId { get; init; }

        public required string EventType { get; init; }

        public required int Attempts { get; init; }

        public required string Error { get; init; }

        public required Instant ParkedAt { get; init; }

        public static string Write(ParkedEvent parked) => JsonSerializer.Serialize(
            new Document
            {
                Handler = parked.Handler,
                Position = parked.Position,
                EventId = parked.EventId,
                EventType = parked.EventType,
                Attempts = parked.Attempts,
                Error = parked.Error,
                ParkedAt = parked.ParkedAt,
            },
            FunnelJson.Options);

        public static ParkedEvent Read(string json, long version)
        {
            Document document = JsonSerializer.Deserialize<Document>(json, FunnelJson.Options)
                ?? throw new JsonException("A stored parked event is JSON null.");
            return new ParkedEvent
            {
                Handler = document.Handler,
                Position = document.Position,
                EventId = document.EventId,
                EventType = document.EventType,
                Attempts = document.Attempts,
                Error = document.Error,
                ParkedAt = document.ParkedAt,
                Version = version,
            };
        }
    }
}
