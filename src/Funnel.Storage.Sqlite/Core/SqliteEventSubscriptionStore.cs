using System.Text.Json;
using System.Text.Json.Serialization;
using Funnel.Pipeline;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;
using NodaTime;

namespace Funnel.Storage.Sqlite.Core;

/// <summary>The <see cref="IEventSubscriptionStore"/> in table <c>event_subscriptions</c>, by handler name.</summary>
/// <threadsafety>Safe to call from many threads at once.</threadsafety>
internal sealed class SqliteEventSubscriptionStore(SqliteDatabase database) : IEventSubscriptionStore
{
    private const string Insert =
        "INSERT INTO event_subscriptions (name, version, document) VALUES ($name, 0, $document) ON CONFLICT DO NOTHING";

    private const string Update =
        "UPDATE event_subscriptions SET version = version + 1, document = $document "
        + "WHERE name = $name AND version = $version";

    public Task<EventSubscription?> FindAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return database.ReadAsync(
            s => s.QueryFirst(
                "SELECT version, document FROM event_subscriptions WHERE name = $name", Map, ("$name", name)),
            cancellationToken);
    }

    public Task<bool> TryAddAsync(EventSubscription subscription, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        string document = Document.Write(subscription);
        return database.WriteAsync(
            s => s.Execute(Insert, ("$name", subscription.Name), ("$document", document)) == 1,
            cancellationToken);
    }

    public Task<bool> TryUpdateAsync(
        EventSubscription current, EventSubscription replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        if (!string.Equals(current.Name, replacement.Name, StringComparison.Ordinal))
        {
            throw new ArgumentException("A subscription cannot be renamed.", nameof(replacement));
        }

        string document = Document.Write(replacement);
        return database.WriteAsync(
            s => s.Execute(
                Update, ("$name", current.Name), ("$version", current.Version), ("$document", document)) == 1,
            cancellationToken);
    }

    private static EventSubscription Map(SqliteDataReader row) => Document.Read(row.GetString(1), row.GetInt64(0));

    /// <summary>The stored JSON of an <see cref="EventSubscription"/>, shape 1: the record but its version.</summary>
    private sealed record Document
    {
        [JsonPropertyName("v")]
        [JsonPropertyOrder(-1)]
        public int V { get; init; } = 1;

        public required string Name { get; init; }

        public long Position { get; init; }

        public int Attempts { get; init; }

        public Instant? RetryAt { get; init; }

        public string? LastError { get; init; }

        public static string Write(EventSubscription subscription) => JsonSerializer.Serialize(
            new Document
            {
                Name = subscription.Name,
                Position = subscription.Position,
                Attempts = subscription.Attempts,
                RetryAt = subscription.RetryAt,
                LastError = subscription.LastError,
            },
            FunnelJson.Options);

        public static EventSubscription Read(string json, long version)
        {
            Document document = JsonSerializer.Deserialize<Document>(json, FunnelJson.Options)
                ?? throw new JsonException("A stored event subscription is JSON null.");
            return new EventSubscription
            {
                Name = document.Name,
                Position = document.Position,
                Attempts = document.Attempts,
                RetryAt = document.RetryAt,
                LastError = document.LastError,
                Version = version,
            };
        }
    }
}
