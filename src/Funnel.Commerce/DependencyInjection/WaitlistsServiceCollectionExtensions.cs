using FluentValidation;
using Funnel.Offers;
using Funnel.Pipeline;
using Funnel.Waitlists;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers waitlists for sold-out limited offers.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class WaitlistsServiceCollectionExtensions
{
    /// <summary>Lets leads join the waitlist of a sold-out limited offer and offers each released seat to the next lead in line with a hold.</summary>
    /// <remarks>
    /// <para>
    /// Registers, unless already registered: the in-memory <see cref="IWaitlistStore"/>, the <see cref="WaitlistService"/>
    /// over the registered <see cref="ISeatInventory"/>, and the <c>waitlist-holds</c> job that passes lapsed holds on
    /// every <see cref="WaitlistOptions.Interval"/> on the job runner of <c>AddFunnelHosting()</c>. The
    /// <see cref="OrderService"/> of <c>AddFunnelCommerce()</c> then reserves seats through
    /// <see cref="WaitlistService.Seats"/>, so checkouts honour the holds and refunds' released seats go to the line.
    /// </para>
    /// <para>
    /// <see cref="WaitlistOptions"/> are validated when the host starts (<c>ValidateOnStart</c>): an invalid value fails
    /// with an <see cref="OptionsValidationException"/> naming the field. Calls <c>AddFunnelCommerce()</c>. Calling this
    /// method again only adds another <paramref name="configure"/>.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Changes the options, or <see langword="null"/> for the defaults (a seat held 24 hours).</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelWaitlists(this IServiceCollection services, Action<WaitlistOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddFunnelCommerce();
        OptionsBuilder<WaitlistOptions> options = services.AddOptions<WaitlistOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(Marker)))
        {
            return services;
        }

        services.AddSingleton<Marker>();
        services.TryAddSingleton<IValidator<WaitlistOptions>, WaitlistOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WaitlistOptions>, Funnel.DependencyInjection.FluentValidateOptions<WaitlistOptions>>());
        services.TryAddSingleton<IWaitlistStore, InMemoryWaitlistStore>();
        services.TryAddSingleton(sp => new WaitlistService(
            sp.GetRequiredService<PriceBook>(),
            sp.GetRequiredService<IWaitlistStore>(),
            sp.GetRequiredService<ISeatInventory>(),
            sp.GetRequiredService<IClock>(),
            sp.GetRequiredService<IFunnelEventLog>(),
            sp.GetRequiredService<IOptions<WaitlistOptions>>()));
        services.AddFunnelJob<WaitlistHoldExpiryJob>();
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelWaitlists"/> ran.</summary>
    private sealed class Marker;
}
