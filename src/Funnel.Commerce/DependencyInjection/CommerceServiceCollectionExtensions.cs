using Funnel.Offers;
using Funnel.Payments;
using Funnel.DependencyInjection;
using Funnel.Kpis;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NodaTime;

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
    /// <c>AddFunnelStripe</c>); the <c>payments</c> report section (<see cref="PaymentMetrics.ReportSection"/>); and the
    /// <c>entitlements</c> pipeline handler, which finishes the grants and revocations a payment, refund, pause, restore or
    /// dispute left pending when the <see cref="IEntitlementGrantor"/> failed (the pipeline retries it with backoff).
    /// </para>
    /// <para>
    /// The services record their events in the <see cref="IFunnelEventLog"/> themselves; the results they return list
    /// them only as a description.
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
        services.AddFunnelEventTypes(typeof(CommerceServiceCollectionExtensions).Assembly); // so a durable event log can store installment_paid, …
        if (services.Any(d => d.ServiceType == typeof(Marker)))
        {
            return services;
        }

        services.AddSingleton<Marker>();
        OffersRegistration.AddOffers(services);
        PaymentsRegistration.AddPayments(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton(PaymentMetrics.ReportSection));
        services.AddFunnelHandler<EntitlementsHandler>(EntitlementsHandler.Name);
        return services;
    }

    /// <summary>Registers a payment provider's <see cref="WebhookProcessor"/>, keyed by provider, and the job that retries its failed events.</summary>
    /// <remarks>
    /// <para>
    /// The processor verifies requests with <paramref name="verifier"/> (by default the registered
    /// <see cref="IWebhookSignatureVerifier"/>), stores them in the <see cref="IWebhookEventStore"/>, applies them through
    /// the <see cref="PaymentService"/> and records the events they cause in the <see cref="IFunnelEventLog"/> itself.
    /// Resolve it with <c>GetRequiredKeyedService&lt;WebhookProcessor&gt;(provider)</c>; <c>AddFunnelPaymentWebhooks</c>
    /// of Funnel.AspNetCore calls this method and maps the endpoint. The retry job (an <see cref="IFunnelJob"/> named
    /// <c>webhook-retry:{provider}</c>) runs every minute on the job runner of <c>AddFunnelHosting()</c>, in a web app or
    /// a worker service, and claims the events it retries with a lease, so two instances never apply one event at once.
    /// </para>
    /// <para>
    /// Calls <see cref="AddFunnelCommerce"/>. What it cannot register itself is declared with
    /// <see cref="FunnelServiceCollectionExtensions.AddFunnelPrerequisite"/>, so a host without it fails at start-up
    /// naming what to add: a <see cref="Catalogue"/>, an <see cref="OfferPath"/>, an <see cref="IEntitlementGrantor"/>,
    /// an <see cref="IPaymentGateway"/> and (without <paramref name="verifier"/>) an <see cref="IWebhookSignatureVerifier"/>.
    /// Calling it again for the same provider registers nothing more.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="provider">The provider's name, such as <c>stripe</c>.</param>
    /// <param name="verifier">Creates the provider's verifier; <see langword="null"/> uses the registered <see cref="IWebhookSignatureVerifier"/>.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="provider"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="provider"/> is empty or white space.</exception>
    public static IServiceCollection AddFunnelWebhookProcessor(this IServiceCollection services, string provider,
        Func<IServiceProvider, IWebhookSignatureVerifier>? verifier = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        services.AddFunnelCommerce();
        if (services.Any(d => d.IsKeyedService && d.ServiceType == typeof(WebhookProcessor) && Equals(d.ServiceKey, provider)))
        {
            return services;
        }

        string registration = $"AddFunnelWebhookProcessor(\"{provider}\")";
        const string gateways = "call services.AddFunnelStripe(...) (Funnel.Payments.Stripe), or in tests register Funnel.Testing's "
            + "InMemoryPaymentGateway and its Verifier";
        services
            .AddFunnelPrerequisite(registration, typeof(Catalogue), "register your catalogue with services.AddSingleton(catalogue)")
            .AddFunnelPrerequisite(registration, typeof(OfferPath), "register your offer path with services.AddSingleton(offerPath)")
            .AddFunnelPrerequisite(registration, typeof(IEntitlementGrantor),
                "register the service that grants access with services.AddSingleton<IEntitlementGrantor, YourGrantor>()")
            .AddFunnelPrerequisite(registration, typeof(IPaymentGateway), gateways);
        if (verifier is null)
        {
            services.AddFunnelPrerequisite(registration, typeof(IWebhookSignatureVerifier), gateways);
        }

        services.AddKeyedSingleton(provider, (sp, _) => new WebhookProcessor(
            verifier is null ? sp.GetRequiredService<IWebhookSignatureVerifier>() : verifier(sp),
            sp.GetRequiredService<IWebhookEventStore>(),
            sp.GetRequiredService<PaymentService>(),
            sp.GetRequiredService<IClock>()));
        services.AddSingleton<IFunnelJob>(sp => new WebhookRetryJob(provider, sp));
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelCommerce"/> ran.</summary>
    private sealed class Marker;
}
