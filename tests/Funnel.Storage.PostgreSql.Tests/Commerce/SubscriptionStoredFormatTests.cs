using System.Text.Json.Nodes;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.PostgreSql.Commerce;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.Subscriptions;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Tests.Commerce;

/// <summary>
/// The stored format of subscriptions is a contract, and the same as Funnel.Storage.Sqlite's: the format-1 literal of
/// <see cref="SubscriptionSamples"/>, inserted by raw SQL, reads back exactly (the document keeps nanoseconds), and
/// the store writes the same JSON (jsonb orders the keys its own way, so documents compare as JSON trees).
/// </summary>
public sealed class SubscriptionStoredFormatTests : IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(1);

    private PgDatabase Database => _instances.First;

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();

    [Fact]
    public async Task TryAddAsync_FullSubscription_StoresTheFormat1Document()
    {
        (await new PgSubscriptionStore(Database).TryAddAsync(SubscriptionSamples.Full())).ShouldBeTrue();

        await using NpgsqlConnection connection = await Database.OpenAsync(CancellationToken.None);
        await using NpgsqlCommand read = new("SELECT document::text FROM funnel.subscriptions", connection);
        string document = (string)(await read.ExecuteScalarAsync())!;
        JsonNode.DeepEquals(JsonNode.Parse(document), JsonNode.Parse(SubscriptionSamples.SubscriptionV1)).ShouldBeTrue(document);
    }

    [Fact]
    public async Task FindAsync_RowOfFormat1_ReadsEveryFieldToTheNanosecondAndTheVersion()
    {
        Subscription full = SubscriptionSamples.Full();
        await using (NpgsqlConnection connection = await Database.OpenAsync(CancellationToken.None))
        {
            await using NpgsqlCommand insert = new(
                "INSERT INTO funnel.subscriptions (id, lead_id, started_at, status, due_at, version, document) VALUES ($1, $2, $3, 2, $4, 3, $5::jsonb)",
                connection);
            insert.Parameters.Add(new() { Value = full.Id.Value });
            insert.Parameters.Add(new() { Value = full.Lead.Value });
            insert.Parameters.Add(new() { Value = PgValues.ToDateTime(full.StartedAt) });
            insert.Parameters.Add(new() { Value = PgValues.ToDateTime(full.DueAt!.Value) });
            insert.Parameters.Add(new() { Value = SubscriptionSamples.SubscriptionV1 });
            await insert.ExecuteNonQueryAsync();
        }

        Subscription found = (await new PgSubscriptionStore(Database).FindAsync(full.Id)).ShouldNotBeNull();

        SubscriptionSamples.ShouldMatch(found, full);
    }
}
