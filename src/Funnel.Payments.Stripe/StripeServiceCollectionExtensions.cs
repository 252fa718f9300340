using FluentValidation;
using Funnel.DependencyInjection;
using Funnel.Payments.Stripe;
using Funnel.Payments;
using Funnel.Subscriptions;
using SubscriptionService = Funnel.Subscriptions.SubscriptionService;
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
        services.TryAddSingleton<IWebhookSignatureVerifier>(CreateVerifier);
        return services;
    }

    /// <summary>Adds Stripe Billing as the <see cref="ISubscriptionBillingProvider"/>: new subscriptions are Stripe subscriptions, billed by Stripe.</summary>
    /// <remarks>
    /// <para>
    /// <see cref="SubscriptionService"/> then creates each new subscription at Stripe (<c>POST /v1/subscriptions</c>,
    /// priced inline under <see cref="StripeBillingOptions.Product"/>, with our subscription id in its metadata) and passes
    /// cancellations, pauses, resumptions and plan changes (prorated and invoiced at once) on to it; the renewal job
    /// charges none of them. The webhook verifier is replaced by one that also applies Stripe Billing's events for these
    /// subscriptions: <c>invoice.paid</c> renews (or converts the trial), <c>invoice.payment_failed</c> makes it past due
    /// until Stripe's next attempt, or ends it when there is none, and <c>customer.subscription.deleted</c> ends it.
    /// Subscribe the webhook endpoint to those three events. Subscriptions started before this call keep being charged by the engine.
    /// </para>
    /// <para>
    /// Needs <see cref="AddFunnelStripe"/> (its key, webhook secrets and API base) and <c>AddFunnelSubscriptions()</c>:
    /// without the first, the host fails to start with an <see cref="OptionsValidationException"/> naming <c>ApiKey</c>;
    /// without the second, naming <see cref="SubscriptionService"/>. The options are validated when the host starts.
    /// Calling this method again adds the configuration and registers nothing twice.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelStripeBilling(this IServiceCollection services, Action<StripeBillingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<StripeBillingOptions>().Configure(configure);
        if (services.Any(d => d.ServiceType == typeof(StripeBillingMarker)))
        {
            return services;
        }

        services.AddSingleton<StripeBillingMarker>();
        services.AddOptions<StripeBillingOptions>().ValidateOnStart();
        services.AddFunnelPrerequisite("AddFunnelStripeBilling()", typeof(SubscriptionService),
            "call services.AddFunnelSubscriptions() (Funnel.Commerce) as well");
        services.TryAddSingleton<IValidator<StripeBillingOptions>>(sp =>
            new StripeBillingOptionsValidator(sp.GetService<IOptions<FunnelStripeOptions>>()?.Value));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StripeBillingOptions>, FluentValidateOptions<StripeBillingOptions>>());
        services.RemoveAll<ISubscriptionBillingProvider>();
        services.AddSingleton<ISubscriptionBillingProvider>(sp => new StripeSubscriptionBillingProvider(
            CreateClient(sp.GetRequiredService<IOptions<FunnelStripeOptions>>().Value),
            sp.GetRequiredService<IOptions<StripeBillingOptions>>().Value));
        services.RemoveAll<IWebhookSignatureVerifier>();
        services.AddSingleton<IWebhookSignatureVerifier>(sp => new StripeBillingWebhookVerifier(
            CreateVerifier(sp),
            () => sp.GetRequiredService<SubscriptionService>(),
            AlreadyReceived(sp)));
        return services;
    }

    /// <summary>The Stripe webhook verifier; a dispute names only its PaymentIntent, so it reads the order from that PaymentIntent's metadata.</summary>
    private static StripeWebhookVerifier CreateVerifier(IServiceProvider sp)
    {
        FunnelStripeOptions options = sp.GetRequiredService<IOptions<FunnelStripeOptions>>().Value;
        IStripeClient client = CreateClient(options);
        return new StripeWebhookVerifier(options.WebhookSecrets, options.WebhookTolerance, sp.GetRequiredService<IClock>(),
            (paymentIntent, cancellationToken) => StripePaymentGateway.OrderOfPaymentIntentAsync(client, paymentIntent, cancellationToken),
            AlreadyReceived(sp));
    }

    private static Func<string, CancellationToken, Task<bool>> AlreadyReceived(IServiceProvider sp) =>
        async (eventId, cancellationToken) => sp.GetService<IWebhookEventStore>() is { } store
            && await store.FindAsync(eventId, cancellationToken).ConfigureAwait(false) is not null;

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
    /// <para>
    /// It also registers the <c>stripe-tax</c> pipeline handler, which records each sale with Stripe Tax once the order
    /// is paid (a tax transaction from the order's calculation, noted by <see cref="StripeTaxTransactionRecorded"/>) and
    /// each refund as a reversal, so that Stripe counts them in the seller's filing reports and registration thresholds.
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
        services.TryAddSingleton(sp => new StripeTaxClient(CreateClient(sp.GetRequiredService<IOptions<FunnelStripeOptions>>().Value)));
        services.AddFunnelEventTypes(typeof(StripeTaxTransactionRecorded).Assembly);
        services.AddFunnelHandler<StripeTaxTransactionsHandler>(StripeTaxTransactionsHandler.Name);
        return services;
    }

    private static StripeClient CreateClient(FunnelStripeOptions options) =>
        new(options.ApiKey, httpClient: new SystemNetHttpClient(new HttpClient(), options.MaxNetworkRetries), apiBase: options.ApiBase?.ToString().TrimEnd('/'));

    /// <summary>Marks that <see cref="AddFunnelStripe"/> ran.</summary>
    private sealed class StripeMarker;

    /// <summary>Marks that <see cref="AddFunnelStripeBilling"/> ran.</summary>
    private sealed class StripeBillingMarker;
}
