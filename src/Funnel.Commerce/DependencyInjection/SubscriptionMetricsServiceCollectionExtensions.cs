using Funnel.Kpis;
using Funnel.Subscriptions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the subscription KPIs (MRR, net revenue retention, churn, trial conversion) as a report section.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class SubscriptionMetricsServiceCollectionExtensions
{
    /// <summary>Adds the <c>subscription-metrics</c> report section (<see cref="SubscriptionMetrics.ReportSection"/>).</summary>
    /// <remarks>
    /// The reporter that <c>AddFunnel</c> registers then computes <see cref="SubscriptionMetrics"/> from the report's
    /// events; read it with <c>report.Section&lt;SubscriptionMetrics&gt;()</c>. Calls <c>AddFunnel()</c> itself. Calling
    /// this method again registers nothing twice.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelSubscriptionMetrics(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddFunnel();
        if (services.Any(d => d.ServiceType == typeof(Marker)))
        {
            return services;
        }

        services.AddSingleton<Marker>();
        services.AddSingleton(SubscriptionMetrics.ReportSection);
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelSubscriptionMetrics"/> ran.</summary>
    private sealed class Marker;
}
