using Funnel.Storage;
using System.Collections.Immutable;
using System.Text.Json;
using Funnel.Offers;
using Funnel.Payments;
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
    // Written by format 1 (this release) for CommerceSamples.FullOrder(); do not change: add a new literal instead.
    private const string OrderV1 = """
        {"id":"0195f3a0-1111-7000-8000-000000000001","lead":"0195f3a0-2222-7000-8000-000000000001",
         "placedAt":"2026-03-02T09:15:30.123456789Z",
         "lines":[
          {"offer":"masterclass","role":"main","quantity":1,"paymentPlan":"3-pay","total":{"amount":29700,"currency":"USD"},
           "products":["masterclass-videos","community"]},
          {"offer":"templates-bump","role":"order_bump","quantity":2,"total":{"amount":5400,"currency":"USD"},
           "products":["template-pack"]}],
         "total":{"amount":35100,"currency":"USD"},
         "schedule":[
          {"number":1,"dueAt":"2026-03-02T09:15:30.123456789Z","amount":{"amount":11700,"currency":"USD"}},
          {"number":2,"dueAt":"2026-04-01T09:15:30.123456789Z","amount":{"amount":11700,"currency":"USD"}},
          {"number":3,"dueAt":"2026-05-01T09:15:30.123456789Z","amount":{"amount":11700,"currency":"USD"}}],
         "coupons":["LAUNCH20"],"paymentMethod":"pm_1Q2w3E","upsellOf":"0195f3a0-1111-7000-8000-000000000002",
         "seats":[{"id":"0195f3a0-3333-7000-8000-000000000001","offer":"masterclass",
                   "lead":"0195f3a0-2222-7000-8000-000000000001","expiresAt":"2026-03-02T09:30:30.123456789Z"}],
         "status":"partially_refunded","paid":{"amount":23400,"currency":"USD"},"refunded":{"amount":5400,"currency":"USD"},
         "entitlements":[
          {"lead":"0195f3a0-2222-7000-8000-000000000001","order":"0195f3a0-1111-7000-8000-000000000001",
           "offer":"masterclass","product":"masterclass-videos","kind":"course"},
          {"lead":"0195f3a0-2222-7000-8000-000000000001","order":"0195f3a0-1111-7000-8000-000000000001",
           "offer":"masterclass","product":"community","kind":"community_access"}],
         "pendingGrants":[
          {"lead":"0195f3a0-2222-7000-8000-000000000001","order":"0195f3a0-1111-7000-8000-000000000001",
           "offer":"masterclass","product":"community","kind":"community_access"}],
         "pendingRevocations":[
          {"lead":"0195f3a0-2222-7000-8000-000000000001","order":"0195f3a0-1111-7000-8000-000000000001",
           "offer":"templates-bump","product":"template-pack","kind":"template_pack"}],
         "installments":[
          {"number":1,"dueAt":"2026-03-02T09:15:30.123456789Z","amount":{"amount":11700,"currency":"USD"},"status":"paid",
           "paymentId":"pi_1","failedAttempts":0,"refunded":{"amount":5400,"currency":"USD"}},
          {"number":2,"dueAt":"2026-04-01T09:15:30.123456789Z","amount":{"amount":11700,"currency":"USD"},"status":"failed",
           "paymentId":"in_2","failedAttempts":2,"lastFailedAt":"2026-04-02T09:15:30.123456789Z",
           "declineCode":"insufficient_funds"},
          {"number":3,"dueAt":"2026-05-01T09:15:30.123456789Z","amount":{"amount":11700,"currency":"USD"},"status":"due",
           "failedAttempts":0}],
         "customer":"cus_9","planId":"sub_sched_7","failedPaymentAttempts":1,"accessPaused":true,
         "pausedEntitlements":[
          {"lead":"0195f3a0-2222-7000-8000-000000000001","order":"0195f3a0-1111-7000-8000-000000000001",
           "offer":"masterclass","product":"masterclass-videos","kind":"course"}],
         "appliedAdjustments":["re_1"],"version":4}
        """;

    // Format 1 with only the required properties, as a version that predates the optional ones would write it.
    private const string MinimalOrderV1 = """
        {"id":"0195f3a0-1111-7000-8000-000000000001","lead":"0195f3a0-2222-7000-8000-000000000001",
         "placedAt":"2026-03-02T09:15:30Z",
         "lines":[{"offer":"ebook","role":"main","quantity":1,"total":{"amount":2700,"currency":"USD"},"products":["ebook"]}],
         "total":{"amount":2700,"currency":"USD"},"schedule":[],
         "paid":{"amount":0,"currency":"USD"},"refunded":{"amount":0,"currency":"USD"}}
        """;

    // Written by format 1 for CommerceSamples.ParkedEvent().
    private const string ParkedEventV1 = """
        {"eventId":"evt_1Rk","eventType":"charge.refunded","receivedAt":"2026-03-02T10:15:30.123456789Z",
         "notification":{"eventId":"evt_1Rk","kind":"refunded","order":"0195f3a0-1111-7000-8000-000000000001",
          "occurredAt":"2026-03-02T10:14:30.123456789Z","paymentId":"pi_9","amount":{"amount":5400,"currency":"USD"},
          "installment":1,"adjustmentId":"re_9","reason":"requested_by_customer"},
         "status":"parked","attempts":3,"error":"payment pi_9 is not recorded yet","claimedBy":"web-1",
         "claimedUntil":"2026-03-02T10:20:30.123456789Z","version":2}
        """;

    private readonly SqliteDatabase _database = SqliteTestDatabase.Create();

    [Fact]
    public async Task FindAsync_OrderRowOfFormat1_ReadsTheOrderWithEveryPart()
    {
        await InsertOrderAsync(CommerceSamples.OrderId, version: 4, format: 1, OrderV1);

        Order order = (await new SqliteOrderStore(_database).FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull();

        ShouldMatch(order, CommerceSamples.FullOrder());
        order.MainOffer.ShouldBe(new OfferId("masterclass"));
        order.Lines[0].PaymentPlan.ShouldBe("3-pay");
        order.Installments[1].LastFailedAt.ShouldBe(CommerceSamples.PlacedAt + Duration.FromDays(31));
        order.Seats.ShouldHaveSingleItem().ExpiresAt.ShouldBe(CommerceSamples.PlacedAt + Duration.FromMinutes(15));
        order.PendingRevocations.ShouldHaveSingleItem().Kind.ShouldBe(ProductKind.TemplatePack);
    }

    [Fact]
    public async Task FindAsync_OrderRowWithOnlyTheRequiredProperties_ReadsTheDefaults()
    {
        await InsertOrderAsync(CommerceSamples.OrderId, version: 0, format: 1, MinimalOrderV1);

        Order order = (await new SqliteOrderStore(_database).FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull();

        (order.Status, order.Coupons.Length, order.Seats.Length, order.Installments.Length).ShouldBe((OrderStatus.AwaitingPayment, 0, 0, 0));
        (order.PaymentMethod, order.UpsellOf, order.AccessPaused, order.HasPendingEntitlements).ShouldBe(((string?)null, (OrderId?)null, false, false));
        order.Lines.ShouldHaveSingleItem().Products.ShouldBe(["ebook"]);
    }

    [Fact]
    public async Task FindAsync_OrderRowWithUnknownProperties_IgnoresThem()
    {
        string withExtras = OrderV1
            .Replace("\"customer\":", "\"giftMessage\":{\"to\":\"Ada\",\"lines\":[1,2]},\"customer\":", StringComparison.Ordinal)
            .Replace("\"paymentPlan\":\"3-pay\"", "\"paymentPlan\":\"3-pay\",\"taxCode\":\"txcd_10\"", StringComparison.Ordinal);
        withExtras.ShouldNotBe(OrderV1);
        await InsertOrderAsync(CommerceSamples.OrderId, version: 4, format: 1, withExtras);

        Order order = (await new SqliteOrderStore(_database).FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull();

        ShouldMatch(order, CommerceSamples.FullOrder());
    }

    [Fact]
    public async Task FindAsync_VersionColumnDiffersFromTheDocument_TheColumnWins()
    {
        await InsertOrderAsync(CommerceSamples.OrderId, version: 9, format: 1, OrderV1);

        (await new SqliteOrderStore(_database).FindAsync(CommerceSamples.OrderId)).ShouldNotBeNull().Version.ShouldBe(9);
    }

    [Fact]
    public async Task FindAsync_OrderRowOfAnUnknownFormat_FailsNamingTheFormat()
    {
        await InsertOrderAsync(CommerceSamples.OrderId, version: 4, format: 2, OrderV1);

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
        JsonCompact(row.Document).ShouldBe(JsonCompact(OrderV1).Replace("\"version\":4", "\"version\":0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FindAsync_WebhookRowOfFormat1_ReadsTheEventAndListsItAsParked()
    {
        await InsertWebhookAsync(ParkedEventV1);
        SqliteWebhookEventStore store = new(_database);

        StoredWebhookEvent stored = (await store.FindAsync("evt_1Rk")).ShouldNotBeNull();

        stored.ShouldBe(CommerceSamples.ParkedEvent() with { Notification = stored.Notification });
        stored.Notification.ShouldBe(CommerceSamples.ParkedEvent().Notification);
        (await store.ListParkedAsync(CommerceSamples.OrderId, "pi_9")).ShouldHaveSingleItem().EventId.ShouldBe("evt_1Rk");
    }

    [Fact]
    public async Task FindAsync_WebhookRowWithUnknownProperties_IgnoresThem()
    {
        string withExtras = ParkedEventV1
            .Replace("\"attempts\":3", "\"attempts\":3,\"deliveredBy\":{\"ip\":\"192.0.2.1\"}", StringComparison.Ordinal)
            .Replace("\"reason\":", "\"livemode\":true,\"reason\":", StringComparison.Ordinal);
        withExtras.ShouldNotBe(ParkedEventV1);
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
        JsonCompact(row.Document).ShouldBe(JsonCompact(ParkedEventV1).Replace("\"version\":2", "\"version\":0", StringComparison.Ordinal));
    }

    public void Dispose() => _database.Dispose();

    /// <summary>Compares two orders property by property, collections by their items (records compare arrays by reference).</summary>
    private static void ShouldMatch(Order actual, Order expected)
    {
        actual.ShouldBe(expected with
        {
            Lines = actual.Lines,
            Schedule = actual.Schedule,
            Coupons = actual.Coupons,
            Seats = actual.Seats,
            Entitlements = actual.Entitlements,
            PendingGrants = actual.PendingGrants,
            PendingRevocations = actual.PendingRevocations,
            Installments = actual.Installments,
            PausedEntitlements = actual.PausedEntitlements,
            AppliedAdjustments = actual.AppliedAdjustments,
        });
        actual.Lines.Length.ShouldBe(expected.Lines.Length);
        for (int i = 0; i < expected.Lines.Length; i++)
        {
            actual.Lines[i].ShouldBe(expected.Lines[i] with { Products = actual.Lines[i].Products });
            actual.Lines[i].Products.ShouldBe(expected.Lines[i].Products);
        }

        actual.Schedule.ShouldBe(expected.Schedule);
        actual.Coupons.ShouldBe(expected.Coupons);
        actual.Seats.ShouldBe(expected.Seats);
        actual.Entitlements.ShouldBe(expected.Entitlements);
        actual.PendingGrants.ShouldBe(expected.PendingGrants);
        actual.PendingRevocations.ShouldBe(expected.PendingRevocations);
        actual.Installments.ShouldBe(expected.Installments);
        actual.PausedEntitlements.ShouldBe(expected.PausedEntitlements);
        actual.AppliedAdjustments.ShouldBe(expected.AppliedAdjustments);
    }

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
