using Funnel.Storage;
using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Funnel.Storage.Sqlite.Internal;

/// <summary>One Funnel database file: its schema, its one writer and a pool of reader connections.</summary>
/// <remarks>
/// Every store of <c>AddFunnelSqlite</c> shares this singleton. The schema is migrated (or validated) once, before the
/// first read or write, and at start-up by the hosted service. Connections use WAL, so readers never wait for the writer.
/// </remarks>
internal sealed class SqliteDatabase : IDisposable
{
    private readonly ConcurrentBag<SqliteSession> _readers = [];
    private readonly SqliteWriter _writer;
    private readonly Lock _readyGate = new();
    private volatile bool _ready;
    private bool _disposed;

    public SqliteDatabase(IOptions<FunnelSqliteOptions> options)
        : this(options.Value)
    {
    }

    public SqliteDatabase(FunnelSqliteOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        SqliteConnectionStringBuilder builder = new(options.ConnectionString)
        {
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
        };
        ConnectionString = builder.ToString();
        FilePath = Path.GetFullPath(builder.DataSource);
        _writer = new SqliteWriter(Open, options.MaxWritesPerCommit);
    }

    public FunnelSqliteOptions Options { get; }

    /// <summary>Gets the connection string as opened (pooling off: this class keeps its own connections).</summary>
    public string ConnectionString { get; }

    /// <summary>Gets the full path of the database file.</summary>
    public string FilePath { get; }

    /// <summary>Runs <paramref name="work"/> in a write transaction shared with other writes, and completes when it is committed.</summary>
    /// <remarks>The work runs on the writer's thread, synchronously, and must not wait for another read or write.</remarks>
    public Task<T> WriteAsync<T>(Func<SqliteSession, T> work, CancellationToken cancellationToken)
    {
        EnsureReady();
        return _writer.WriteAsync(work, cancellationToken);
    }

    /// <summary>Runs <paramref name="work"/> on a reader connection (each statement sees the last committed state).</summary>
    public Task<T> ReadAsync<T>(Func<SqliteSession, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Read(work));
    }

    /// <summary>Runs <paramref name="work"/> on a reader connection, synchronously.</summary>
    public T Read<T>(Func<SqliteSession, T> work)
    {
        EnsureReady();
        SqliteSession session = _readers.TryTake(out SqliteSession? pooled) ? pooled : Open();
        bool healthy = false;
        try
        {
            T result = work(session);
            healthy = true;
            return result;
        }
        finally
        {
            if (healthy && !_disposed && _readers.Count < 64)
            {
                _readers.Add(session);
            }
            else
            {
                session.Dispose();
            }
        }
    }

    /// <summary>Migrates or validates the schema once, as <see cref="FunnelSqliteOptions.Migrations"/> says; later calls return at once.</summary>
    /// <exception cref="FunnelSchemaException">The schema is behind (Validate), ahead of this version, or a script changed.</exception>
    public void EnsureReady()
    {
        if (_ready)
        {
            return;
        }

        lock (_readyGate)
        {
            if (_ready)
            {
                return;
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            string? folder = Path.GetDirectoryName(FilePath);
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }

            using (SqliteSession session = Open())
            {
                SqliteMigrator.Run(session, Options.Migrations);
            }

            _ready = true;
        }
    }

    /// <summary>Opens a connection with the pragmas every Funnel connection uses.</summary>
    internal SqliteSession Open()
    {
        SqliteConnection connection = new(ConnectionString);
        connection.Open();
        SqliteSession session = new(connection);
        try
        {
            string synchronous = Options.Synchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL";
            long busy = (long)Options.BusyTimeout.TotalMilliseconds;
            session.Execute($"PRAGMA busy_timeout = {busy}; PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON");
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _writer.Dispose();
        while (_readers.TryTake(out SqliteSession? session))
        {
            session.Dispose();
        }
    }
}
