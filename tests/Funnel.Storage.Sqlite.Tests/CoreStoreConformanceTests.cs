using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Segments;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.Sqlite.Core;
using Funnel.Storage.Sqlite.Internal;

namespace Funnel.Storage.Sqlite.Tests;

// The store contract (tests/Funnel.Storage.ConformanceTests) run against the SQLite stores of Funnel.Core, each store
// on a fresh database file of its own, the same suites the in-memory stores pass.
public sealed class SqliteLeadStoreConformanceTests : LeadStoreSpecificationTests, IDisposable
{
    private readonly CoreTestDatabases _databases = new();

    protected override ILeadStore CreateStore() => new SqliteLeadStore(_databases.Create());

    public void Dispose() => _databases.Dispose();
}

public sealed class SqliteSegmentMembershipStoreConformanceTests : SegmentMembershipStoreSpecification, IDisposable
{
    private readonly CoreTestDatabases _databases = new();

    protected override ISegmentMembershipStore CreateStore() => new SqliteSegmentMembershipStore(_databases.Create());

    public void Dispose() => _databases.Dispose();
}

public sealed class SqliteFunnelEventLogConformanceTests : FunnelEventLogSpecificationTests, IDisposable
{
    private readonly CoreTestDatabases _databases = new();

    protected override IFunnelEventLog CreateLog() =>
        new SqliteFunnelEventLog(_databases.Create(), CoreTestDatabases.Serializer);

    public void Dispose() => _databases.Dispose();
}

public sealed class SqliteEventSubscriptionStoreConformanceTests : EventSubscriptionStoreSpecificationTests, IDisposable
{
    private readonly CoreTestDatabases _databases = new();

    protected override IEventSubscriptionStore CreateStore() => new SqliteEventSubscriptionStore(_databases.Create());

    public void Dispose() => _databases.Dispose();
}

public sealed class SqliteParkedEventStoreConformanceTests : ParkedEventStoreSpecificationTests, IDisposable
{
    private readonly CoreTestDatabases _databases = new();

    protected override IParkedEventStore CreateStore() => new SqliteParkedEventStore(_databases.Create());

    public void Dispose() => _databases.Dispose();
}

/// <summary>The databases one test created, disposed with the test, and the serializer <c>AddFunnel</c> registers.</summary>
internal sealed class CoreTestDatabases : IDisposable
{
    private readonly List<SqliteDatabase> _created = [];

    /// <summary>Gets a serializer for the event types of Funnel.Core.</summary>
    public static FunnelEventSerializer Serializer { get; } =
        new(FunnelEventTypes.FromAssemblies(typeof(FunnelEvent).Assembly));

    /// <summary>Creates a fresh, migrated database in a temporary file.</summary>
    public SqliteDatabase Create()
    {
        SqliteDatabase database = SqliteTestDatabase.Create();
        lock (_created)
        {
            _created.Add(database);
        }

        return database;
    }

    public void Dispose()
    {
        lock (_created)
        {
            foreach (SqliteDatabase database in _created)
            {
                database.Dispose();
            }

            _created.Clear();
        }
    }
}
