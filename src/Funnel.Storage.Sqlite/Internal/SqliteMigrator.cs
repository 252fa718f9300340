using Funnel.Storage;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Funnel.Storage.Sqlite.Internal;

/// <summary>Applies or checks the embedded migration scripts, recorded in <c>schema_migrations</c> with their checksums.</summary>
/// <remarks>
/// Apply runs under <c>BEGIN EXCLUSIVE</c>: of two processes starting at once, the second waits for the first and then
/// finds every script applied, so each script runs once. A script whose checksum differs from the one recorded fails
/// start-up (a shipped script must never change), and so does a database with a script this version does not know.
/// </remarks>
internal static class SqliteMigrator
{
    internal const string HistoryTable =
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)";

    public static void Run(SqliteSession session, MigrationMode mode)
    {
        switch (mode)
        {
            case MigrationMode.None:
                return;
            case MigrationMode.Validate:
                Validate(session);
                return;
            default:
                Apply(session);
                return;
        }
    }

    private static void Apply(SqliteSession session)
    {
        session.Execute("BEGIN EXCLUSIVE");
        try
        {
            session.Execute(HistoryTable);
            Dictionary<int, (string Name, string Checksum)> applied = ReadApplied(session);
            Check(applied, requireAll: false);
            foreach (MigrationScript script in MigrationScript.All)
            {
                if (applied.ContainsKey(script.Version))
                {
                    continue;
                }

                session.Execute(script.Sql);
                session.Execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($v, $n, $c, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                    ("$v", script.Version), ("$n", script.Name), ("$c", script.Checksum));
            }

            session.Execute("COMMIT");
        }
        catch
        {
            session.Execute("ROLLBACK");
            throw;
        }
    }

    private static void Validate(SqliteSession session)
    {
        bool exists = session.Scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'") is not null;
        if (!exists)
        {
            throw new FunnelSchemaException(
                "The SQLite database has no Funnel schema, and FunnelSqliteOptions.Migrations is Validate. Apply FunnelSqliteSchema.Script() or use MigrationMode.Apply.");
        }

        Check(ReadApplied(session), requireAll: true);
    }

    private static Dictionary<int, (string Name, string Checksum)> ReadApplied(SqliteSession session) =>
        session.Query(
            "SELECT version, name, checksum FROM schema_migrations",
            static r => (Version: r.GetInt32(0), Name: r.GetString(1), Checksum: r.GetString(2)))
        .ToDictionary(static m => m.Version, static m => (m.Name, m.Checksum));

    private static void Check(Dictionary<int, (string Name, string Checksum)> applied, bool requireAll)
    {
        Dictionary<int, MigrationScript> known = MigrationScript.All.ToDictionary(static s => s.Version);
        foreach ((int version, (string name, string checksum)) in applied.OrderBy(static a => a.Key))
        {
            if (!known.TryGetValue(version, out MigrationScript? script))
            {
                throw new FunnelSchemaException(
                    $"The SQLite database has Funnel migration {version} ('{name}'), which this version of Funnel.Storage.Sqlite does not know: the database was upgraded by a newer version.");
            }

            if (!string.Equals(script.Checksum, checksum, StringComparison.Ordinal))
            {
                throw new FunnelSchemaException(
                    $"Funnel migration {version} ('{name}') was applied with checksum {checksum}, but this version's script has {script.Checksum}: a shipped script changed. Restore the database or the package version it was created with.");
            }
        }

        if (requireAll)
        {
            int[] missing = [.. known.Keys.Where(v => !applied.ContainsKey(v)).Order()];
            if (missing.Length > 0)
            {
                throw new FunnelSchemaException(
                    $"The SQLite database is missing Funnel migrations {string.Join(", ", missing)}, and FunnelSqliteOptions.Migrations is Validate. Apply FunnelSqliteSchema.Script({missing[0] - 1}) or use MigrationMode.Apply.");
            }
        }
    }
}
