using Funnel.Storage.Sqlite.Internal;
using Funnel.TestSupport;

namespace Funnel.Storage.Sqlite.Tests;

/// <summary>A fresh SQLite database in a temporary file (not <c>:memory:</c>, so WAL and locking are real), deleted when the test process ends.</summary>
internal static class SqliteTestDatabase
{
    private static readonly string Root = CreateRoot();

    /// <summary>Returns a path for a new database file in a folder of its own.</summary>
    public static string NewPath()
    {
        string folder = Path.Combine(Root, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, "funnel.db");
    }

    /// <summary>Creates an empty, migrated database; the options may be changed before it opens.</summary>
    public static SqliteDatabase Create(Action<FunnelSqliteOptions>? configure = null) => Open(NewPath(), configure);

    /// <summary>Opens (and migrates) the database at <paramref name="path"/>.</summary>
    public static SqliteDatabase Open(string path, Action<FunnelSqliteOptions>? configure = null)
    {
        FunnelSqliteOptions options = new() { ConnectionString = $"Data Source={path}" };
        configure?.Invoke(options);
        SqliteDatabase database = new(options);
        database.EnsureReady();
        return database;
    }

    private static string CreateRoot()
    {
        string root = Path.Combine(Path.GetTempPath(), "funnel-sqlite-tests", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        LeftoverCleanup.RemoveWhenProcessEnds(root);
        return root;
    }
}
