using Funnel.Storage;
using System.Globalization;
using System.Text;
using Funnel.Storage.Sqlite.Internal;

namespace Funnel.Storage.Sqlite;

/// <summary>The SQL of Funnel's SQLite schema, for applying it in your own pipeline (<see cref="MigrationMode.None"/>).</summary>
public static class FunnelSqliteSchema
{
    /// <summary>Gets the version of the newest migration this package carries.</summary>
    public static int LatestVersion => MigrationScript.All.Count == 0 ? 0 : MigrationScript.All[^1].Version;

    /// <summary>Returns the SQL that upgrades a database from <paramref name="fromVersion"/> to <see cref="LatestVersion"/>.</summary>
    /// <remarks>
    /// Each migration is followed by its row in <c>schema_migrations</c>, with the checksum start-up checks, so a database
    /// upgraded with this script passes <see cref="MigrationMode.Validate"/>. Run it in one transaction.
    /// </remarks>
    /// <param name="fromVersion">The version the database is at; 0 for an empty database.</param>
    /// <returns>The SQL, empty of migrations when the database is up to date.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fromVersion"/> is negative or newer than <see cref="LatestVersion"/>.</exception>
    public static string Script(int fromVersion = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromVersion);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fromVersion, LatestVersion);
        StringBuilder sql = new();
        sql.Append(SqliteMigrator.HistoryTable).Append(";\n");
        foreach (MigrationScript script in MigrationScript.All.Where(s => s.Version > fromVersion))
        {
            sql.Append(CultureInfo.InvariantCulture, $"\n-- Funnel migration {script.Version}: {script.Name}\n");
            sql.Append(script.Sql.TrimEnd()).Append('\n');
            sql.Append(CultureInfo.InvariantCulture, $"INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ({script.Version}, '{script.Name}', '{script.Checksum}', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));\n");
        }

        return sql.ToString();
    }
}

