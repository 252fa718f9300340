using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.Sqlite.Core;
using Funnel.Storage.Sqlite.Internal;
using Funnel.Storage.Sqlite.Sequences;
using Funnel.Storage.Sqlite.Tests.Sequences;

namespace Funnel.Storage.Sqlite.Tests;

/// <summary>The <see cref="ISendOutbox"/> contract over <see cref="SqliteSendOutbox"/>, each store in a database file of its own.</summary>
public sealed class SqliteSendOutboxConformanceTests : SendOutboxSpecificationTests, IDisposable
{
    private readonly SqliteDatabases _databases = new();

    protected override ISendOutbox CreateStore() => new SqliteSendOutbox(_databases.Create(), SequenceStoreKit.Serializer);

    public void Dispose() => _databases.Dispose();
}

/// <summary>The contract of an outbox writing into its log, over <see cref="SqliteSendOutbox"/> with the <see cref="SqliteFunnelEventLog"/> of its database file.</summary>
public sealed class SqliteSendOutboxEventLogConformanceTests : SendOutboxEventLogSpecification, IDisposable
{
    private readonly SqliteDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    protected override Task<(ISendOutbox Outbox, IFunnelEventLog Log)> CreateAsync()
    {
        SqliteDatabase database = _databases.Create();
        SqliteFunnelEventLog log = new(database, SequenceStoreKit.Serializer);
        return Task.FromResult<(ISendOutbox, IFunnelEventLog)>((new SqliteSendOutbox(database, SequenceStoreKit.Serializer, log), log));
    }
}

/// <summary>The <see cref="IEnrolmentStore"/> contract over <see cref="SqliteEnrolmentStore"/>, each store in a database file of its own.</summary>
public sealed class SqliteEnrolmentStoreConformanceTests : EnrolmentStoreSpecificationTests, IDisposable
{
    private readonly SqliteDatabases _databases = new();

    protected override IEnrolmentStore CreateStore() => new SqliteEnrolmentStore(_databases.Create());

    public void Dispose() => _databases.Dispose();
}

/// <summary>The <see cref="IBroadcastStore"/> contract over <see cref="SqliteBroadcastStore"/>, each store in a database file of its own.</summary>
public sealed class SqliteBroadcastStoreConformanceTests : BroadcastStoreSpecification, IDisposable
{
    private readonly SqliteDatabases _databases = new();

    protected override IBroadcastStore CreateStore() => new SqliteBroadcastStore(_databases.Create());

    public void Dispose() => _databases.Dispose();
}

/// <summary>The <see cref="ISequenceTestStore"/> contract over <see cref="SqliteSequenceTestStore"/>, each store in a database file of its own.</summary>
public sealed class SqliteSequenceTestStoreConformanceTests : SequenceTestStoreSpecification, IDisposable
{
    private readonly SqliteDatabases _databases = new();

    protected override ISequenceTestStore CreateStore() => new SqliteSequenceTestStore(_databases.Create());

    public void Dispose() => _databases.Dispose();
}

/// <summary>The databases a test class created, closed when its test ends.</summary>
internal sealed class SqliteDatabases : IDisposable
{
    private readonly List<SqliteDatabase> _created = [];
    private readonly Lock _gate = new();

    public SqliteDatabase Create(Action<FunnelSqliteOptions>? configure = null)
    {
        SqliteDatabase database = SqliteTestDatabase.Create(configure);
        lock (_gate)
        {
            _created.Add(database);
        }

        return database;
    }

    public SqliteDatabase Open(string path, Action<FunnelSqliteOptions>? configure = null)
    {
        SqliteDatabase database = SqliteTestDatabase.Open(path, configure);
        lock (_gate)
        {
            _created.Add(database);
        }

        return database;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (SqliteDatabase database in _created)
            {
                database.Dispose();
            }

            _created.Clear();
        }
    }
}
