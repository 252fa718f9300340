using Funnel.Sequences;
using Funnel.Storage.PostgreSql.Sequences;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NodaTime;

namespace Funnel.Storage.PostgreSql;

/// <content>Registers the PostgreSQL stores of Funnel.Sequences.</content>
public static partial class FunnelPostgreSqlServiceCollectionExtensions
{
    static partial void AddSequenceStores(IServiceCollection services)
    {
        // The outbox stores the dispatch events (email_failed, sequence_completed, …) as JSON: their types must be
        // known to the FunnelEventSerializer whether or not AddFunnelSequences ran first.
        services.AddFunnelEventTypes(typeof(SequenceCompleted).Assembly);
        // The outbox reads the clock to tell whether a change makes work due now (NOTIFY).
        services.TryAddSingleton<IClock>(SystemClock.Instance);
        Replace<IEnrolmentStore, PgEnrolmentStore>(services);
        Replace<ISendOutbox, PgSendOutbox>(services);
        Replace<IBroadcastStore, PgBroadcastStore>(services);
        Replace<ISequenceTestStore, PgSequenceTestStore>(services);
    }
}
