using FluentValidation;
using Funnel.AspNetCore.Dashboard;
using Funnel.AspNetCore.Dashboard.Figures;
using Funnel.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Funnel dashboard's services.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class FunnelDashboardServiceCollectionExtensions
{
    /// <summary>Adds what <c>MapFunnelDashboard</c> needs: its options, antiforgery and authorization.</summary>
    /// <remarks>
    /// <para>
    /// Calls <c>AddAntiforgery()</c> (every dashboard action validates the token itself, so the app need not call
    /// <c>UseAntiforgery()</c>) and <c>AddAuthorization()</c>; the app still registers the policy it names in
    /// <see cref="FunnelDashboardOptions.AuthorizationPolicy"/>, and its authentication, and calls
    /// <c>UseAuthentication()</c> and <c>UseAuthorization()</c>.
    /// </para>
    /// <para>
    /// The dashboard reads the stores the app registered (<c>AddFunnel</c>, <c>AddFunnelSequences</c>,
    /// <c>AddFunnelCommerce</c>, <c>AddFunnelAnalytics</c>, <c>AddFunnelAdvocacy</c> or a storage package); a page whose
    /// package or store is missing says so, naming the call that sets it up, instead of failing. The figures of the
    /// Overview, Payments, Sequences and Broadcasts pages are kept in memory, one copy per app instance, and brought up
    /// to date from the event log; each instance starts reading once the host has started
    /// (<see cref="FunnelDashboardOptions.ReadFiguresAtStart"/>), and pages read what was appended since
    /// (<see cref="FunnelDashboardOptions.FiguresWait"/>).
    /// <see cref="FunnelDashboardOptions"/> are validated when the host starts. Calling this method again adds the
    /// configuration and registers nothing twice.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelDashboard(this IServiceCollection services, Action<FunnelDashboardOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<FunnelDashboardOptions>().Configure(configure);
        if (services.Any(d => d.ServiceType == typeof(DashboardMarker)))
        {
            return services;
        }

        services.AddSingleton<DashboardMarker>();
        services.AddOptions<FunnelDashboardOptions>().ValidateOnStart();
        services.TryAddSingleton<IValidator<FunnelDashboardOptions>, FunnelDashboardOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FunnelDashboardOptions>, FluentValidateOptions<FunnelDashboardOptions>>());
        services.TryAddSingleton<DashboardFigures>();
        services.AddHostedService<DashboardFiguresStartup>();
        services.AddAntiforgery();
        services.AddAuthorization();
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelDashboard"/> ran.</summary>
    private sealed class DashboardMarker;
}
