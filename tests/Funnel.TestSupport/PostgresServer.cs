using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Funnel.TestSupport;

/// <summary>A real, throw-away PostgreSQL cluster for tests: <c>initdb</c> and <c>pg_ctl</c> on a free 127.0.0.1 port, deleted on dispose.</summary>
/// <remarks>
/// <para>
/// The server binaries are found with <c>pg_config --bindir</c>, else in <c>/usr/lib/postgresql/N/bin</c> (Debian's
/// <c>postgresql</c> package, which <c>.ci/run</c> installs when missing). When none is found, <see cref="StartAsync"/>
/// throws: tests that need PostgreSQL fail, they are never skipped. When the test runs as root, the cluster runs as the
/// <c>postgres</c> user (PostgreSQL refuses to run as root). Authentication is <c>trust</c> for the user <c>postgres</c>.
/// </para>
/// <para>
/// <see cref="SharedAsync"/> gives one cluster per test process, stopped when the process exits, with <c>fsync</c> off
/// for speed and <c>synchronous_commit</c> on (so an immediate stop still loses nothing committed; only an OS crash would). Benchmarks start their own
/// with <c>durable: true</c>. Each test class should work in a database of its own: <see cref="CreateDatabaseAsync"/>.
/// The environment variable <c>FUNNEL_PG_OPTIONS</c> adds server settings to every cluster started (for profiling, e.g.
/// <c>-c shared_preload_libraries=pg_stat_statements</c>).
/// </para>
/// <para>
/// A test's databases take disk (about 10 MB each, copied from the template): drop each with
/// <see cref="DropDatabaseAsync"/> when the test is done with it. The cluster's folder is deleted on dispose and, however
/// the test process ends (a test host killed after the run, SIGKILL), by a watcher process started with the cluster
/// (<see cref="LeftoverCleanup"/>), so no cluster outlives its process.
/// </para>
/// </remarks>
public sealed class PostgresServer : IAsyncDisposable
{
    private static readonly SemaphoreSlim SharedGate = new(1, 1);
    private static PostgresServer? shared;

    private readonly string binDirectory;
    private readonly string root;
    private readonly bool asPostgresUser;
    private readonly string options;
    private int disposed;

    private PostgresServer(string binDirectory, string root, int port, bool asPostgresUser, string options)
    {
        this.binDirectory = binDirectory;
        this.root = root;
        this.asPostgresUser = asPostgresUser;
        this.options = options;
        Port = port;
    }

    /// <summary>Gets the host to connect to: always <c>127.0.0.1</c>.</summary>
    public string Host { get; } = "127.0.0.1";

    /// <summary>Gets the TCP port.</summary>
    public int Port { get; }

    /// <summary>Gets the cluster's data directory.</summary>
    public string DataDirectory => Path.Combine(root, "data");

    /// <summary>Gets the folder of the server binaries (<c>psql</c>, <c>pg_ctl</c>, …).</summary>
    public string BinDirectory => binDirectory;

    /// <summary>Returns the shared cluster of this test process, starting it on first use.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running cluster; do not dispose it.</returns>
    public static async Task<PostgresServer> SharedAsync(CancellationToken cancellationToken = default)
    {
        await SharedGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (shared is null)
            {
                PostgresServer server = await StartAsync(durable: false, cancellationToken).ConfigureAwait(false);
                AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
                shared = server;
            }

            return shared;
        }
        finally
        {
            SharedGate.Release();
        }
    }

    /// <summary>Creates and starts a new cluster.</summary>
    /// <param name="durable">
    /// <see langword="true"/> for <c>fsync</c>, <c>synchronous_commit</c> and <c>full_page_writes</c> on, as in production
    /// (benchmarks); <see langword="false"/> turns them off for speed.
    /// </param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running cluster.</returns>
    /// <exception cref="InvalidOperationException">The server binaries are missing, or the cluster did not start; the message says why.</exception>
    public static async Task<PostgresServer> StartAsync(bool durable = false, CancellationToken cancellationToken = default)
    {
        string bin = FindBinDirectory();
        string root = Path.Combine(Path.GetTempPath(), "funnel-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        bool asPostgres = Environment.UserName == "root";
        string data = Path.Combine(root, "data");
        string pgCtl = Path.Combine(bin, "pg_ctl");
        LeftoverCleanup.RemoveWhenProcessEnds(root, stopFirst: asPostgres ? ["runuser", "-u", "postgres", "--", pgCtl, "-D", data, "-m", "immediate", "-w", "stop"] : [pgCtl, "-D", data, "-m", "immediate", "-w", "stop"]);
        if (asPostgres)
        {
            await RunAsync("chown", ["postgres:postgres", root], asPostgresUser: false, cancellationToken).ConfigureAwait(false);
        }

        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], asPostgres, cancellationToken).ConfigureAwait(false);
        string safety = durable ? "on" : "off";
        string settings = string.Join(' ',
            "-c listen_addresses=127.0.0.1", $"-k {root}", "-c max_connections=400", "-c shared_buffers=128MB",
            // synchronous_commit stays on in both: a commit's WAL is written to the OS before it is answered, so an
            // immediate stop (a crash of the server's processes) loses nothing committed. Only fsync (and the full-page
            // images that protect against torn pages on power loss) are off for speed: they matter for an OS crash.
            $"-c fsync={safety}", "-c synchronous_commit=on", $"-c full_page_writes={safety}",
            // Every CREATE DATABASE … TEMPLATE writes the template's pages to the WAL; a test cluster need not keep the
            // default 1 GB of it between checkpoints. Benchmarks keep the production defaults.
            durable ? string.Empty : "-c max_wal_size=128MB -c min_wal_size=32MB",
            // Extra server settings for a profiling run, e.g. "-c shared_preload_libraries=pg_stat_statements".
            Environment.GetEnvironmentVariable("FUNNEL_PG_OPTIONS") ?? string.Empty);
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort();
            string options = $"-p {port} {settings}";
            PostgresServer server = new(bin, root, port, asPostgres, options);
            try
            {
                await server.StartAgainAsync(cancellationToken).ConfigureAwait(false);
                return server;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // Another process took the port between FreePort and the start: try another.
            }
        }
    }

    /// <summary>Returns a connection string for a database of this cluster.</summary>
    /// <param name="database">The database name.</param>
    public string ConnectionString(string database = "postgres") =>
        $"Host={Host};Port={Port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=50;Timeout=30;Command Timeout=120";

    /// <summary>Creates an empty database (optionally from a template database) and returns its connection string.</summary>
    /// <param name="template">A database to copy, such as one that holds a migrated schema; <see langword="null"/> for an empty one.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The new database's connection string.</returns>
    public async Task<string> CreateDatabaseAsync(string? template = null, CancellationToken cancellationToken = default)
    {
        string name = "t_" + Guid.NewGuid().ToString("N");
        string sql = template is null ? $"CREATE DATABASE {name}" : $"CREATE DATABASE {name} TEMPLATE {template}";
        await PsqlAsync(sql, cancellationToken: cancellationToken).ConfigureAwait(false);
        return ConnectionString(name);
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing any connection still open to it.</summary>
    /// <param name="connectionString">The connection string <see cref="CreateDatabaseAsync"/> returned (or one naming the same database).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="ArgumentException">The connection string names no database, or one this class did not make.</exception>
    public Task DropDatabaseAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        string? name = connectionString.Split(';')
            .Select(static part => part.Split('=', 2))
            .Where(static pair => pair.Length == 2 && pair[0].Trim().Equals("Database", StringComparison.OrdinalIgnoreCase))
            .Select(static pair => pair[1].Trim())
            .LastOrDefault();
        if (name is null || !name.StartsWith("t_", StringComparison.Ordinal) || !name.Skip(2).All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException($"'{connectionString}' names no database made by CreateDatabaseAsync.", nameof(connectionString));
        }

        return PsqlAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", cancellationToken: cancellationToken);
    }

    /// <summary>Runs SQL with <c>psql</c> in the <c>postgres</c> database (or <paramref name="database"/>) and returns its unaligned output.</summary>
    /// <param name="sql">The SQL.</param>
    /// <param name="database">The database.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>What psql printed, tuples only.</returns>
    public Task<string> PsqlAsync(string sql, string database = "postgres", CancellationToken cancellationToken = default) =>
        RunAsync(Path.Combine(binDirectory, "psql"), ["-h", Host, "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql], asPostgresUser: false, cancellationToken);

    /// <summary>Stops the server at once, as a crash would (<c>pg_ctl stop -m immediate</c>): committed work survives, connections break.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public Task StopImmediateAsync(CancellationToken cancellationToken = default) =>
        RunAsync(Path.Combine(binDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"], asPostgresUser, cancellationToken);

    /// <summary>Starts the server again on the same port and data (after <see cref="StopImmediateAsync"/>), waiting until it accepts connections.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="InvalidOperationException">The server did not start; the message holds its log.</exception>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        string log = Path.Combine(root, "server.log");
        try
        {
            await RunAsync(Path.Combine(binDirectory, "pg_ctl"), ["-D", DataDirectory, "-l", log, "-o", options, "-w", "-t", "60", "start"], asPostgresUser, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            string tail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(20)) : "(no log)";
            throw new InvalidOperationException($"{ex.Message}\nServer log:\n{tail}", ex);
        }
    }

    /// <summary>Stops the server and deletes its files.</summary>
    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }

    private void Stop()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        try
        {
            using Process? stop = Process.Start(Start(Path.Combine(binDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"], asPostgresUser));
            stop?.WaitForExit(30_000);
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS's temp cleanup.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }

    private static string FindBinDirectory()
    {
        List<string> candidates = [];
        try
        {
            using Process? config = Process.Start(new ProcessStartInfo("pg_config", "--bindir") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (config is not null)
            {
                string output = config.StandardOutput.ReadToEnd().Trim();
                config.WaitForExit();
                if (config.ExitCode == 0 && output.Length > 0)
                {
                    candidates.Add(output);
                }
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No pg_config on the PATH.
        }

        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(static d => int.TryParse(Path.GetFileName(d), out int v) ? v : 0)
                .Select(static d => Path.Combine(d, "bin")));
        }

        return candidates.FirstOrDefault(static d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
            ?? throw new InvalidOperationException(
                "PostgreSQL server binaries (initdb, pg_ctl) were not found via 'pg_config --bindir' or in /usr/lib/postgresql/*/bin. " +
                "Install Debian's postgresql package (apt-get install -y postgresql); .ci/run installs it when missing.");
    }

    private static int FreePort()
    {
        using TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static ProcessStartInfo Start(string file, string[] args, bool asPostgresUser)
    {
        ProcessStartInfo start = asPostgresUser ? new("runuser") : new(file);
        if (asPostgresUser)
        {
            foreach (string arg in new[] { "-u", "postgres", "--", file })
            {
                start.ArgumentList.Add(arg);
            }
        }

        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.WorkingDirectory = Path.GetTempPath();
        return start;
    }

    private static async Task<string> RunAsync(string file, string[] args, bool asPostgresUser, CancellationToken cancellationToken)
    {
        using Process process = Process.Start(Start(file, args, asPostgresUser))
            ?? throw new InvalidOperationException($"Could not start {file}.");
        Task<string> output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{Path.GetFileName(file)} {string.Join(' ', args)}' exited with {process.ExitCode}: {(await error.ConfigureAwait(false)).Trim()} {(await output.ConfigureAwait(false)).Trim()}");
        }

        return (await output.ConfigureAwait(false)).Trim();
    }
}
