using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Privacy;
using Funnel.Segments;
using Funnel.Storage.Sqlite.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Funnel.Storage.Sqlite;

/// <content>The SQLite stores of Funnel.Core.</content>
public static partial class FunnelSqliteServiceCollectionExtensions
{
    static partial void AddCoreStores(IServiceCollection services)
    {
        Replace<ILeadStore, SqliteLeadStore>(services);
        Replace<ISegmentMembershipStore, SqliteSegmentMembershipStore>(services);
        Replace<IFunnelEventLog, SqliteFunnelEventLog>(services);
        Replace<IEventSubscriptionStore, SqliteEventSubscriptionStore>(services);
        Replace<IParkedEventStore, SqliteParkedEventStore>(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataStore, SqlitePersonalDataStore>());
    }
}
