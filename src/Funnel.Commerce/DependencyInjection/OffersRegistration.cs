using FluentValidation;
using Funnel.Offers;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NodaTime;

namespace Funnel.DependencyInjection;

/// <summary>Registers the offers and checkout services (called by <c>AddFunnel</c>).</summary>
internal static class OffersRegistration
{
    /// <summary>Adds the in-memory stores, the deadline tracker, the catalogue validator and, when a <see cref="Catalogue"/> is registered, the price book and order service (reserving seats through the waitlists when <c>AddFunnelWaitlists</c> ran).</summary>
    public static void AddOffers(IServiceCollection services)
    {
        services.TryAddSingleton<IValidator<Catalogue>, CatalogueValidator>();
        services.TryAddSingleton<IDeadlineStore, InMemoryDeadlineStore>();
        services.TryAddSingleton<ICouponRedemptionStore, InMemoryCouponRedemptionStore>();
        services.TryAddSingleton<IOrderStore, InMemoryOrderStore>();
        services.TryAddSingleton<ISeatInventory>(sp => new InMemorySeatInventory(sp.GetRequiredService<IClock>()));
        services.TryAddSingleton(sp => new DeadlineTracker(sp.GetRequiredService<IDeadlineStore>(), sp.GetRequiredService<IClock>()));
        services.TryAddSingleton(sp => new PriceBook(sp.GetRequiredService<Catalogue>()));
        services.TryAddSingleton(sp => new OrderService(
            sp.GetRequiredService<PriceBook>(),
            sp.GetRequiredService<OfferPath>(),
            sp.GetRequiredService<IOrderStore>(),
            sp.GetRequiredService<IEntitlementGrantor>(),
            sp.GetRequiredService<ICouponRedemptionStore>(),
            sp.GetService<Waitlists.WaitlistService>()?.Seats ?? sp.GetRequiredService<ISeatInventory>(),
            sp.GetRequiredService<DeadlineTracker>(),
            sp.GetRequiredService<IClock>(),
            sp.GetRequiredService<IFunnelEventLog>(),
            sp.GetService<Tax.ITaxCalculator>()));
    }
}
