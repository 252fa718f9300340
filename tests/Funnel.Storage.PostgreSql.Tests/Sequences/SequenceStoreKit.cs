using Funnel.Events;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.Storage.PostgreSql.Sequences;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Tests.Sequences;

/// <summary>What the sequence store tests share.</summary>
internal static class SequenceStoreKit
{
    /// <summary>Gets the event serializer as <c>AddFunnel</c> + <c>AddFunnelPostgreSql</c> register it (with the sequence events).</summary>
    public static FunnelEventSerializer Serializer { get; } = CreateSerializer();

    /// <summary>Returns an outbox on a database, with the system clock (it only decides whether to NOTIFY).</summary>
    public static PgSendOutbox Outbox(PgDatabase database, IClock? clock = null) => new(database, Serializer, clock ?? SystemClock.Instance);

    private static FunnelEventSerializer CreateSerializer()
    {
        ServiceCollection services = new();
        services.AddFunnel();
        services.AddFunnelPostgreSql("Host=127.0.0.1;Database=unused");
        using ServiceProvider provider = services.BuildServiceProvider();
        return provider.GetRequiredService<FunnelEventSerializer>();
    }
}

/// <summary>
/// Fresh Funnel schemas for one test: one migrated database and one pool, and a schema of its own (migrated by the
/// store's first call) for each store, so a property test can create hundreds of stores without hundreds of pools.
/// </summary>
internal sealed class PgSchemas : IAsyncDisposable
{
    private readonly PgTestDatabases _databases = new();
    private readonly List<PgDatabase> _created = [];
    private readonly Lazy<Task<(string ConnectionString, NpgsqlDataSource Source)>> _database;

    public PgSchemas() => _database = new(OpenAsync);

    /// <summary>Returns a database whose schema is new and migrated; for the synchronous <c>CreateStore</c> of the specifications.</summary>
    public PgDatabase Create() => CreateAsync().GetAwaiter().GetResult();

    /// <summary>Returns a database whose schema is new and migrated.</summary>
    public async Task<PgDatabase> CreateAsync()
    {
        (string connectionString, NpgsqlDataSource source) = await _database.Value.ConfigureAwait(false);
        FunnelPostgreSqlOptions options = new() { ConnectionString = connectionString, Schema = "s_" + Guid.NewGuid().ToString("N")[..16] };
        PgDatabase database = new(options, source);
        await database.EnsureReadyAsync(CancellationToken.None).ConfigureAwait(false);
        lock (_created)
        {
            _created.Add(database);
        }

        return database;
    }

    public async ValueTask DisposeAsync()
    {
        PgDatabase[] created;
        lock (_created)
        {
            created = [.. _created];
            _created.Clear();
        }

        foreach (PgDatabase database in created)
        {
            await database.DisposeAsync().ConfigureAwait(false);
        }

        if (_database.IsValueCreated)
        {
            await (await _database.Value.ConfigureAwait(false)).Source.DisposeAsync().ConfigureAwait(false);
        }

        await _databases.DropAllAsync().ConfigureAwait(false);
    }

    private async Task<(string, NpgsqlDataSource)> OpenAsync()
    {
        string connectionString = await _databases.CreateEmptyAsync().ConfigureAwait(false);
        return (connectionString, NpgsqlDataSource.Create(connectionString));
    }
}
