using FluentValidation;
using Funnel.DependencyInjection;
using Funnel.Payments.Stripe;
using Funnel.Payments;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;
using Stripe;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Stripe payment adapter.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class StripeServiceCollectionExtensions
{
    /// <summary>Adds Stripe as the <see cref="IPaymentGateway"/> and its webhook verifier as the <see cref="IWebhookSignatureVerifier"/>.</summary>
    /// <remarks>
    /// <para>
    /// Registers, unless already registered: <see cref="IPaymentGateway"/> on Stripe.net, <see cref="IWebhookSignatureVerifier"/>
    /// for the <c>Stripe-Signature</c> header on the registered <see cref="IClock"/> (<see cref="SystemClock.Instance"/> when none),
    /// and a validator for <see cref="FunnelStripeOptions"/>. The verifier maps <c>charge.dispute.created</c> and
    /// <c>charge.dispute.closed</c> (won or lost) too, reading the disputed PaymentIntent's order with one API call. It calls <c>AddFunnelCommerce()</c>, so
    /// <see cref="PaymentService"/> and <see cref="WebhookProcessor"/> become resolvable. No Stripe type appears on the
    /// public API.
    /// </para>
    /// <para>
    /// The options are validated when the host starts (<c>ValidateOnStart</c>), or without a host when the gateway is
    /// first resolved; an invalid option throws <see cref="OptionsValidationException"/> naming it. Calling this method
    /// again adds the configuration and registers nothing twice.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelStripe(this IServiceCollection services, Action<FunnelStripeOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<FunnelStripeOptions>().Configure(configure);
        if (services.Any(d => d.ServiceType == typeof(StripeMarker)))
        {
            return services;
        }

        services.AddSingleton<StripeMarker>();
        services.AddFunnelCommerce();
        services.AddOptions<FunnelStripeOptions>().ValidateOnStart();
        services.TryAddSingleton<IClock>(SystemClock.Instance);
        services.TryAddSingleton<IValidator<FunnelStripeOptions>, FunnelStripeOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FunnelStripeOptions>, FluentValidateOptions<FunnelStripeOptions>>());
        services.TryAddSingleton<IPaymentGateway>(sp =>
        {
            FunnelStripeOptions options = sp.GetRequiredService<IOptions<FunnelStripeOptions>>().Value;
            return new StripePaymentGateway(CreateClient(options), options.PlanProduct);
        });
        services.TryAddSingleton<IWebhookSignatureVerifier>(sp =>
        {
            FunnelStripeOptions options = sp.GetRequiredService<IOptions<FunnelStripeOptions>>().Value;
            // A dispute names only its PaymentIntent: the verifier reads the order from that PaymentIntent's metadata.
            IStripeClient client = CreateClient(options);
            return new StripeWebhookVerifier(options.WebhookSecrets, options.WebhookTolerance, sp.GetRequiredService<IClock>(),
                (paymentIntent, cancellationToken) => StripePaymentGateway.OrderOfPaymentIntentAsync(client, paymentIntent, cancellationToken),
                async (eventId, cancellationToken) => sp.GetService<IWebhookEventStore>() is { } store
                    && await store.FindAsync(eventId, cancellationToken).ConfigureAwait(false) is not null);
        });
        return services;
    }

    /// <summary>Adds Stripe Tax as the <see cref="Funnel.Tax.ITaxCalculator"/>: every checkout and upsell is taxed by Stripe Tax's calculation API.</summary>
    /// <remarks>
    /// <para>
    /// For sellers who owe US sales tax (or tax elsewhere that Stripe Tax covers) and let Stripe work it out: the quote
    /// gains a line of tax per quote line from <c>POST /v1/tax/calculations</c>, located by the buyer's billing address
    /// (<see cref="Funnel.Tax.LocationEvidence.BillingCountry"/>, <see cref="Funnel.Tax.LocationEvidence.BillingPostalCode"/>,
    /// <see cref="Funnel.Tax.LocationEvidence.BillingState"/>). It replaces any <see cref="Funnel.Tax.ITaxCalculator"/>
    /// registered before, such as <c>AddFunnelTax</c>'s VAT calculator.
    /// </para>
    /// <para>
    /// It calls Stripe with the key of <see cref="AddFunnelStripe"/>, which must be called too: without it the host
    /// fails to start with an <see cref="OptionsValidationException"/> naming <c>ApiKey</c>. The options are validated
    /// when the host starts.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelStripeTax(this IServiceCollection services, Action<StripeTaxOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<StripeTaxOptions>().Configure(configure ?? (_ => { })).ValidateOnStart();
        services.TryAddSingleton<IValidator<StripeTaxOptions>>(sp =>
            new StripeTaxOptionsValidator(sp.GetService<IOptions<FunnelStripeOptions>>()?.Value));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StripeTaxOptions>, FluentValidateOptions<StripeTaxOptions>>());
        services.RemoveAll<Funnel.Tax.ITaxCalculator>();
        services.AddSingleton<Funnel.Tax.ITaxCalculator>(sp => new StripeTaxCalculator(
            CreateClient(sp.GetRequiredService<IOptions<FunnelStripeOptions>>().Value),
            sp.GetRequiredService<IOptions<StripeTaxOptions>>().Value));
        return services;
    }

    private static StripeClient CreateClient(FunnelStripeOptions options) =>
        new(options.ApiKey, httpClient: new SystemNetHttpClient(new HttpClient(), options.MaxNetworkRetries), apiBase: options.ApiBase?.ToString().TrimEnd('/'));

    /// <summary>Marks that <see cref="AddFunnelStripe"/> ran.</summary>
    private sealed class StripeMarker;
}
