using Funnel.Storage.PostgreSql.Internal;
using Funnel.TestSupport;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Tests;

/// <summary>The test process's shared PostgreSQL cluster and its migrated template database.</summary>
/// <remarks>
/// The schema is migrated once into a template database; each new database copies it (<c>CREATE DATABASE … TEMPLATE</c>,
/// a few milliseconds). Tests make their databases through a <see cref="PgTestDatabases"/>, which drops them when
/// disposed: each is about 10 MB, and the hundreds a run makes would otherwise fill the disk.
/// </remarks>
internal static class PgTestDatabase
{
    private const string Template = "funnel_template";
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static bool templateReady;

    /// <summary>Returns the shared cluster.</summary>
    public static Task<PostgresServer> ServerAsync() => PostgresServer.SharedAsync();

    /// <summary>Creates an empty database (no Funnel schema) and returns its connection string.</summary>
    internal static async Task<string> CreateEmptyAsync() => await (await ServerAsync().ConfigureAwait(false)).CreateDatabaseAsync().ConfigureAwait(false);

    /// <summary>Creates a database with the Funnel schema in <c>funnel</c> and returns its connection string.</summary>
    internal static async Task<string> CreateMigratedAsync()
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

/// <summary>The databases a test (or a test class) made, dropped when it is disposed.</summary>
/// <remarks>
/// Make one per test class instance (xunit makes a class instance per test) and call <see cref="DropAllAsync"/> in the
/// class's <c>DisposeAsync</c>: every <see cref="PgDatabase"/> it opened is disposed, then every database it made is
/// dropped (<c>DROP DATABASE … WITH (FORCE)</c>, so connections a test left open do not keep it).
/// </remarks>
internal sealed class PgTestDatabases
{
    private readonly List<PgDatabase> _opened = [];
    private readonly List<string> _made = [];

    /// <summary>Opens a <see cref="PgDatabase"/> on a fresh migrated database.</summary>
    /// <param name="configure">Changes the options (the connection string is set).</param>
    public async Task<PgDatabase> CreateAsync(Action<FunnelPostgreSqlOptions>? configure = null)
    {
        FunnelPostgreSqlOptions options = new() { ConnectionString = await CreateMigratedAsync().ConfigureAwait(false) };
        configure?.Invoke(options);
        PgDatabase database = Track(new PgDatabase(options));
        await database.EnsureReadyAsync(CancellationToken.None).ConfigureAwait(false);
        return database;
    }

    /// <summary>Opens a fresh migrated database synchronously, for the synchronous <c>CreateStore</c> of the suites.</summary>
    /// <remarks>The creation runs on the thread pool, so the wait cannot deadlock on the test's synchronization context.</remarks>
    public PgDatabase Create() => Task.Run(() => CreateAsync()).GetAwaiter().GetResult();

    /// <summary>Makes a database with the Funnel schema and returns its connection string.</summary>
    public Task<string> CreateMigratedAsync() => MakeAsync(PgTestDatabase.CreateMigratedAsync);

    /// <summary>Makes an empty database (no Funnel schema) and returns its connection string.</summary>
    public Task<string> CreateEmptyAsync() => MakeAsync(PgTestDatabase.CreateEmptyAsync);

    /// <summary>Disposes <paramref name="database"/> with the others.</summary>
    public PgDatabase Track(PgDatabase database)
    {
        lock (_opened)
        {
            _opened.Add(database);
        }

        return database;
    }

    /// <summary>Disposes the databases opened and drops the databases made so far.</summary>
    public async Task DropAllAsync()
    {
        PgDatabase[] opened;
        string[] made;
        lock (_opened)
        {
            opened = [.. _opened];
            made = [.. _made];
            _opened.Clear();
            _made.Clear();
        }

        foreach (PgDatabase database in opened)
        {
            await database.DisposeAsync().ConfigureAwait(false);
        }

        if (made.Length > 0)
        {
            PostgresServer server = await PgTestDatabase.ServerAsync().ConfigureAwait(false);
            foreach (string connectionString in made)
            {
                await server.DropDatabaseAsync(connectionString).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Does <see cref="DropAllAsync"/> synchronously, for test classes that are <see cref="IDisposable"/>.</summary>
    public void DropAll() => Task.Run(DropAllAsync).GetAwaiter().GetResult();

    private async Task<string> MakeAsync(Func<Task<string>> make)
    {
        string connectionString = await make().ConfigureAwait(false);
        lock (_opened)
        {
            _made.Add(connectionString);
        }

        return connectionString;
    }
}
