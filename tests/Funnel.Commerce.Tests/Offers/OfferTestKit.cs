using System.Collections.Concurrent;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Offers;

/// <summary>Records grants and revocations instead of calling a course platform.</summary>
internal sealed class RecordingGrantor : IEntitlementGrantor
{
    public ConcurrentQueue<Entitlement> Granted { get; } = new();

    public ConcurrentQueue<Entitlement> Revoked { get; } = new();

    /// <summary>Gets or sets a product whose grants and revocations fail, as a course platform that is down would.</summary>
    public string? FailingProduct { get; set; }

    /// <summary>Gets or sets whether a grant gives up its thread before it lands, as a call to a remote platform would, so concurrent callers interleave.</summary>
    public bool Remote { get; set; }

    public async Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
    {
        ThrowIfFailing(entitlement);
        if (Remote)
        {
            for (int i = 0; i < 20; i++)
            {
                await Task.Yield();
            }
        }

        Granted.Enqueue(entitlement);
    }

    public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
    {
        ThrowIfFailing(entitlement);
        Revoked.Enqueue(entitlement);
        return Task.CompletedTask;
    }

    private void ThrowIfFailing(Entitlement entitlement)
    {
        if (entitlement.Product == FailingProduct)
        {
            throw new HttpRequestException($"The platform for '{entitlement.Product}' is down.");
        }
    }
}

/// <summary>An order service over the Masterclass catalogue with in-memory stores and a fake clock.</summary>
internal sealed class OfferTestKit
{
    public static readonly Instant T0 = Instant.FromUtc(2026, 10, 5, 14, 0);
    public static readonly DateTimeZone NewYork = DateTimeZoneProviders.Tzdb["America/New_York"];

    public OfferTestKit(Catalogue? catalogue = null, OfferPath? path = null)
    {
        Clock = new FakeClock(T0);
        Prices = new PriceBook(catalogue ?? OfferPathCatalogue.Catalogue);
        Seats = new InMemorySeatInventory(Clock);
        Deadlines = new DeadlineTracker(DeadlineStore, Clock);
        Service = new OrderService(Prices, path ?? OfferPathCatalogue.Path, Orders, Grantor, Coupons, Seats, Deadlines, Clock, Log);
    }

    public FakeClock Clock { get; }

    public PriceBook Prices { get; }

    public InMemoryOrderStore Orders { get; } = new();

    public Funnel.Pipeline.InMemoryFunnelEventLog Log { get; } = new();

    public RecordingGrantor Grantor { get; } = new();

    public InMemoryCouponRedemptionStore Coupons { get; } = new();

    public InMemoryDeadlineStore DeadlineStore { get; } = new();

    public InMemorySeatInventory Seats { get; }

    public DeadlineTracker Deadlines { get; }

    public OrderService Service { get; }

    public static LeadId Lead(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));

    public static Money Usd(decimal amount) => Money.FromMajor(amount, Currency.USD);

    public async Task<Order> BuyAsync(int lead, params CartLine[] lines)
    {
        Checkout checkout = await Service.StartCheckoutAsync(Lead(lead), new Cart { Lines = [.. lines] }, NewYork);
        OrderResult placed = await Service.PlaceOrderAsync(checkout, "pm_card_on_file");
        return placed.Order!;
    }
}
