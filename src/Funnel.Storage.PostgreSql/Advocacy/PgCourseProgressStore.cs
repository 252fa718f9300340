using System.Collections.Immutable;
using Funnel.Onboarding;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Advocacy;

/// <summary>The PostgreSQL <see cref="ICourseProgressStore"/>: table <c>course_progress</c>, one row per completed module.</summary>
/// <remarks>
/// An add is an <c>INSERT … ON CONFLICT DO NOTHING</c> and then a read of the course's modules, in one transaction at
/// read committed: a racing add of the same module waits for the first insert to commit and then does nothing, and the
/// read, a statement of its own, sees that row. So of racing adds (from any number of app instances) exactly one is
/// new, and each sees the set with it.
/// </remarks>
/// <threadsafety>All members are thread-safe; adds are atomic.</threadsafety>
internal sealed class PgCourseProgressStore(PgDatabase database) : ICourseProgressStore
{
    private readonly string _insertSql =
        $"INSERT INTO {database.Table("course_progress")} (lead_id, course, module) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

    private readonly string _modulesSql = $"SELECT module FROM {database.Table("course_progress")} WHERE lead_id = $1 AND course = $2";

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="course"/> or <paramref name="moduleKey"/> is <see langword="null"/>.</exception>
    public Task<(bool Added, ImmutableHashSet<string> Completed)> AddAsync(
        LeadId lead, string course, string moduleKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(course);
        ArgumentNullException.ThrowIfNull(moduleKey);
        return database.WriteAsync(
            async (connection, transaction) =>
            {
                bool added;
                await using (NpgsqlCommand insert = PgDatabase.Command(connection, _insertSql, transaction).With(lead.Value).With(course).With(moduleKey))
                {
                    added = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
                }

                return (added, await ModulesAsync(connection, transaction, lead, course, cancellationToken).ConfigureAwait(false));
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="course"/> is <see langword="null"/>.</exception>
    public Task<ImmutableHashSet<string>> GetAsync(LeadId lead, string course, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(course);
        return database.ReadAsync(connection => ModulesAsync(connection, null, lead, course, cancellationToken), cancellationToken);
    }

    private async Task<ImmutableHashSet<string>> ModulesAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, LeadId lead, string course, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand query = PgDatabase.Command(connection, _modulesSql, transaction).With(lead.Value).With(course);
        await using NpgsqlDataReader reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        ImmutableHashSet<string>.Builder modules = ImmutableHashSet.CreateBuilder<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            modules.Add(reader.GetString(0));
        }

        return modules.ToImmutable();
    }
}
