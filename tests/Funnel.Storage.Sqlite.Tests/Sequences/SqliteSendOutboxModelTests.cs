using Funnel.Sequences;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.Sqlite.Internal;
using Funnel.Storage.Sqlite.Sequences;

namespace Funnel.Storage.Sqlite.Tests.Sequences;

/// <summary>The SQLite outbox against the in-memory one as the model, and many dispatchers on separate connections.</summary>
public sealed class SqliteSendOutboxModelTests : SendOutboxModelSpecificationTests, IDisposable
{
    private readonly SqliteDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    /// <summary>Design note §7.3 with leases: 4 dispatchers on two connections complete or abandon their claims; no entry is ever held by two live claims.</summary>
    [Fact]
    public async Task ClaimDueAsync_FourDispatchersOnTwoConnectionsWithExpiringLeases_NoEntryHeldByTwoLiveClaims()
    {
        string path = SqliteTestDatabase.NewPath();
        SqliteSendOutbox[] connections =
        [
            new(_databases.Open(path, static o => o.Synchronous = SqliteSynchronous.Normal), SequenceStoreKit.Serializer),
            new(_databases.Open(path, static o => o.Synchronous = SqliteSynchronous.Normal), SequenceStoreKit.Serializer),
        ];

        await DispatchersNeverHoldAnEntryTwiceAsync([connections[0], connections[1], connections[0], connections[1]], entries: 2_000, rounds: 200, max: 8);
    }

    protected override ISendOutbox CreateStore() =>
        new SqliteSendOutbox(_databases.Create(static o => o.Synchronous = SqliteSynchronous.Normal), SequenceStoreKit.Serializer);
}
