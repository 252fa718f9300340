using FluentValidation;
using Funnel.Analytics;
using Funnel.Analytics.Experiments;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Funnel analytics services.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class AnalyticsServiceCollectionExtensions
{
    /// <summary>Adds the Funnel analytics services, and the core services through <c>AddFunnel</c>.</summary>
    /// <remarks>
    /// Registers the <see cref="ExperimentExposed"/> event type for the event JSON contract and, unless already
    /// registered: an <see cref="ExperimentAssigner"/>, the <see cref="Funnel.Email.IVariantWinnerSelector"/> that names a
    /// broadcast's automatic winner (<see cref="StatisticalVariantWinnerSelector"/>, Holm–Bonferroni across challengers), and validators for
    /// <see cref="Experiment"/> and <see cref="FunnelQuery"/>. The analyses themselves (<see cref="FunnelAnalyzer"/>,
    /// <see cref="KpiTimeSeries"/>, <see cref="RevenueAttribution"/>, <see cref="FunnelForecaster"/>) are stateless
    /// static methods over an <see cref="AnalyticsEventStore"/>. Calling this method again registers nothing twice.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelAnalytics(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(AnalyticsMarker)))
        {
            return services;
        }

        services.AddSingleton<AnalyticsMarker>();
        services.AddFunnel();
        services.AddFunnelEventTypes(typeof(ExperimentExposed).Assembly);
        services.TryAddSingleton<ExperimentAssigner>();
        services.TryAddSingleton<IValidator<Experiment>, ExperimentValidator>();
        services.TryAddSingleton<IValidator<FunnelQuery>, FunnelQueryValidator>();
        services.TryAddSingleton<Funnel.Email.IVariantWinnerSelector>(
            new StatisticalVariantWinnerSelector(ExperimentStatisticsSettings.Default with { Correction = MultipleTestingCorrection.HolmBonferroni }));
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelAnalytics"/> ran.</summary>
    private sealed class AnalyticsMarker;
}
