using System.Text.Json;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.Sqlite.Commerce;
using Funnel.Storage.Sqlite.Internal;
using Funnel.Subscriptions;

namespace Funnel.Storage.Sqlite.Tests;

/// <summary>The stored format of subscriptions is a contract: a row of format 1 (a literal, inserted by raw SQL) reads back as the same subscription in every later version.</summary>
public sealed class SubscriptionStoredFormatTests : IDisposable
{
    private readonly SqliteDatabase _database = SqliteTestDatabase.Create();

    [Fact]
    public async Task TryAddAsync_FullSubscription_StoresTheFormat1Document()
    {
        (await new SqliteSubscriptionStore(_database).TryAddAsync(SubscriptionSamples.Full())).ShouldBeTrue();

        string document = (await _database.ReadAsync(static s => s.QueryFirst("SELECT document FROM subscriptions", static r => r.GetString(0)), CancellationToken.None))!;
        Compact(document).ShouldBe(Compact(SubscriptionSamples.SubscriptionV1));
    }

    [Fact]
    public async Task FindAsync_RowOfFormat1_ReadsEveryFieldAndTheVersion()
    {
        Subscription full = SubscriptionSamples.Full();
        await _database.WriteAsync(
            s => s.Execute(
                "INSERT INTO subscriptions (id, lead_id, started_at, status, due_at, version, document) VALUES ($id, $lead, $started, 2, $due, 3, $document)",
                ("$id", full.Id.Value), ("$lead", full.Lead.Value), ("$started", full.StartedAt), ("$due", full.DueAt), ("$document", SubscriptionSamples.SubscriptionV1)),
            CancellationToken.None);

        Subscription found = (await new SqliteSubscriptionStore(_database).FindAsync(full.Id)).ShouldNotBeNull();

        SubscriptionSamples.ShouldMatch(found, full);
    }

    public void Dispose() => _database.Dispose();

    private static string Compact(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement);
}
