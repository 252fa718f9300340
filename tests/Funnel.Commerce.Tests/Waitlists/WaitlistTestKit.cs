using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tests.Offers;
using Funnel.Waitlists;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Waitlists;

/// <summary>The Masterclass catalogue with a limited Basic offer, and app instances sharing one set of in-memory stores.</summary>
internal sealed class WaitlistTestKit
{
    public static readonly Instant T0 = OfferTestKit.T0;
    public static readonly Duration HoldFor = Duration.FromHours(24);
    public static readonly CartLine Basic = new(OfferPathCatalogue.Basic);

    public WaitlistTestKit(int capacity = 1)
    {
        Catalogue limited = OfferPathCatalogue.Catalogue with
        {
            Offers = OfferPathCatalogue.Catalogue.Offers.SetItem(0, OfferPathCatalogue.Catalogue.Offers[0] with { Seats = new SeatLimit { Capacity = capacity } }),
        };
        Prices = new PriceBook(limited);
        Inventory = new InMemorySeatInventory(Clock);
        (Waitlists, Service) = NewInstance();
    }

    public FakeClock Clock { get; } = new(T0);

    public PriceBook Prices { get; }

    public InMemorySeatInventory Inventory { get; }

    public InMemoryWaitlistStore Store { get; } = new();

    public InMemoryOrderStore Orders { get; } = new();

    public Funnel.Pipeline.InMemoryFunnelEventLog Log { get; } = new();

    /// <summary>The first app instance's waitlists.</summary>
    public WaitlistService Waitlists { get; }

    /// <summary>The first app instance's order service, reserving through <see cref="Waitlists"/>.</summary>
    public OrderService Service { get; }

    public static LeadId Lead(int n) => OfferTestKit.Lead(n);

    /// <summary>Another app instance on the same stores, inventory, log and clock.</summary>
    public (WaitlistService Waitlists, OrderService Orders) NewInstance()
    {
        var waitlists = new WaitlistService(Prices, Store, Inventory, Clock, Log, Options.Create(new WaitlistOptions { HoldFor = HoldFor }));
        var orders = new OrderService(Prices, OfferPathCatalogue.Path, Orders, new RecordingGrantor(), new InMemoryCouponRedemptionStore(),
            waitlists.Seats, new DeadlineTracker(new InMemoryDeadlineStore(), Clock), Clock, Log);
        return (waitlists, orders);
    }

    /// <summary>Checks out, places and pays for Basic; <see langword="null"/> when the checkout or order was rejected.</summary>
    public async Task<Order?> BuyAsync(int lead, OrderService? service = null)
    {
        service ??= Service;
        Checkout checkout = await service.StartCheckoutAsync(Lead(lead), new Cart { Lines = [Basic] }, DateTimeZone.Utc);
        if (checkout.Rejection is not null)
        {
            return null;
        }

        OrderResult placed = await service.PlaceOrderAsync(checkout, "pm_card_on_file");
        if (placed.Order is null)
        {
            return null;
        }

        return (await service.RecordPaymentAsync(placed.Order.Id, placed.Order.Total)).Order;
    }

    public async Task<IReadOnlyList<Funnel.Events.FunnelEvent>> EventsAsync() =>
        [.. (await Log.ReadAsync(0, 100_000)).Select(l => l.Event)];
}
