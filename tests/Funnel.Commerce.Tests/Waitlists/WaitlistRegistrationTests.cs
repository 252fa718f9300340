using Funnel.Events;
using Funnel.Offers;
using Funnel.Pipeline;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tests.Offers;
using Funnel.Waitlists;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Waitlists;

public class WaitlistRegistrationTests
{
    [Fact]
    public async Task AddFunnelWaitlists_OrderServiceReservesThroughTheWaitlistAndTheJobPassesLapsedHoldsOn()
    {
        var clock = new FakeClock(WaitlistTestKit.T0);
        ServiceCollection services = new();
        services.AddSingleton<IClock>(clock);
        services.AddSingleton(new WaitlistTestKit().Prices.Catalogue);
        services.AddSingleton(OfferPathCatalogue.Path);
        services.AddSingleton<IEntitlementGrantor>(new RecordingGrantor());
        services.AddFunnelWaitlists(o => o.HoldFor = Duration.FromHours(2)).AddFunnelWaitlists(o => o.Interval = TimeSpan.FromSeconds(30));
        await using ServiceProvider provider = services.BuildServiceProvider();
        OrderService orders = provider.GetRequiredService<OrderService>();
        WaitlistService waitlists = provider.GetRequiredService<WaitlistService>();
        IFunnelJob job = provider.GetServices<IFunnelJob>().Single(j => j.Name == "waitlist-holds");
        Order first = await BuyAsync(orders, 1) ?? throw new InvalidOperationException("The first seat was not sold.");
        await waitlists.JoinAsync(OfferPathCatalogue.Basic, WaitlistTestKit.Lead(2));
        await waitlists.JoinAsync(OfferPathCatalogue.Basic, WaitlistTestKit.Lead(3));

        await orders.RefundAsync(first.Id, first.Paid);
        clock.Advance(Duration.FromHours(2));
        await job.RunAsync();

        job.Interval.ShouldBe(TimeSpan.FromSeconds(30));
        services.Count(d => d.ServiceType == typeof(IFunnelJob) && d.ImplementationType?.Name == "WaitlistHoldExpiryJob").ShouldBe(1);
        (await BuyAsync(orders, 2)).ShouldBeNull();
        (await waitlists.FindHoldAsync(OfferPathCatalogue.Basic, WaitlistTestKit.Lead(3))).ShouldNotBeNull()
            .ExpiresAt.ShouldBe(WaitlistTestKit.T0 + Duration.FromHours(4));
        (await BuyAsync(orders, 3)).ShouldNotBeNull();
        IReadOnlyList<LoggedEvent> logged = await provider.GetRequiredService<IFunnelEventLog>().ReadAsync(0, 1000);
        logged.Select(l => l.Event.EventType).Where(t => t.StartsWith("waitlist_", StringComparison.Ordinal)).ShouldBe([
            WaitlistEventTypes.WaitlistJoined, WaitlistEventTypes.WaitlistJoined, WaitlistEventTypes.WaitlistSeatOffered,
            WaitlistEventTypes.WaitlistHoldExpired, WaitlistEventTypes.WaitlistSeatOffered, WaitlistEventTypes.WaitlistSeatClaimed]);
    }

    [Theory]
    [InlineData("HoldFor")]
    [InlineData("Interval")]
    [InlineData("MaxWaiting")]
    [InlineData("BatchSize")]
    public async Task StartAsync_InvalidOption_FailsNamingIt(string field)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddFunnelWaitlists(o =>
        {
            switch (field)
            {
                case "HoldFor": o.HoldFor = Duration.FromSeconds(10); break;
                case "Interval": o.Interval = TimeSpan.Zero; break;
                case "MaxWaiting": o.MaxWaiting = 0; break;
                default: o.BatchSize = 1_001; break;
            }
        });
        using IHost host = builder.Build();

        OptionsValidationException error = await Should.ThrowAsync<OptionsValidationException>(() => host.StartAsync());

        error.Message.ShouldContain($"WaitlistOptions.{field}");
    }

    [Fact]
    public async Task Join_WaitlistFull_IsRejectedNamingTheOffer()
    {
        var kit = new WaitlistTestKit();
        await kit.BuyAsync(1);
        var waitlists = new WaitlistService(kit.Prices, kit.Store, kit.Inventory, kit.Clock, kit.Log, Options.Create(new WaitlistOptions { MaxWaiting = 1 }));
        await waitlists.JoinAsync(OfferPathCatalogue.Basic, WaitlistTestKit.Lead(2));

        WaitlistJoinResult full = await waitlists.JoinAsync(OfferPathCatalogue.Basic, WaitlistTestKit.Lead(3));

        full.Rejection.ShouldBe(WaitlistRejection.Full);
        full.Reason.ShouldNotBeNull().ShouldContain("'masterclass-basic' is full");
        (await waitlists.GetPositionAsync(OfferPathCatalogue.Basic, WaitlistTestKit.Lead(3))).ShouldBeNull();
    }

    private static async Task<Order?> BuyAsync(OrderService orders, int lead)
    {
        Checkout checkout = await orders.StartCheckoutAsync(WaitlistTestKit.Lead(lead), new Cart { Lines = [WaitlistTestKit.Basic] }, DateTimeZone.Utc);
        if (checkout.Rejection is not null)
        {
            return null;
        }

        Order order = (await orders.PlaceOrderAsync(checkout, "pm_card_on_file")).Order!;
        return (await orders.RecordPaymentAsync(order.Id, order.Total)).Order;
    }
}
