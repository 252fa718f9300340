using Funnel.Offers;
using Funnel.Payments;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.Sqlite.Commerce;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Storage.Sqlite.Tests;

/// <summary>What the SQLite commerce stores promise beyond the shared contract: durability across a restart, indexed lookups, DI.</summary>
public sealed class CommerceSqliteStoreTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly SeatLimit TwoSeats = new() { Capacity = 2, HoldFor = Duration.FromMinutes(15) };

    [Fact]
    public async Task Reopen_SameFile_KeepsOrdersParkedWebhooksSeatsCouponsAndDeadlines()
    {
        string path = SqliteTestDatabase.NewPath();
        FakeClock clock = new(Start);
        Order order = CommerceSamples.FullOrder() with { Version = 0 };
        LeadId buyer = LeadId.New();
        LeadId holder = LeadId.New();
        SeatReservation held;
        using (SqliteDatabase database = SqliteTestDatabase.Open(path))
        {
            SqliteOrderStore orders = new(database);
            (await orders.TryAddAsync(order)).ShouldBeTrue();
            (await orders.TryUpdateAsync(order, order with { Status = OrderStatus.Paid })).ShouldBeTrue();
            (await new SqliteWebhookEventStore(database).TryAddAsync(CommerceSamples.ParkedEvent())).ShouldBeTrue();
            SqliteSeatInventory seats = new(database, clock);
            SeatReservation sold = (await seats.TryReserveAsync("masterclass", buyer, TwoSeats)).ShouldNotBeNull();
            (await seats.ConfirmAsync(sold)).ShouldBeTrue();
            held = (await seats.TryReserveAsync("masterclass", holder, TwoSeats)).ShouldNotBeNull();
            (await new SqliteCouponRedemptionStore(database).TryRedeemAsync("LAUNCH", buyer, maxTotal: 1, maxPerLead: null)).ShouldBeTrue();
            (await new SqliteDeadlineStore(database).GetOrStartAsync("launch", buyer, Start)).ShouldBe(Start);
        }

        using SqliteDatabase reopened = SqliteTestDatabase.Open(path);

        Order stored = (await new SqliteOrderStore(reopened).FindAsync(order.Id)).ShouldNotBeNull();
        (stored.Status, stored.Version, stored.Installments.Length).ShouldBe((OrderStatus.Paid, 1L, 3));
        SqliteWebhookEventStore webhooks = new(reopened);
        (await webhooks.ListParkedAsync(CommerceSamples.OrderId, "pi_9")).ShouldHaveSingleItem().EventId.ShouldBe("evt_1Rk");
        (await webhooks.TryAddAsync(CommerceSamples.ParkedEvent() with { Status = WebhookEventStatus.Received })).ShouldBeFalse("a redelivery after a restart is a duplicate");
        SqliteSeatInventory reopenedSeats = new(reopened, clock);
        (await reopenedSeats.TryReserveAsync("masterclass", LeadId.New(), TwoSeats)).ShouldBeNull("one seat is sold and one held");
        (await reopenedSeats.TryReserveAsync("masterclass", holder, TwoSeats)).ShouldBe(held);
        (await reopenedSeats.ConfirmAsync(held)).ShouldBeTrue();
        (await new SqliteCouponRedemptionStore(reopened).TryRedeemAsync("LAUNCH", LeadId.New(), maxTotal: 1, maxPerLead: null)).ShouldBeFalse();
        (await new SqliteDeadlineStore(reopened).FindStartAsync("launch", buyer)).ShouldBe(Start);
    }

    [Fact]
    public async Task TryReserveAsync_ExpiredHolds_AreDeletedByTheNextReservation()
    {
        using SqliteDatabase database = SqliteTestDatabase.Create();
        FakeClock clock = new(Start);
        SqliteSeatInventory seats = new(database, clock);
        for (int i = 0; i < 5; i++)
        {
            await seats.TryReserveAsync("masterclass", LeadId.New(), TwoSeats with { Capacity = 10 });
        }

        clock.Advance(TwoSeats.HoldFor);
        await seats.TryReserveAsync("masterclass", LeadId.New(), TwoSeats);

        (await database.ReadAsync(static s => (long)s.Scalar("SELECT count(*) FROM seat_holds")!, CancellationToken.None)).ShouldBe(1);
    }

    [Theory]
    [InlineData(SqliteWebhookEventStore.List, "webhook_events_status")]
    [InlineData(SqliteWebhookEventStore.Claimable, "webhook_events_status")]
    [InlineData(SqliteWebhookEventStore.ListParked, "webhook_events_parked")]
    [InlineData(SqliteSeatInventory.FindHold, "seat_holds_offer")]
    [InlineData(SqliteSeatInventory.CountTaken, "seat_holds_offer")]
    public async Task QueryPlan_Lookups_SearchTheirIndexWithoutAScan(string sql, string index)
    {
        using SqliteDatabase database = SqliteTestDatabase.Create();

        List<string> plan = await database.ReadAsync(s => s.Query("EXPLAIN QUERY PLAN " + sql, static r => r.GetString(3), Parameters(sql)), CancellationToken.None);

        plan.ShouldContain(step => step.StartsWith("SEARCH ", StringComparison.Ordinal) && step.Contains("USING INDEX " + index, StringComparison.Ordinal), string.Join(" | ", plan));
        plan.ShouldNotContain(step => step.StartsWith("SCAN ", StringComparison.Ordinal), string.Join(" | ", plan));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AddFunnelSqlite_BeforeOrAfterAddFunnelCommerce_ReplacesTheInMemoryCommerceStores(bool sqliteFirst)
    {
        ServiceCollection services = new();
        string connectionString = $"Data Source={SqliteTestDatabase.NewPath()}";
        if (sqliteFirst)
        {
            services.AddFunnelSqlite(connectionString);
        }

        services.AddFunnelCommerce();
        if (!sqliteFirst)
        {
            services.AddFunnelSqlite(connectionString);
        }

        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<IOrderStore>().ShouldBeOfType<SqliteOrderStore>();
        provider.GetRequiredService<IWebhookEventStore>().ShouldBeOfType<SqliteWebhookEventStore>();
        provider.GetRequiredService<ISeatInventory>().ShouldBeOfType<SqliteSeatInventory>();
        provider.GetRequiredService<ICouponRedemptionStore>().ShouldBeOfType<SqliteCouponRedemptionStore>();
        provider.GetRequiredService<IDeadlineStore>().ShouldBeOfType<SqliteDeadlineStore>();
        services.Count(d => d.ServiceType == typeof(IOrderStore)).ShouldBe(1);
        (await provider.GetRequiredService<IDeadlineStore>().GetOrStartAsync("launch", LeadId.New(), Start)).ShouldBe(Start);
    }

    private static (string Name, object? Value)[] Parameters(string sql) =>
        [.. new[] { "$status", "$max", "$before", "$now", "$order", "$payment", "$offer", "$lead" }
            .Where(name => sql.Contains(name, StringComparison.Ordinal))
            .Select(name => (name, (object?)1L))];
}
