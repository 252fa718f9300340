using Funnel.Sequences;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.PostgreSql.Internal;

namespace Funnel.Storage.PostgreSql.Tests.Sequences;

/// <summary>The PostgreSQL outbox against the in-memory one as the model, and many dispatchers on separate data sources.</summary>
public sealed class PgSendOutboxModelTests : SendOutboxModelSpecificationTests, IAsyncDisposable
{
    private readonly PgSchemas _schemas = new();

    public ValueTask DisposeAsync() => _schemas.DisposeAsync();

    /// <summary>
    /// Design note §7.3 with leases: 4 dispatchers, each on a data source (pool) of its own as in 4 app instances, claim,
    /// complete or abandon their claims for 200 rounds over 5,000 entries; no entry is ever held by two live claims.
    /// </summary>
    [Fact]
    public async Task ClaimDueAsync_FourDispatchersOnFourDataSourcesWithExpiringLeases_NoEntryHeldByTwoLiveClaims()
    {
        PgDatabase schema = await _schemas.CreateAsync();
        PgDatabase[] instances = [.. Enumerable.Range(0, 4).Select(_ => new PgDatabase(new FunnelPostgreSqlOptions { ConnectionString = schema.Options.ConnectionString, Schema = schema.Schema }))];
        try
        {
            await DispatchersNeverHoldAnEntryTwiceAsync([.. instances.Select(i => SequenceStoreKit.Outbox(i))], entries: 5_000, rounds: 200, max: 16);
        }
        finally
        {
            foreach (PgDatabase instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    protected override ISendOutbox CreateStore() => SequenceStoreKit.Outbox(_schemas.Create());
}
