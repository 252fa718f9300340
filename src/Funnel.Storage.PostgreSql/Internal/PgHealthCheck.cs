using System.Globalization;
using Funnel.Storage.PostgreSql.Internal;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Internal;

/// <summary>
/// The <c>funnel-postgresql</c> health check: the database answers, its Funnel schema is at this package's version,
/// and the send queue is not falling behind.
/// </summary>
/// <remarks>
/// Unhealthy when the database cannot be reached or the schema is behind (or ahead of) the package; degraded when a
/// due send has waited longer than <see cref="QueueLagLimit"/> (no dispatcher running, or too few). The data carries
/// the schema version, the due sends, the oldest one's wait, the outbox events not yet moved to the log, the
/// outbox table's dead rows (which autovacuum should keep low) and the log rows not yet in analytics segments (which
/// funnel loads read from the log; it only grows when no segments are written).
/// </remarks>
internal sealed class PgHealthCheck(PgDatabase database, IClock clock) : IHealthCheck
{
    /// <summary>How long a due send may wait before the check reports the queue as falling behind.</summary>
    public static readonly Duration QueueLagLimit = Duration.FromMinutes(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        Dictionary<string, object> data = new(StringComparer.Ordinal) { ["schema"] = database.Schema };
        NpgsqlConnection connection;
        try
        {
            // Not OpenAsync: a health probe must never run migrations.
            connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Funnel cannot reach PostgreSQL: {ex.Message}", ex, data);
        }

        await using (connection.ConfigureAwait(false))
        {
            int version = await SchemaVersionAsync(connection, cancellationToken).ConfigureAwait(false);
            data["schemaVersion"] = version;
            data["packageVersion"] = FunnelPostgreSqlSchema.LatestVersion;
            if (version != FunnelPostgreSqlSchema.LatestVersion)
            {
                return new HealthCheckResult(
                    context.Registration.FailureStatus,
                    string.Create(CultureInfo.InvariantCulture, $"The Funnel schema '{database.Schema}' is at version {version}; this version of Funnel.Storage.PostgreSql needs {FunnelPostgreSqlSchema.LatestVersion}. Start an instance with Migrations = Apply, or run FunnelPostgreSqlSchema.Script({version})."),
                    data: data);
            }

            Instant now = clock.GetCurrentInstant();
            await using NpgsqlCommand queue = new(
                $"""
                SELECT (SELECT count(*) FROM {database.Table("outbox")} WHERE state IN (0, 1, 3) AND due_at <= $1),
                       (SELECT min(due_at) FROM {database.Table("outbox")} WHERE state IN (0, 1, 3) AND due_at <= $1),
                       (SELECT count(*) FROM {database.Table("outbox_events")}),
                       (SELECT coalesce(max(n_dead_tup), 0) FROM pg_stat_user_tables WHERE schemaname = $2 AND relname = 'outbox'),
                       (SELECT coalesce(max(position), 0) FROM {database.Table("events")}) - (SELECT position FROM {database.Table("analytics_progress")})
                """,
                connection);
            queue.With(PgValues.ToDateTime(now)).With(database.Schema);
            await using NpgsqlDataReader row = await queue.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await row.ReadAsync(cancellationToken).ConfigureAwait(false);
            long due = row.GetInt64(0);
            Instant? oldest = row.GetNullableInstant(1);
            data["sendsDue"] = due;
            data["outboxEventsWaiting"] = row.GetInt64(2);
            data["outboxDeadRows"] = row.GetInt64(3);
            data["analyticsRowsBehind"] = row.GetInt64(4);
            Duration lag = oldest is { } at ? now - at : Duration.Zero;
            data["oldestDueSeconds"] = (long)lag.TotalSeconds;
            if (lag > QueueLagLimit)
            {
                return HealthCheckResult.Degraded(
                    string.Create(CultureInfo.InvariantCulture, $"Funnel sends are falling behind: {due} due, the oldest for {(long)lag.TotalMinutes} min. Is a dispatcher running (AddFunnelHosting)?"),
                    data: data);
            }

            return HealthCheckResult.Healthy("Funnel's PostgreSQL storage is up to date and keeping up.", data);
        }
    }

    private async Task<int> SchemaVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand exists = new("SELECT to_regclass($1) IS NOT NULL", connection);
        exists.With(database.Table("schema_migrations"));
        if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
        {
            return 0;
        }

        await using NpgsqlCommand max = new($"SELECT coalesce(max(version), 0) FROM {database.Table("schema_migrations")}", connection);
        return Convert.ToInt32(await max.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }
}
