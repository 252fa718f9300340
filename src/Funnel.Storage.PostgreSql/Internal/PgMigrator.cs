using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Internal;

/// <summary>Creates, upgrades or checks the Funnel schema from the embedded scripts.</summary>
/// <remarks>
/// <para>
/// Scripts are <c>Migrations/NNNN_name.sql</c>, written without a schema: they run with <c>search_path</c> set to the
/// Funnel schema (functions they create must say <c>SET search_path FROM CURRENT</c>). Each applied script is recorded in
/// <c>schema_migrations</c> with the SHA-256 of its text.
/// </para>
/// <para>
/// Apply holds a session advisory lock keyed by the schema name for the whole run, so instances starting together
/// wait for each other and each script is applied once; each script and its record commit in one transaction.
/// </para>
/// </remarks>
internal static class PgMigrator
{
    internal const string HistoryTable =
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())";

    public static async Task RunAsync(NpgsqlDataSource dataSource, string schema, MigrationMode mode, CancellationToken cancellationToken)
    {
        if (mode == MigrationMode.None)
        {
            return;
        }

        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (mode == MigrationMode.Validate)
        {
            await ValidateAsync(connection, schema, cancellationToken).ConfigureAwait(false);
            return;
        }

        await ApplyAsync(connection, schema, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The advisory lock key of a schema's migrations.</summary>
    internal static string LockKey(string schema) => "funnel.migrations:" + schema;

    private static async Task ApplyAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, null, "SELECT pg_advisory_lock(hashtextextended($1, 0))", cancellationToken, LockKey(schema)).ConfigureAwait(false);
        try
        {
            await using (NpgsqlTransaction setup = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
            {
                await ExecuteAsync(connection, setup, $"CREATE SCHEMA IF NOT EXISTS {schema}", cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, setup, $"SET LOCAL search_path TO {schema}", cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, setup, HistoryTable, cancellationToken).ConfigureAwait(false);
                await setup.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            Dictionary<int, (string Name, string Checksum)> applied = await ReadAppliedAsync(connection, schema, cancellationToken).ConfigureAwait(false);
            Check(applied, requireAll: false);
            foreach (MigrationScript script in MigrationScript.All)
            {
                if (applied.ContainsKey(script.Version))
                {
                    continue;
                }

                await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, transaction, $"SET LOCAL search_path TO {schema}", cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, transaction, script.Sql, cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(
                    connection, transaction, $"INSERT INTO {schema}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", cancellationToken,
                    script.Version, script.Name, script.Checksum).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // A broken connection has lost the lock with its session already.
            if (connection.FullState == System.Data.ConnectionState.Open)
            {
                await ExecuteAsync(connection, null, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", CancellationToken.None, LockKey(schema)).ConfigureAwait(false);
            }
        }
    }

    private static async Task ValidateAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand exists = new("SELECT to_regclass($1) IS NOT NULL", connection);
        exists.Parameters.Add(new NpgsqlParameter { Value = schema + ".schema_migrations" });
        if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
        {
            throw new FunnelSchemaException(
                $"The PostgreSQL database has no Funnel schema '{schema}', and FunnelPostgreSqlOptions.Migrations is Validate. Apply FunnelPostgreSqlSchema.Script() or use MigrationMode.Apply.");
        }

        Check(await ReadAppliedAsync(connection, schema, cancellationToken).ConfigureAwait(false), requireAll: true);
    }

    private static async Task<Dictionary<int, (string Name, string Checksum)>> ReadAppliedAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        Dictionary<int, (string Name, string Checksum)> applied = [];
        await using NpgsqlCommand command = new($"SELECT version, name, checksum FROM {schema}.schema_migrations", connection);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            applied[reader.GetInt32(0)] = (reader.GetString(1), reader.GetString(2));
        }

        return applied;
    }

    private static void Check(Dictionary<int, (string Name, string Checksum)> applied, bool requireAll)
    {
        Dictionary<int, MigrationScript> known = MigrationScript.All.ToDictionary(static s => s.Version);
        foreach ((int version, (string name, string checksum)) in applied.OrderBy(static a => a.Key))
        {
            if (!known.TryGetValue(version, out MigrationScript? script))
            {
                throw new FunnelSchemaException(
                    $"The PostgreSQL database has Funnel migration {version} ('{name}'), which this version of Funnel.Storage.PostgreSql does not know: the database was upgraded by a newer version.");
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
                    $"The PostgreSQL database is missing Funnel migrations {string.Join(", ", missing)}, and FunnelPostgreSqlOptions.Migrations is Validate. Apply FunnelPostgreSqlSchema.Script({missing[0] - 1}) or use MigrationMode.Apply.");
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params object[] args)
    {
        await using NpgsqlCommand command = new(sql, connection, transaction);
        foreach (object arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
