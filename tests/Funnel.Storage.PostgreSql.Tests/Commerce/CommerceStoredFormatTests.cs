using System.Text.Json;
using System.Text.Json.Nodes;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.PostgreSql.Commerce;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Tests.Commerce;

/// <summary>
/// The stored format of orders and webhook events is a contract, and the same as Funnel.Storage.Sqlite's: the format-1
/// literals of <see cref="CommerceSamples"/>, inserted by raw SQL, read back as the same records, and what the stores
/// write is the same JSON (jsonb orders the keys its own way, so documents compare as JSON trees).
/// </summary>
public sealed class CommerceStoredFormatTests : IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(1);

    private PgDatabase Database => _instances.First;

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();

    [Fact]
    public async Task FindAsync_OrderRowOfFormat1_ReadsTheOrderWithEveryPart()
    {
        await InsertOrderAsync(version: 4, format: 1, CommerceSamples.OrderV1);

        Order order = (await new PgOrderStore(Database).FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull();

        CommerceSamples.ShouldMatch(order, CommerceSamples.FullOrderBeforeDisputes());
        order.Installments[1].LastFailedAt.ShouldBe(CommerceSamples.PlacedAt + Duration.FromDays(31), "the document keeps nanoseconds");
    }

    [Fact]
    public async Task FindAsync_TaxedOrderRowOfFormat1_ReadsTheTaxAndTheEvidence()
    {
        await InsertOrderAsync(version: 0, format: 1, CommerceSamples.TaxedOrderV1);

        Order order = (await new PgOrderStore(Database).FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull();

        CommerceSamples.ShouldMatch(order, CommerceSamples.TaxedOrder());
        order.Tax!.Lines[1].Rate.ShouldBe(5.5m);
    }

    [Fact]
    public async Task TryAddAsync_OrderTaxedByAProvider_StoresTheCalculationIdInTheTaxAndReadsItBack()
    {
        PgOrderStore store = new(Database);
        Order placed = CommerceSamples.TaxedOrder();
        placed = placed with { Tax = placed.Tax! with { ProviderCalculationId = "taxcalc_1NaS" } };

        (await store.TryAddAsync(placed)).ShouldBeTrue();

        string document = await ReadRowAsync("SELECT document FROM funnel.orders", static r => r.GetString(0));
        JsonDocument.Parse(document).RootElement.GetProperty("tax").GetProperty("providerCalculationId").GetString().ShouldBe("taxcalc_1NaS");
        CommerceSamples.ShouldMatch((await store.FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull(), placed);
    }

    [Fact]
    public async Task TryUpdateAsync_ReverseChargedOrder_RoundTripsTheTaxAsStoredJson()
    {
        PgOrderStore store = new(Database);
        Order placed = CommerceSamples.TaxedOrder();
        (await store.TryAddAsync(placed)).ShouldBeTrue();
        string document = await ReadRowAsync("SELECT document FROM funnel.orders", static r => r.GetString(0));
        ShouldBeSameJson(document, CommerceSamples.TaxedOrderV1WithDisputes);

        (await store.TryUpdateAsync(placed, CommerceSamples.ReverseChargedOrder())).ShouldBeTrue();

        Order order = (await store.FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull();
        CommerceSamples.ShouldMatch(order, CommerceSamples.ReverseChargedOrder() with { Version = 1 });
    }

    [Fact]
    public async Task FindAsync_OrderRowWithOnlyTheRequiredProperties_ReadsTheDefaults()
    {
        await InsertOrderAsync(version: 0, format: 1, CommerceSamples.MinimalOrderV1);

        Order order = (await new PgOrderStore(Database).FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull();

        (order.Status, order.Coupons.Length, order.Seats.Length, order.Installments.Length).ShouldBe((OrderStatus.AwaitingPayment, 0, 0, 0));
        (order.PaymentMethod, order.UpsellOf, order.AccessPaused).ShouldBe(((string?)null, (OrderId?)null, false));
    }

    [Fact]
    public async Task FindAsync_OrderRowWithUnknownProperties_IgnoresThem()
    {
        string withExtras = CommerceSamples.OrderV1.Replace("\"customer\":", "\"giftMessage\":{\"to\":\"Ada\"},\"customer\":", StringComparison.Ordinal);
        withExtras.ShouldNotBe(CommerceSamples.OrderV1);
        await InsertOrderAsync(version: 4, format: 1, withExtras);

        Order order = (await new PgOrderStore(Database).FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull();

        CommerceSamples.ShouldMatch(order, CommerceSamples.FullOrderBeforeDisputes());
    }

    [Fact]
    public async Task FindAsync_VersionColumnDiffersFromTheDocument_TheColumnWins()
    {
        await InsertOrderAsync(version: 9, format: 1, CommerceSamples.OrderV1);

        (await new PgOrderStore(Database).FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull().Version.ShouldBe(9);
    }

    [Fact]
    public async Task FindAsync_OrderRowOfAnUnknownFormat_FailsNamingTheFormatAndThePackage()
    {
        await InsertOrderAsync(version: 4, format: 2, CommerceSamples.OrderV1);

        FunnelSchemaException e = await Should.ThrowAsync<FunnelSchemaException>(() => new PgOrderStore(Database).FindAsync(CommerceSamples.OrderId));

        e.Message.ShouldContain("format 2");
        e.Message.ShouldContain("Funnel.Storage.PostgreSql");
    }

    [Fact]
    public async Task TryAddAsync_FullOrder_StoresTheFormat1DocumentAndKeyColumns()
    {
        (await new PgOrderStore(Database).TryAddAsync(CommerceSamples.FullOrder())).ShouldBeTrue();

        (Guid Lead, long Version, short Format, string Document) row = await ReadRowAsync(
            "SELECT lead_id, version, format, document FROM funnel.orders", static r => (r.GetGuid(0), r.GetInt64(1), r.GetInt16(2), r.GetString(3)));
        (row.Lead, row.Version, row.Format).ShouldBe((CommerceSamples.Lead.Value, 0L, (short)1));
        ShouldBeSameJson(row.Document, CommerceSamples.OrderV1WithDisputes.Replace("\"version\":4", "\"version\":0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FindAsync_WebhookRowOfFormat1_ReadsTheEventAndListsItAsParked()
    {
        await InsertWebhookAsync(CommerceSamples.ParkedEventV1);
        PgWebhookEventStore store = new(Database);

        StoredWebhookEvent stored = (await store.FindAsync("evt_1Rk")).ShouldNotBeNull();

        stored.ShouldBe(CommerceSamples.ParkedEvent() with { Notification = stored.Notification });
        stored.Notification.ShouldBe(CommerceSamples.ParkedEvent().Notification);
        (await store.ListParkedAsync(CommerceSamples.OrderId, "pi_9")).ShouldHaveSingleItem().EventId.ShouldBe("evt_1Rk");
    }

    [Fact]
    public async Task FindAsync_WebhookRowWithUnknownProperties_IgnoresThem()
    {
        string withExtras = CommerceSamples.ParkedEventV1
            .Replace("\"attempts\":3", "\"attempts\":3,\"deliveredBy\":{\"ip\":\"192.0.2.1\"}", StringComparison.Ordinal)
            .Replace("\"reason\":", "\"livemode\":true,\"reason\":", StringComparison.Ordinal);
        withExtras.ShouldNotBe(CommerceSamples.ParkedEventV1);
        await InsertWebhookAsync(withExtras);

        StoredWebhookEvent stored = (await new PgWebhookEventStore(Database).FindAsync("evt_1Rk")).ShouldNotBeNull();

        stored.ShouldBe(CommerceSamples.ParkedEvent() with { Notification = stored.Notification });
    }

    [Fact]
    public async Task TryAddAsync_ParkedEvent_StoresTheFormat1DocumentAndLookupColumnsToTheMicrosecond()
    {
        (await new PgWebhookEventStore(Database).TryAddAsync(CommerceSamples.ParkedEvent())).ShouldBeTrue();

        (Instant Received, short Status, Instant Until, Guid Order, string Payment, long Version, string Document) row = await ReadRowAsync(
            "SELECT received_at, status, claimed_until, order_id, payment_id, version, document FROM funnel.webhook_events",
            static r => (r.GetInstant(0), r.GetInt16(1), r.GetInstant(2), r.GetGuid(3), r.GetString(4), r.GetInt64(5), r.GetString(6)));
        StoredWebhookEvent sample = CommerceSamples.ParkedEvent();
        row.Received.ShouldBe(PgValues.Truncate(sample.ReceivedAt));
        row.Until.ShouldBe(PgValues.Truncate(sample.ClaimedUntil!.Value) + Duration.FromNanoseconds(1000), "a claim's end is rounded up, never early");
        (row.Status, row.Order, row.Payment, row.Version).ShouldBe(((short)3, CommerceSamples.OrderId.Value, "pi_9", 0L));
        ShouldBeSameJson(row.Document, CommerceSamples.ParkedEventV1.Replace("\"version\":2", "\"version\":0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClaimRetriesAsync_FailedEvent_StoresTheSameDocumentAsAWholeWrite()
    {
        PgWebhookEventStore store = new(Database);
        StoredWebhookEvent failed = CommerceSamples.ParkedEvent() with { Status = WebhookEventStatus.Failed, ClaimedBy = null, ClaimedUntil = null };
        await store.TryAddAsync(failed);
        Instant now = failed.ReceivedAt + Duration.FromMinutes(1) + Duration.FromNanoseconds(123);

        StoredWebhookEvent claimed = (await store.ClaimRetriesAsync(now, now, 10, Duration.FromMinutes(5), "web-2")).ShouldHaveSingleItem();

        (claimed.ClaimedBy, claimed.ClaimedUntil, claimed.Version).ShouldBe(("web-2", (Instant?)(now + Duration.FromMinutes(5)), 1L));
        string document = await ReadRowAsync("SELECT document FROM funnel.webhook_events", static r => r.GetString(0));
        ShouldBeSameJson(document, JsonSerializer.Serialize(claimed, FunnelJson.Options));
        (await store.FindAsync(failed.EventId)).ShouldBe(claimed);
    }

    private static void ShouldBeSameJson(string actual, string expected) =>
        JsonNode.DeepEquals(JsonNode.Parse(actual), JsonNode.Parse(expected)).ShouldBeTrue($"stored: {actual}");

    private async Task<T> ReadRowAsync<T>(string sql, Func<NpgsqlDataReader, T> map)
    {
        await using NpgsqlConnection connection = await Database.OpenAsync(CancellationToken.None);
        await using NpgsqlCommand command = new(sql, connection);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        (await reader.ReadAsync()).ShouldBeTrue();
        return map(reader);
    }

    private async Task InsertOrderAsync(long version, short format, string document)
    {
        await using NpgsqlConnection connection = await Database.OpenAsync(CancellationToken.None);
        await using NpgsqlCommand command = CommerceCommands.Create(
            connection, null, "INSERT INTO funnel.orders (id, lead_id, version, format, document) VALUES ($1, $2, $3, $4, $5::jsonb)",
            [CommerceSamples.OrderId.Value, CommerceSamples.Lead.Value, version, format, document]);
        await command.ExecuteNonQueryAsync();
    }

    private async Task InsertWebhookAsync(string document)
    {
        StoredWebhookEvent sample = CommerceSamples.ParkedEvent();
        await using NpgsqlConnection connection = await Database.OpenAsync(CancellationToken.None);
        await using NpgsqlCommand command = CommerceCommands.Create(
            connection,
            null,
            "INSERT INTO funnel.webhook_events (event_id, received_at, status, claimed_until, order_id, payment_id, version, format, document) " +
            "VALUES ('evt_1Rk', $1, 3, $2, $3, 'pi_9', 2, 1, $4::jsonb)",
            [sample.ReceivedAt, sample.ClaimedUntil, CommerceSamples.OrderId.Value, document]);
        await command.ExecuteNonQueryAsync();
    }
}
