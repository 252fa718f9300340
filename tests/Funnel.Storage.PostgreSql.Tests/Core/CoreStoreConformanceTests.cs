using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Segments;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.PostgreSql.Core;
using Funnel.Storage.PostgreSql.Internal;

namespace Funnel.Storage.PostgreSql.Tests.Core;

// The store contract (tests/Funnel.Storage.ConformanceTests) run against the PostgreSQL stores of Funnel.Core, each
// store on a fresh database of its own: the suites the in-memory and SQLite stores pass.
public sealed class PgLeadStoreConformanceTests : LeadStoreSpecificationTests, IDisposable
{
    private readonly CoreTestDatabases _databases = new();

    protected override ILeadStore CreateStore() => new PgLeadStore(_databases.Create());

    public void Dispose() => _databases.Dispose();
}

public sealed class PgSegmentMembershipStoreConformanceTests : SegmentMembershipStoreSpecification, IDisposable
{
    private readonly CoreTestDatabases _databases = new();

    protected override ISegmentMembershipStore CreateStore() => new PgSegmentMembershipStore(_databases.Create());

    public void Dispose() => _databases.Dispose();
}

public sealed class PgFunnelEventLogConformanceTests : FunnelEventLogSpecificationTests, IDisposable
{
    private readonly CoreTestDatabases _databases = new();

    protected override IFunnelEventLog CreateLog() => new PgFunnelEventLog(_databases.Create(), CoreTestDatabases.Serializer);

    public void Dispose() => _databases.Dispose();
}

public sealed class PgEventSubscriptionStoreConformanceTests : EventSubscriptionStoreSpecificationTests, IDisposable
{
    private readonly CoreTestDatabases _databases = new();

    protected override IEventSubscriptionStore CreateStore() => new PgEventSubscriptionStore(_databases.Create());

    public void Dispose() => _databases.Dispose();
}

public sealed class PgParkedEventStoreConformanceTests : ParkedEventStoreSpecificationTests, IDisposable
{
    private readonly CoreTestDatabases _databases = new();

    protected override IParkedEventStore CreateStore() => new PgParkedEventStore(_databases.Create());

    public void Dispose() => _databases.Dispose();
}

/// <summary>The databases one test created, dropped with the test, and the serializer <c>AddFunnel</c> registers.</summary>
internal sealed class CoreTestDatabases : IDisposable
{
    private readonly PgTestDatabases _databases = new();

    /// <summary>Gets a serializer for the event types of Funnel.Core.</summary>
    public static FunnelEventSerializer Serializer { get; } = new(FunnelEventTypes.FromAssemblies(typeof(FunnelEvent).Assembly));

    /// <summary>Opens a fresh, migrated database, for the synchronous <c>CreateStore</c> of the suites.</summary>
    /// <remarks>The creation runs on the thread pool, so the wait cannot deadlock on the test's synchronization context.</remarks>
    public PgDatabase Create() => _databases.Create();

    /// <summary>Opens a fresh, migrated database.</summary>
    public Task<PgDatabase> CreateAsync() => _databases.CreateAsync();

    public void Dispose() => _databases.DropAll();
}
