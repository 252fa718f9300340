using Microsoft.Extensions.Options;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Internal;

/// <summary>The app's PostgreSQL database as Funnel uses it: the data source, the Funnel schema and the migration gate.</summary>
/// <remarks>
/// Every store of <c>AddFunnelPostgreSql</c> shares this singleton. The schema is migrated (or validated) once,
/// before the first statement and at start-up by the hosted service. A data source the app passed in is the app's:
/// it is used as it is (no type mapping is added) and never disposed here.
/// </remarks>
internal sealed class PgDatabase : IAsyncDisposable, IDisposable
{
    private readonly SemaphoreSlim _readyGate = new(1, 1);
    private readonly bool _ownsDataSource;
    private volatile bool _ready;

    public PgDatabase(IOptions<FunnelPostgreSqlOptions> options, FunnelPostgreSqlDataSource? given = null)
        : this(options.Value, given?.DataSource)
    {
    }

    public PgDatabase(FunnelPostgreSqlOptions options, NpgsqlDataSource? dataSource = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Schema = options.Schema;
        if (dataSource is null)
        {
            DataSource = NpgsqlDataSource.Create(options.ConnectionString);
            _ownsDataSource = true;
        }
        else
        {
            DataSource = dataSource;
        }
    }

    public FunnelPostgreSqlOptions Options { get; }

    /// <summary>Gets the data source every connection comes from.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>Gets the schema name (validated: lower-case, so it needs no quoting).</summary>
    public string Schema { get; }

    /// <summary>Returns a table's qualified name, <c>schema.table</c>.</summary>
    public string Table(string name) => $"{Schema}.{name}";

    /// <summary>Opens a connection after making sure the schema is ready.</summary>
    public async ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        return await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="work"/> on an open connection (autocommit: each statement commits by itself).</summary>
    public async Task<T> ReadAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await work(connection).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="work"/> in a transaction and commits it; an exception rolls it back.</summary>
    public async Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        T result = await work(connection, transaction).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Creates a command on a connection (and transaction), with the statement timeout of the connection string.</summary>
    public static NpgsqlCommand Command(NpgsqlConnection connection, string sql, NpgsqlTransaction? transaction = null) =>
        new(sql, connection, transaction);

    /// <summary>Migrates or validates the schema once, as <see cref="FunnelPostgreSqlOptions.Migrations"/> says; later calls return at once.</summary>
    /// <exception cref="FunnelSchemaException">The schema is behind (Validate), ahead of this version, or a script changed.</exception>
    public async Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        if (_ready)
        {
            return;
        }

        await _readyGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_ready)
            {
                await PgMigrator.RunAsync(DataSource, Schema, Options.Migrations, cancellationToken).ConfigureAwait(false);
                _ready = true;
            }
        }
        finally
        {
            _readyGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsDataSource)
        {
            await DataSource.DisposeAsync().ConfigureAwait(false);
        }

        _readyGate.Dispose();
    }

    public void Dispose()
    {
        if (_ownsDataSource)
        {
            DataSource.Dispose();
        }

        _readyGate.Dispose();
    }
}

/// <summary>The app's own <see cref="NpgsqlDataSource"/>, as passed to <c>AddFunnelPostgreSql(dataSource)</c>.</summary>
/// <param name="DataSource">The data source.</param>
internal sealed record FunnelPostgreSqlDataSource(NpgsqlDataSource DataSource);
