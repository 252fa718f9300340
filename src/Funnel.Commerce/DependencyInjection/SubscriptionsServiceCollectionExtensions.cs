using FluentValidation;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Subscriptions;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers subscriptions to recurring offers.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class SubscriptionsServiceCollectionExtensions
{
    /// <summary>Sells recurring offers as subscriptions, with free trials, renewals, dunning, cancel, pause and plan changes.</summary>
    /// <remarks>
    /// <para>
    /// Registers, unless already registered: the in-memory <see cref="ISubscriptionStore"/>, the
    /// <see cref="SubscriptionService"/> over the registered <see cref="PriceBook"/>, <see cref="IPaymentGateway"/>,
    /// <see cref="IEntitlementGrantor"/> and <see cref="DunningPolicy"/>, and the <c>subscription-renewals</c> job that runs
    /// <see cref="SubscriptionService.ProcessDueAsync"/> every <see cref="SubscriptionOptions.Interval"/> on the job runner of
    /// <c>AddFunnelHosting()</c>.
    /// </para>
    /// <para>
    /// <see cref="SubscriptionOptions"/> are validated when the host starts (<c>ValidateOnStart</c>): an invalid value fails
    /// with an <see cref="OptionsValidationException"/> naming the field, and so does a missing catalogue,
    /// <see cref="IPaymentGateway"/> or <see cref="IEntitlementGrantor"/>. Calls <c>AddFunnelCommerce()</c>. Calling this
    /// method again only adds another <paramref name="configure"/>.
    /// </para>
    /// <para>
    /// Also adds the <c>subscription-metrics</c> report section (<c>AddFunnelSubscriptionMetrics()</c>), so the
    /// funnel report carries MRR, net revenue retention, churn and trial conversion:
    /// <c>report.Section&lt;SubscriptionMetrics&gt;()</c>.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Changes the options, or <see langword="null"/> for the defaults (the job runs every minute).</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelSubscriptions(this IServiceCollection services, Action<SubscriptionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddFunnelCommerce();
        services.AddFunnelSubscriptionMetrics();
        OptionsBuilder<SubscriptionOptions> options = services.AddOptions<SubscriptionOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(Marker)))
        {
            return services;
        }

        services.AddSingleton<Marker>();
        const string Registration = "AddFunnelSubscriptions()";
        services
            .AddFunnelPrerequisite(Registration, typeof(Catalogue), "register your catalogue with services.AddSingleton(catalogue)")
            .AddFunnelPrerequisite(Registration, typeof(IEntitlementGrantor),
                "register the service that grants access with services.AddSingleton<IEntitlementGrantor, YourGrantor>()")
            .AddFunnelPrerequisite(Registration, typeof(IPaymentGateway),
                "call services.AddFunnelStripe(...) (Funnel.Payments.Stripe), or in tests register Funnel.Testing's InMemoryPaymentGateway");
        services.TryAddSingleton<IValidator<SubscriptionOptions>, SubscriptionOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SubscriptionOptions>,
            Funnel.DependencyInjection.FluentValidateOptions<SubscriptionOptions>>());
        services.TryAddSingleton<ISubscriptionStore, InMemorySubscriptionStore>();
        services.TryAddSingleton(sp => new SubscriptionService(
            sp.GetRequiredService<PriceBook>(),
            sp.GetRequiredService<ISubscriptionStore>(),
            sp.GetRequiredService<IPaymentGateway>(),
            sp.GetRequiredService<IEntitlementGrantor>(),
            sp.GetRequiredService<DunningPolicy>(),
            sp.GetRequiredService<IDateTimeZoneProvider>(),
            sp.GetRequiredService<IClock>(),
            sp.GetRequiredService<IFunnelEventLog>(),
            sp.GetRequiredService<IOptions<SubscriptionOptions>>(),
            sp.GetService<ISubscriptionBillingProvider>(),
            sp.GetService<ICouponRedemptionStore>()));
        services.AddFunnelJob<SubscriptionRenewalJob>();
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelSubscriptions"/> ran.</summary>
    private sealed class Marker;
}
