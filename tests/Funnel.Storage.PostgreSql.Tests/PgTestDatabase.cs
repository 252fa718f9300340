using Funnel.Storage.PostgreSql.Internal;
using Funnel.TestSupport;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Tests;

/// <summary>Fresh, migrated databases on the test process's shared PostgreSQL cluster.</summary>
/// <remarks>
/// The schema is migrated once into a template database; each <see cref="CreateAsync"/> copies it
/// (<c>CREATE DATABASE … TEMPLATE</c>, a few milliseconds), so every test class or test works on a database of its own.
/// </remarks>
internal static class PgTestDatabase
{
    private const string Template = "funnel_template";
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static bool templateReady;

    /// <summary>Returns the shared cluster.</summary>
    public static Task<PostgresServer> ServerAsync() => PostgresServer.SharedAsync();

    /// <summary>Creates an empty database (no Funnel schema) and returns its connection string.</summary>
    public static async Task<string> CreateEmptyAsync() => await (await ServerAsync().ConfigureAwait(false)).CreateDatabaseAsync().ConfigureAwait(false);

    /// <summary>Creates a database with the Funnel schema in <c>funnel</c> and returns its connection string.</summary>
    public static async Task<string> CreateMigratedAsync()
    {
        PostgresServer server = await ServerAsync().ConfigureAwait(false);
        await Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!templateReady)
            {
                await server.PsqlAsync($"CREATE DATABASE {Template}").ConfigureAwait(false);
                await using (PgDatabase database = new(new FunnelPostgreSqlOptions { ConnectionString = server.ConnectionString(Template) + ";Pooling=false" }))
                {
                    await database.EnsureReadyAsync(CancellationToken.None).ConfigureAwait(false);
                }

                templateReady = true;
            }
        }
        finally
        {
            Gate.Release();
        }

        return await server.CreateDatabaseAsync(Template).ConfigureAwait(false);
    }

    /// <summary>Opens a <see cref="PgDatabase"/> on a fresh migrated database.</summary>
    /// <param name="configure">Changes the options (the connection string is set).</param>
    public static async Task<PgDatabase> CreateAsync(Action<FunnelPostgreSqlOptions>? configure = null)
    {
        FunnelPostgreSqlOptions options = new() { ConnectionString = await CreateMigratedAsync().ConfigureAwait(false) };
        configure?.Invoke(options);
        PgDatabase database = new(options);
        await database.EnsureReadyAsync(CancellationToken.None).ConfigureAwait(false);
        return database;
    }

    /// <summary>Runs one SQL statement and returns the first column of the first row.</summary>
    public static async Task<object?> ScalarAsync(this PgDatabase database, string sql)
    {
        await using NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None).ConfigureAwait(false);
        await using NpgsqlCommand command = new(sql, connection);
        return await command.ExecuteScalarAsync().ConfigureAwait(false);
    }

    /// <summary>Runs SQL statements.</summary>
    public static async Task ExecuteAsync(this PgDatabase database, string sql)
    {
        await using NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None).ConfigureAwait(false);
        await using NpgsqlCommand command = new(sql, connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }
}

/// <summary>The databases a test class opened, disposed with it.</summary>
internal sealed class PgTestDatabases : IAsyncDisposable
{
    private readonly List<PgDatabase> _created = [];

    /// <summary>Opens a fresh migrated database.</summary>
    public async Task<PgDatabase> CreateAsync(Action<FunnelPostgreSqlOptions>? configure = null)
    {
        PgDatabase database = await PgTestDatabase.CreateAsync(configure).ConfigureAwait(false);
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
    }
}
