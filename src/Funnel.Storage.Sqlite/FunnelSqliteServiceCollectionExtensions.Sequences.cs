using Funnel.Sequences;
using Funnel.Storage.Sqlite.Sequences;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Storage.Sqlite;

/// <content>Registers the SQLite stores of Funnel.Sequences.</content>
public static partial class FunnelSqliteServiceCollectionExtensions
{
    static partial void AddSequenceStores(IServiceCollection services)
    {
        // The outbox stores the dispatch events (email_failed, sequence_completed, …) as JSON: their types must be
        // known to the FunnelEventSerializer whether or not AddFunnelSequences ran first.
        services.AddFunnelEventTypes(typeof(SequenceCompleted).Assembly);
        Replace<IEnrolmentStore, SqliteEnrolmentStore>(services);
        Replace<ISendOutbox, SqliteSendOutbox>(services);
        Replace<IBroadcastStore, SqliteBroadcastStore>(services);
        Replace<ISequenceTestStore, SqliteSequenceTestStore>(services);
    }
}
