using Funnel.Offers;
using Funnel.Payments;
using Funnel.DependencyInjection;
using Funnel.Kpis;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Funnel.Commerce services.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class CommerceServiceCollectionExtensions
{
    /// <summary>Adds the offers, orders and payments services.</summary>
    /// <remarks>
    /// <para>
    /// Registers, unless already registered: in-memory order, seat, coupon, deadline and webhook event stores; a
    /// <see cref="PriceBook"/> and <see cref="OrderService"/> built from the <see cref="Catalogue"/>,
    /// <see cref="OfferPath"/> and <see cref="IEntitlementGrantor"/> you register; the default
    /// <see cref="DunningPolicy"/>; a <see cref="PaymentService"/> and <see cref="WebhookProcessor"/> over the
    /// <see cref="IPaymentGateway"/> and <see cref="IWebhookSignatureVerifier"/> you register (such as with
    /// <c>AddFunnelStripe</c>); and the <c>payments</c> report section (<see cref="PaymentMetrics.ReportSection"/>).
    /// </para>
    /// <para>
    /// Calls <see cref="FunnelServiceCollectionExtensions.AddFunnel(IServiceCollection)"/> itself, so it may come before
    /// or after <c>AddFunnel(options =&gt; ...)</c>. Calling this method again registers nothing twice. Register your
    /// own services before or after this call to replace any of them.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelCommerce(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddFunnel();
        if (services.Any(d => d.ServiceType == typeof(Marker)))
        {
            return services;
        }

        services.AddSingleton<Marker>();
        OffersRegistration.AddOffers(services);
        PaymentsRegistration.AddPayments(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton(PaymentMetrics.ReportSection));
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelCommerce"/> ran.</summary>
    private sealed class Marker;
}
