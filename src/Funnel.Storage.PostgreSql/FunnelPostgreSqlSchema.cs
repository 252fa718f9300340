using System.Globalization;
using System.Text;
using Funnel.Storage.PostgreSql.Internal;

namespace Funnel.Storage.PostgreSql;

/// <summary>The SQL of Funnel's PostgreSQL schema, for apps that apply migrations in their own pipeline.</summary>
/// <remarks>
/// With <see cref="MigrationMode.None"/> or <see cref="MigrationMode.Validate"/>, Funnel does not change the database:
/// give <see cref="Script"/> to a DBA, or run it from an EF Core migration with <c>migrationBuilder.Sql(...)</c>. The
/// script records what it applied in <c>schema_migrations</c>, so <see cref="MigrationMode.Validate"/> then passes.
/// </remarks>
public static class FunnelPostgreSqlSchema
{
    /// <summary>Gets the version of the newest migration this package carries.</summary>
    public static int LatestVersion => MigrationScript.All.Count == 0 ? 0 : MigrationScript.All[^1].Version;

    /// <summary>Returns the SQL that brings a database from <paramref name="fromVersion"/> to <see cref="LatestVersion"/>.</summary>
    /// <param name="fromVersion">The version the database has; 0 for an empty database.</param>
    /// <param name="schema">The schema that holds Funnel's tables, as in <see cref="FunnelPostgreSqlOptions.Schema"/>.</param>
    /// <returns>Plain SQL: the schema, the history table, each missing script and its history row, meant to run in one transaction.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fromVersion"/> is negative or above <see cref="LatestVersion"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="schema"/> is not a valid schema name.</exception>
    public static string Script(int fromVersion = 0, string schema = "funnel")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromVersion);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fromVersion, LatestVersion);
        FluentValidation.Results.ValidationResult check = new FunnelPostgreSqlOptionsValidator(dataSourceGiven: true).Validate(new FunnelPostgreSqlOptions { Schema = schema });
        if (!check.IsValid)
        {
            throw new ArgumentException(check.Errors[0].ErrorMessage, nameof(schema));
        }

        StringBuilder sql = new();
        sql.Append(CultureInfo.InvariantCulture, $"CREATE SCHEMA IF NOT EXISTS {schema};\nSET search_path TO {schema};\n");
        sql.Append(PgMigrator.HistoryTable).Append(";\n");
        foreach (MigrationScript script in MigrationScript.All.Where(s => s.Version > fromVersion))
        {
            sql.Append(CultureInfo.InvariantCulture, $"\n-- Funnel migration {script.Version}: {script.Name}\n");
            sql.Append(script.Sql.TrimEnd()).Append('\n');
            sql.Append(CultureInfo.InvariantCulture, $"INSERT INTO schema_migrations (version, name, checksum) VALUES ({script.Version}, '{script.Name}', '{script.Checksum}');\n");
        }

        sql.Append("RESET search_path;\n");
        return sql.ToString();
    }
}
