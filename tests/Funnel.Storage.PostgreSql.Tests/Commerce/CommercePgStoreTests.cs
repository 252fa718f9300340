using Funnel.Offers;
using Funnel.Payments;
using Funnel.Storage.PostgreSql.Commerce;
using Funnel.Storage.PostgreSql.Internal;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Tests.Commerce;

/// <summary>What the PostgreSQL commerce stores promise beyond the shared contract: indexed lookups on a filled table, cleanup, DI.</summary>
public sealed class CommercePgStoreTests : IAsyncLifetime
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 2, 9, 0);

    private readonly CommerceInstances _instances = new(1);

    private PgDatabase Database => _instances.First;

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();

    public static TheoryData<string, string> Lookups => new()
    {
        { "list", "webhook_events_status" },
        { "claimable", "webhook_events_retry" },
        { "parked", "webhook_events_parked" },
        { "hold", "seat_holds_offer" },
        { "taken", "seat_holds_offer" },
    };

    [Theory]
    [MemberData(nameof(Lookups))]
    public async Task QueryPlan_LookupOnAFilledTable_UsesItsIndexWithoutASeqScan(string lookup, string index)
    {
        // 20,000 processed events (the bulk of a real inbox) and a few open ones; 5,000 holds over 500 offers.
        await Database.ExecuteAsync(
            "INSERT INTO funnel.webhook_events (event_id, received_at, status, order_id, payment_id, version, format, document) " +
            "SELECT 'evt_' || i, now() - i * interval '1 second', CASE WHEN i % 1000 = 0 THEN 3 WHEN i % 997 = 0 THEN 4 ELSE 2 END, " +
            "gen_random_uuid(), 'pi_' || i, 0, 1, '{}' FROM generate_series(1, 20000) i; " +
            "INSERT INTO funnel.seat_holds (id, offer, lead_id, expires_at) " +
            "SELECT gen_random_uuid(), 'offer-' || (i % 500), gen_random_uuid(), now() FROM generate_series(1, 5000) i; " +
            "ANALYZE funnel.webhook_events; ANALYZE funnel.seat_holds");
        PgWebhookEventStore webhooks = new(Database);
        PgSeatInventory seats = new(Database, new FakeClock(Start));
        (string sql, object?[] args) = lookup switch
        {
            "list" => (webhooks.List, [WebhookEventStatus.Failed, 100]),
            "claimable" => (webhooks.Claimable, [Start, Start, 100]),
            "parked" => (webhooks.ListParked, [Guid.NewGuid(), "pi_1000"]),
            "hold" => (seats.FindHold, ["offer-7", Guid.NewGuid(), Start]),
            _ => (seats.CountTaken, new object?[] { "offer-7", Guid.NewGuid(), Start }),
        };

        await using NpgsqlConnection connection = await Database.OpenAsync(CancellationToken.None);
        string plan = string.Join(" | ", await CommerceCommands.QueryAsync(
            connection, null, "EXPLAIN " + sql, args, static r => r.GetString(0), CancellationToken.None));

        plan.ShouldContain(index, customMessage: plan);
        plan.ShouldNotContain("Seq Scan", customMessage: plan);
    }

    [Fact]
    public async Task TryReserveAsync_ExpiredHolds_AreDeletedByTheNextReservationOfTheOffer()
    {
        FakeClock clock = new(Start);
        PgSeatInventory seats = new(Database, clock);
        SeatLimit limit = new() { Capacity = 10, HoldFor = Duration.FromMinutes(15) };
        for (int i = 0; i < 5; i++)
        {
            await seats.TryReserveAsync("masterclass", LeadId.New(), limit);
        }

        await seats.TryReserveAsync("other", LeadId.New(), limit);
        clock.Advance(limit.HoldFor);
        await seats.TryReserveAsync("masterclass", LeadId.New(), limit);

        (await Database.ScalarAsync("SELECT count(*) FROM funnel.seat_holds WHERE offer = 'masterclass'")).ShouldBe(1L);
        (await Database.ScalarAsync("SELECT count(*) FROM funnel.seat_holds WHERE offer = 'other'")).ShouldBe(1L, "another offer's holds wait for its own reservations");
    }

    [Fact]
    public async Task TryReserveAsync_ClockWithNanoseconds_HoldEndsOnAWholeMicrosecondAndComesBackEqual()
    {
        PgSeatInventory seats = new(Database, new FakeClock(Start + Duration.FromNanoseconds(1_234_567)));
        SeatLimit limit = new() { Capacity = 1, HoldFor = Duration.FromMinutes(15) };
        LeadId lead = LeadId.New();

        SeatReservation held = (await seats.TryReserveAsync("vip", lead, limit)).ShouldNotBeNull();

        held.ExpiresAt.ShouldBe(Start + Duration.FromMinutes(15) + Duration.FromNanoseconds(1_234_000));
        (await seats.TryReserveAsync("vip", lead, limit)).ShouldBe(held);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AddFunnelPostgreSql_BeforeOrAfterAddFunnelCommerce_ReplacesTheInMemoryCommerceStores(bool postgresFirst)
    {
        ServiceCollection services = new();
        if (postgresFirst)
        {
            services.AddFunnelPostgreSql(_instances.ConnectionString);
        }

        services.AddFunnelCommerce();
        if (!postgresFirst)
        {
            services.AddFunnelPostgreSql(_instances.ConnectionString);
        }

        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<IOrderStore>().ShouldBeOfType<PgOrderStore>();
        provider.GetRequiredService<IWebhookEventStore>().ShouldBeOfType<PgWebhookEventStore>();
        provider.GetRequiredService<ISeatInventory>().ShouldBeOfType<PgSeatInventory>();
        provider.GetRequiredService<ICouponRedemptionStore>().ShouldBeOfType<PgCouponRedemptionStore>();
        provider.GetRequiredService<IDeadlineStore>().ShouldBeOfType<PgDeadlineStore>();
        services.Count(d => d.ServiceType == typeof(IOrderStore)).ShouldBe(1);
        (await provider.GetRequiredService<IDeadlineStore>().GetOrStartAsync("launch", LeadId.New(), Start)).ShouldBe(Start);
    }

    [Fact]
    public async Task TryRedeemAsync_LimitReached_LeavesNoCountBehind()
    {
        PgCouponRedemptionStore coupons = new(Database);
        LeadId first = LeadId.New();
        (await coupons.TryRedeemAsync("LAUNCH", first, maxTotal: 1, maxPerLead: 5)).ShouldBeTrue();

        (await coupons.TryRedeemAsync("launch", LeadId.New(), maxTotal: 1, maxPerLead: 5)).ShouldBeFalse();

        (await Database.ScalarAsync("SELECT string_agg(code || ':' || count, ',') FROM funnel.coupon_redemptions")).ShouldBe("LAUNCH:1");
        (await Database.ScalarAsync("SELECT total FROM funnel.coupon_totals WHERE code = 'LAUNCH'")).ShouldBe(1);
    }
}
