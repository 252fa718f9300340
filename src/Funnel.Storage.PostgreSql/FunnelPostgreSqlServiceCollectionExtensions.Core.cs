using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Privacy;
using Funnel.Segments;
using Funnel.Storage.PostgreSql.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Funnel.Storage.PostgreSql;

/// <content>The PostgreSQL stores of Funnel.Core and the LISTEN/NOTIFY wake-up.</content>
public static partial class FunnelPostgreSqlServiceCollectionExtensions
{
    static partial void AddCoreStores(IServiceCollection services)
    {
        Replace<ILeadStore, PgLeadStore>(services);
        Replace<ISegmentMembershipStore, PgSegmentMembershipStore>(services);
        Replace<IFunnelEventLog, PgFunnelEventLog>(services);
        Replace<IEventSubscriptionStore, PgEventSubscriptionStore>(services);
        Replace<IParkedEventStore, PgParkedEventStore>(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataStore, PgPersonalDataStore>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PgWorkSignalListener>());
    }
}
