using Funnel.Storage;
using System.Collections.Immutable;
using System.Text.Json;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.Sqlite.Commerce;
using Funnel.Storage.Sqlite.Internal;
using NodaTime;

namespace Funnel.Storage.Sqlite.Tests;

/// <summary>
/// The stored format of orders and webhook events is a contract: rows written by this version (checked in here as
/// literals, inserted by raw SQL) must read back as the same records in every later version.
/// </summary>
public sealed class CommerceStoredFormatTests : IDisposable
{
    private readonly SqliteDatabase _database = SqliteTestDatabase.Create();

    [Fact]
    public async Task FindAsync_OrderRowOfFormat1_ReadsTheOrderWithEveryPart()
    {
        await InsertOrderAsync(CommerceSamples.OrderId, version: 4, format: 1, CommerceSamples.OrderV1);

        Order order = (await new SqliteOrderStore(_database).FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull();

        CommerceSamples.ShouldMatch(order, CommerceSamples.FullOrderBeforeDisputes());
        order.MainOffer.ShouldBe(new OfferId("masterclass"));
        order.Lines[0].PaymentPlan.ShouldBe("3-pay");
        order.Installments[1].LastFailedAt.ShouldBe(CommerceSamples.PlacedAt + Duration.FromDays(31));
        order.Seats.ShouldHaveSingleItem().ExpiresAt.ShouldBe(CommerceSamples.PlacedAt + Duration.FromMinutes(15));
        order.PendingRevocations.ShouldHaveSingleItem().Kind.ShouldBe(ProductKind.TemplatePack);
    }

    [Fact]
    public async Task FindAsync_TaxedOrderRowOfFormat1_ReadsTheTaxAndTheEvidence()
    {
        await InsertOrderAsync(CommerceSamples.OrderId, version: 0, format: 1, CommerceSamples.TaxedOrderV1);

        Order order = (await new SqliteOrderStore(_database).FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull();

        CommerceSamples.ShouldMatch(order, CommerceSamples.TaxedOrder());
        order.Tax!.Lines[1].Rate.ShouldBe(5.5m);
    }

    [Fact]
    public async Task TryAddAsync_TaxedOrder_StoresTheTaxInTheFormat1Document()
    {
        (await new SqliteOrderStore(_database).TryAddAsync(CommerceSamples.TaxedOrder())).ShouldBeTrue();

        string document = (await _database.ReadAsync(static s => s.QueryFirst("SELECT document FROM orders", static r => r.GetString(0)), CancellationToken.None))!;
        JsonCompact(document).ShouldBe(JsonCompact(CommerceSamples.TaxedOrderV1WithDisputes));
    }

    [Fact]
    public async Task TryAddAsync_OrderTaxedByAProvider_StoresTheCalculationIdInTheTaxAndReadsItBack()
    {
        SqliteOrderStore store = new(_database);
        Order placed = CommerceSamples.TaxedOrder();
        placed = placed with { Tax = placed.Tax! with { ProviderCalculationId = "taxcalc_1NaS" } };

        (await store.TryAddAsync(placed)).ShouldBeTrue();

        string document = (await _database.ReadAsync(static s => s.QueryFirst("SELECT document FROM orders", static r => r.GetString(0)), CancellationToken.None))!;
        JsonDocument.Parse(document).RootElement.GetProperty("tax").GetProperty("providerCalculationId").GetString().ShouldBe("taxcalc_1NaS");
        CommerceSamples.ShouldMatch((await store.FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull(), placed);
    }

    [Fact]
    public async Task TryUpdateAsync_ReverseChargedOrder_RoundTripsTheVatNumberAndNotes()
    {
        SqliteOrderStore store = new(_database);
        Order placed = CommerceSamples.TaxedOrder();
        (await store.TryAddAsync(placed)).ShouldBeTrue();

        (await store.TryUpdateAsync(placed, CommerceSamples.ReverseChargedOrder())).ShouldBeTrue();

        Order order = (await store.FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull();
        CommerceSamples.ShouldMatch(order, CommerceSamples.ReverseChargedOrder() with { Version = 1 });
    }

    [Fact]
    public async Task FindAsync_OrderRowWithOnlyTheRequiredProperties_ReadsTheDefaults()
    {
        await InsertOrderAsync(CommerceSamples.OrderId, version: 0, format: 1, CommerceSamples.MinimalOrderV1);

        Order order = (await new SqliteOrderStore(_database).FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull();

        (order.Status, order.Coupons.Length, order.Seats.Length, order.Installments.Length).ShouldBe((OrderStatus.AwaitingPayment, 0, 0, 0));
        (order.PaymentMethod, order.UpsellOf, order.AccessPaused, order.HasPendingEntitlements).ShouldBe(((string?)null, (OrderId?)null, false, false));
        order.Lines.ShouldHaveSingleItem().Products.ShouldBe(["ebook"]);
    }

    [Fact]
    public async Task FindAsync_OrderRowWithUnknownProperties_IgnoresThem()
    {
        string withExtras = CommerceSamples.OrderV1
            .Replace("\"customer\":", "\"giftMessage\":{\"to\":\"Ada\",\"lines\":[1,2]},\"customer\":", StringComparison.Ordinal)
            .Replace("\"paymentPlan\":\"3-pay\"", "\"paymentPlan\":\"3-pay\",\"taxCode\":\"txcd_10\"", StringComparison.Ordinal);
        withExtras.ShouldNotBe(CommerceSamples.OrderV1);
        await InsertOrderAsync(CommerceSamples.OrderId, version: 4, format: 1, withExtras);

        Order order = (await new SqliteOrderStore(_database).FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull();

        CommerceSamples.ShouldMatch(order, CommerceSamples.FullOrderBeforeDisputes());
    }

    [Fact]
    public async Task FindAsync_VersionColumnDiffersFromTheDocument_TheColumnWins()
    {
        await InsertOrderAsync(CommerceSamples.OrderId, version: 9, format: 1, CommerceSamples.OrderV1);

        (await new SqliteOrderStore(_database).FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull().Version.ShouldBe(9);
    }

    [Fact]
    public async Task FindAsync_OrderRowOfAnUnknownFormat_FailsNamingTheFormat()
    {
        await InsertOrderAsync(CommerceSamples.OrderId, version: 4, format: 2, CommerceSamples.OrderV1);

        FunnelSchemaException e = await Should.ThrowAsync<FunnelSchemaException>(() => new SqliteOrderStore(_database).FindAsync(CommerceSamples.OrderId));

        e.Message.ShouldContain("format 2");
    }

    [Fact]
    public async Task TryAddAsync_FullOrder_StoresTheFormat1DocumentAndKeyColumns()
    {
        Order order = CommerceSamples.FullOrder();

        (await new SqliteOrderStore(_database).TryAddAsync(order)).ShouldBeTrue();

        (string Lead, long Version, long Format, string Document) row = await _database.ReadAsync(
            static s => s.QueryFirst("SELECT lead_id, version, format, document FROM orders", static r => (r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetString(3))),
            CancellationToken.None);
        (row.Lead, row.Version, row.Format).ShouldBe(("0195f3a0-2222-7000-8000-000000000001", 0L, 1L));
        JsonCompact(row.Document).ShouldBe(JsonCompact(CommerceSamples.OrderV1WithDisputes).Replace("\"version\":4", "\"version\":0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FindAsync_WebhookRowOfFormat1_ReadsTheEventAndListsItAsParked()
    {
        await InsertWebhookAsync(CommerceSamples.ParkedEventV1);
        SqliteWebhookEventStore store = new(_database);

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

        StoredWebhookEvent stored = (await new SqliteWebhookEventStore(_database).FindAsync("evt_1Rk")).ShouldNotBeNull();

        stored.ShouldBe(CommerceSamples.ParkedEvent() with { Notification = stored.Notification });
        stored.Notification.ShouldBe(CommerceSamples.ParkedEvent().Notification);
    }

    [Fact]
    public async Task TryAddAsync_ParkedEvent_StoresTheFormat1DocumentAndLookupColumns()
    {
        (await new SqliteWebhookEventStore(_database).TryAddAsync(CommerceSamples.ParkedEvent())).ShouldBeTrue();

        (long Received, long Status, long? Until, string Order, string Payment, long Version, string Document) row = await _database.ReadAsync(
            static s => s.QueryFirst(
                "SELECT received_at, status, claimed_until, order_id, payment_id, version, document FROM webhook_events",
                static r => (r.GetInt64(0), r.GetInt64(1), r.IsDBNull(2) ? (long?)null : r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetInt64(5), r.GetString(6))),
            CancellationToken.None);
        StoredWebhookEvent sample = CommerceSamples.ParkedEvent();
        row.Received.ShouldBe(SqliteValues.Nanoseconds(sample.ReceivedAt));
        row.Until.ShouldBe(SqliteValues.Nanoseconds(sample.ClaimedUntil!.Value));
        (row.Status, row.Order, row.Payment, row.Version).ShouldBe((3L, "0195f3a0-1111-7000-8000-000000000001", "pi_9", 0L));
        JsonCompact(row.Document).ShouldBe(JsonCompact(CommerceSamples.ParkedEventV1).Replace("\"version\":2", "\"version\":0", StringComparison.Ordinal));
    }

    public void Dispose() => _database.Dispose();

    private static string JsonCompact(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement);

    private Task<int> InsertOrderAsync(OrderId id, long version, long format, string document) =>
        _database.WriteAsync(
            s => s.Execute(
                "INSERT INTO orders (id, lead_id, version, format, document) VALUES ($id, $lead, $version, $format, $document)",
                ("$id", id.Value),
                ("$lead", CommerceSamples.Lead.Value),
                ("$version", version),
                ("$format", format),
                ("$document", document)),
            CancellationToken.None);

    private Task<int> InsertWebhookAsync(string document)
    {
        StoredWebhookEvent sample = CommerceSamples.ParkedEvent();
        return _database.WriteAsync(
            s => s.Execute(
                "INSERT INTO webhook_events (event_id, received_at, status, claimed_until, order_id, payment_id, version, format, document) " +
                "VALUES ('evt_1Rk', $received, 3, $until, $order, 'pi_9', 2, 1, $document)",
                ("$received", sample.ReceivedAt),
                ("$until", sample.ClaimedUntil),
                ("$order", CommerceSamples.OrderId.Value),
                ("$document", document)),
            CancellationToken.None);
    }
}
