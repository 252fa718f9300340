using FluentValidation;
using Funnel.CartRecovery;
using Funnel.Kpis;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers cart recovery: <c>checkout_abandoned</c> events and the recovery KPIs.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class CartRecoveryServiceCollectionExtensions
{
    /// <summary>Emits <c>checkout_abandoned</c> once for each checkout with no order after <see cref="CartRecoveryOptions.AbandonAfter"/>, and adds the <c>cart-recovery</c> report section.</summary>
    /// <remarks>
    /// <para>
    /// Registers, unless already registered: the in-memory <see cref="ICheckoutStore"/> (Funnel.Storage.Sqlite and
    /// Funnel.Storage.PostgreSql replace it with a durable one), the <c>cart-recovery</c> pipeline handler that tracks
    /// checkouts and orders, <see cref="CheckoutAbandonment"/>, the <c>cart-recovery</c> job that runs it every
    /// <see cref="CartRecoveryOptions.Interval"/> on the job runner of <c>AddFunnelHosting()</c>, and the report section
    /// of <see cref="CartRecoveryReport"/>. Register the recovery emails as a sequence, such as
    /// <c>GuideSequences.CartRecovery</c> of Funnel.Sequences.
    /// </para>
    /// <para>
    /// <see cref="CartRecoveryOptions"/> are validated when the host starts (<c>ValidateOnStart</c>): an invalid value
    /// fails with an <see cref="OptionsValidationException"/> naming the field. Calls <c>AddFunnelCommerce()</c>. Calling
    /// this method again only adds another <paramref name="configure"/>.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Changes the options, or <see langword="null"/> for the defaults (abandoned after one hour).</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelCartRecovery(this IServiceCollection services, Action<CartRecoveryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddFunnelCommerce();
        OptionsBuilder<CartRecoveryOptions> options = services.AddOptions<CartRecoveryOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(Marker)))
        {
            return services;
        }

        services.AddSingleton<Marker>();
        services.TryAddSingleton<IValidator<CartRecoveryOptions>, CartRecoveryOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CartRecoveryOptions>, Funnel.DependencyInjection.FluentValidateOptions<CartRecoveryOptions>>());
        services.TryAddSingleton<ICheckoutStore, InMemoryCheckoutStore>();
        services.TryAddSingleton(sp => new CheckoutAbandonment(
            sp.GetRequiredService<ICheckoutStore>(),
            sp.GetRequiredService<IFunnelEventLog>(),
            sp.GetRequiredService<IClock>(),
            sp.GetRequiredService<IOptions<CartRecoveryOptions>>()));
        services.AddFunnelHandler<CheckoutTrackingHandler>(CheckoutTrackingHandler.Name);
        services.AddFunnelJob<CheckoutAbandonmentJob>();
        services.AddSingleton<IFunnelReportSection>(sp =>
            new CartRecoveryReportSection(sp.GetRequiredService<IOptions<CartRecoveryOptions>>().Value.RecoveryWindow));
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelCartRecovery"/> ran.</summary>
    private sealed class Marker;
}
