using Funnel.Events;
using Funnel.Storage.PostgreSql.Analytics;
using Funnel.Storage.PostgreSql.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Funnel.Storage.PostgreSql;

/// <summary>Registers the analytics loader of the PostgreSQL event log.</summary>
public static partial class FunnelPostgreSqlServiceCollectionExtensions
{
    /// <summary>Registers <see cref="FunnelPostgreSqlAnalytics"/> on the shared database, unless the app registered its own.</summary>
    static partial void AddAnalytics(IServiceCollection services);

    static partial void AddAnalytics(IServiceCollection services)
    {
        services.TryAddSingleton(static sp => new FunnelPostgreSqlAnalytics(
            sp.GetRequiredService<PgDatabase>(), sp.GetRequiredService<FunnelEventSerializer>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PgAnalyticsSegmentService>());
    }
}
