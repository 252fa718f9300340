using Funnel.CartRecovery;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Pipeline;
using Funnel.Samples.EbookMasterclass;
using Funnel.Storage.Sqlite.Commerce;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Storage.Sqlite.Tests;

/// <summary>Cart recovery on a SQLite file: the tracked checkouts outlive the app, and two apps on one file emit once.</summary>
public sealed class CartRecoverySqliteTests
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 10, 5, 14, 0);
    private static readonly DateTimeZone NewYork = DateTimeZoneProviders.Tzdb["America/New_York"];

    [Fact]
    public async Task Restart_CheckoutTrackedBeforeIt_IsAbandonedOnceByTheNextApp()
    {
        string path = SqliteTestDatabase.NewPath();
        var clock = new FakeClock(T0);
        LeadId lead = LeadId.New();
        LeadId buyer = LeadId.New();
        EventId started;
        await using (ServiceProvider first = App(path, clock))
        {
            OrderService orders = first.GetRequiredService<OrderService>();
            Checkout checkout = await orders.StartCheckoutAsync(lead, Cart(), NewYork);
            started = checkout.Events.OfType<CheckoutStarted>().Single().Id;
            Checkout bought = await orders.StartCheckoutAsync(buyer, Cart(), NewYork);
            (await orders.PlaceOrderAsync(bought, paymentMethod: null)).Order.ShouldNotBeNull();
            await first.GetRequiredService<FunnelPipeline>().DeliverAllAsync();
            (await first.GetRequiredService<CheckoutAbandonment>().EmitDueAsync()).ShouldBe(0, "not due yet");
        }

        clock.Advance(Duration.FromHours(1));
        await using (ServiceProvider second = App(path, clock))
        {
            await RunJobAsync(second);
            await second.GetRequiredService<FunnelPipeline>().DeliverAllAsync();
        }

        clock.Advance(Duration.FromDays(1));
        await using ServiceProvider third = App(path, clock);
        await RunJobAsync(third);

        IReadOnlyList<LoggedEvent> log = await third.GetRequiredService<IFunnelEventLog>().ReadAsync(0, 1_000);
        CheckoutAbandoned abandoned = log.Select(l => l.Event).OfType<CheckoutAbandoned>().ShouldHaveSingleItem();
        (abandoned.LeadId, abandoned.Offer, abandoned.OccurredAt).ShouldBe((lead, OfferPathCatalogue.Basic, T0 + Duration.FromHours(1)));
        abandoned.Id.ShouldBe(EventId.Derive(started, EventTypes.CheckoutAbandoned));
        ICheckoutStore store = third.GetRequiredService<ICheckoutStore>();
        store.ShouldBeOfType<SqliteCheckoutStore>();
        (await store.FindAsync(lead, OfferPathCatalogue.Basic)).ShouldNotBeNull().Status.ShouldBe(CheckoutStatus.Abandoned);
        (await store.FindAsync(buyer, OfferPathCatalogue.Basic)).ShouldNotBeNull().Status.ShouldBe(CheckoutStatus.Ordered);
    }

    [Fact]
    public async Task TwoApps_OneFile_EmitEachAbandonmentOnce()
    {
        string path = SqliteTestDatabase.NewPath();
        var clock = new FakeClock(T0);
        await using ServiceProvider first = App(path, clock, batchSize: 4);
        await using ServiceProvider second = App(path, clock, batchSize: 4);
        OrderService orders = first.GetRequiredService<OrderService>();
        for (int i = 0; i < 30; i++)
        {
            await orders.StartCheckoutAsync(LeadId.New(), Cart(), NewYork);
        }

        await first.GetRequiredService<FunnelPipeline>().DeliverAllAsync();
        clock.Advance(Duration.FromHours(2));

        int[] emitted = await Task.WhenAll(
            Enumerable.Range(0, 6).Select(i => Task.Run(() => (i % 2 == 0 ? first : second).GetRequiredService<CheckoutAbandonment>().EmitDueAsync())));

        emitted.Sum().ShouldBe(30);
        IReadOnlyList<LoggedEvent> log = await second.GetRequiredService<IFunnelEventLog>().ReadAsync(0, 1_000);
        CheckoutAbandoned[] abandoned = [.. log.Select(l => l.Event).OfType<CheckoutAbandoned>()];
        abandoned.Length.ShouldBe(30);
        abandoned.Select(a => a.LeadId).Distinct().Count().ShouldBe(30);
    }

    [Fact]
    public async Task ClaimQuery_UsesTheDueIndex()
    {
        using Internal.SqliteDatabase database = SqliteTestDatabase.Create();

        List<string> plan = await database.ReadAsync(
            s => s.Query("EXPLAIN QUERY PLAN " + SqliteCheckoutStore.Claimable, static r => r.GetString(3), ("$now", 1L), ("$max", 10L)),
            CancellationToken.None);

        plan.ShouldContain(step => step.Contains("checkouts_due", StringComparison.Ordinal), string.Join(" | ", plan));
    }

    private static Cart Cart() => new() { Lines = [new CartLine(OfferPathCatalogue.Basic)] };

    private static async Task RunJobAsync(IServiceProvider services)
    {
        foreach (IFunnelJob job in services.GetServices<IFunnelJob>().Where(j => j.Name == "cart-recovery"))
        {
            await job.RunAsync();
        }
    }

    private static ServiceProvider App(string path, IClock clock, int batchSize = 100)
    {
        ServiceCollection services = new();
        services.AddSingleton(clock);
        services.AddSingleton(OfferPathCatalogue.Catalogue);
        services.AddSingleton(OfferPathCatalogue.Path);
        services.AddSingleton<IEntitlementGrantor, NoGrants>();
        services.AddFunnelCartRecovery(o => o.BatchSize = batchSize).AddFunnelSqlite($"Data Source={path}");
        return services.BuildServiceProvider();
    }

    private sealed class NoGrants : IEntitlementGrantor
    {
        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
