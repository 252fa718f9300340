using Funnel.Events;
using Funnel.Offers;
using Funnel.Pipeline;
using Funnel.Samples.EbookMasterclass;
using Funnel.Waitlists;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Storage.Sqlite.Tests;

/// <summary>A waitlist on a SQLite file shared by two apps: the seat, the line and the holds are the same for both.</summary>
public sealed class WaitlistSqliteTests
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 10, 5, 14, 0);
    private static readonly OfferId Offer = OfferPathCatalogue.Basic;

    [Fact]
    public async Task TwoApps_RefundThenLapsedHold_PassTheOneSeatAlongTheLineOnce()
    {
        string path = SqliteTestDatabase.NewPath();
        var clock = new FakeClock(T0);
        LeadId[] leads = [LeadId.New(), LeadId.New(), LeadId.New(), LeadId.New()];
        await using ServiceProvider a = App(path, clock);
        await using ServiceProvider b = App(path, clock);
        Order first = (await BuyAsync(a, leads[0])).ShouldNotBeNull();
        (await b.GetRequiredService<WaitlistService>().JoinAsync(Offer, leads[1])).Position.ShouldBe(1);
        (await a.GetRequiredService<WaitlistService>().JoinAsync(Offer, leads[2])).Position.ShouldBe(2);

        await a.GetRequiredService<OrderService>().RefundAsync(first.Id, first.Paid);

        (await b.GetRequiredService<WaitlistService>().FindHoldAsync(Offer, leads[1])).ShouldNotBeNull();
        (await BuyAsync(b, leads[3])).ShouldBeNull();
        (await BuyAsync(b, leads[2])).ShouldBeNull();
        clock.Advance(Duration.FromHours(24));
        int[] expired = await Task.WhenAll(RunJobAsync(a), RunJobAsync(b));
        expired.Sum().ShouldBe(1);
        (await BuyAsync(a, leads[1])).ShouldBeNull();
        Order bought = (await BuyAsync(b, leads[2])).ShouldNotBeNull();

        bought.Total.ShouldBe(new Money(49_700, Currency.USD));
        IReadOnlyList<LoggedEvent> logged = await a.GetRequiredService<IFunnelEventLog>().ReadAsync(0, 1_000);
        WaitlistReport report = WaitlistReport.Compute(logged.Select(l => l.Event), Offer, Currency.USD);
        (report.Joined, report.OffersMade, report.Expiries, report.Conversions, report.Waiting).ShouldBe((2L, 2L, 1L, 1L, 0L));
        report.RecoveredRevenue.ShouldBe(new Money(49_700, Currency.USD));
        logged.Select(l => l.Event).OfType<WaitlistSeatOffered>().Select(e => e.LeadId).ShouldBe([leads[1], leads[2]]);
    }

    [Fact]
    public async Task TwoApps_ManyJoinsAtOnce_EachLeadGetsOneDistinctPlace()
    {
        string path = SqliteTestDatabase.NewPath();
        var clock = new FakeClock(T0);
        await using ServiceProvider a = App(path, clock);
        await using ServiceProvider b = App(path, clock);
        (await BuyAsync(a, LeadId.New())).ShouldNotBeNull();
        WaitlistService[] apps = [a.GetRequiredService<WaitlistService>(), b.GetRequiredService<WaitlistService>()];
        LeadId[] leads = [.. Enumerable.Range(0, 48).Select(_ => LeadId.New())];
        TaskCompletionSource start = new(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<WaitlistJoinResult>[] joins = [.. leads.Select((lead, i) => Task.Run(async () =>
        {
            await start.Task;
            return await apps[i % 2].JoinAsync(Offer, lead);
        }))];
        start.SetResult();
        WaitlistJoinResult[] results = await Task.WhenAll(joins);

        results.Select(r => r.Position!.Value).Order().ShouldBe(Enumerable.Range(1, leads.Length));
        (await apps[1].GetPositionAsync(Offer, leads[^1])).ShouldBe(results[^1].Position);
    }

    private static async Task<int> RunJobAsync(IServiceProvider services)
    {
        await Task.Yield();
        return await services.GetRequiredService<WaitlistService>().ExpireDueAsync();
    }

    private static async Task<Order?> BuyAsync(IServiceProvider services, LeadId lead)
    {
        OrderService orders = services.GetRequiredService<OrderService>();
        Checkout checkout = await orders.StartCheckoutAsync(lead, new Cart { Lines = [new CartLine(Offer)] }, DateTimeZone.Utc);
        if (checkout.Rejection is not null)
        {
            return null;
        }

        Order order = (await orders.PlaceOrderAsync(checkout, "pm_card_on_file")).Order!;
        return (await orders.RecordPaymentAsync(order.Id, order.Total)).Order;
    }

    private static ServiceProvider App(string path, IClock clock)
    {
        Catalogue limited = OfferPathCatalogue.Catalogue with
        {
            Offers = OfferPathCatalogue.Catalogue.Offers.SetItem(0, OfferPathCatalogue.Catalogue.Offers[0] with { Seats = new SeatLimit { Capacity = 1 } }),
        };
        ServiceCollection services = new();
        services.AddSingleton(clock);
        services.AddSingleton(limited);
        services.AddSingleton(OfferPathCatalogue.Path);
        services.AddSingleton<IEntitlementGrantor, NoGrants>();
        services.AddFunnelWaitlists().AddFunnelSqlite($"Data Source={path}");
        return services.BuildServiceProvider();
    }

    private sealed class NoGrants : IEntitlementGrantor
    {
        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
