using System.Collections.Immutable;
using Funnel.Onboarding;
using Funnel.Storage.Sqlite.Internal;

namespace Funnel.Storage.Sqlite.Advocacy;

/// <summary>The SQLite <see cref="ICourseProgressStore"/>: table <c>course_progress</c>, one row per completed module.</summary>
/// <remarks>An add is an insert-if-absent and a read of the course's modules in one write, so of racing adds of a module exactly one is new, and each sees the set with it.</remarks>
/// <threadsafety>All members are thread-safe; adds are atomic.</threadsafety>
internal sealed class SqliteCourseProgressStore(SqliteDatabase database) : ICourseProgressStore
{
    private const string ModulesSql = "SELECT module FROM course_progress WHERE lead_id = $lead AND course = $course";

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="course"/> or <paramref name="moduleKey"/> is <see langword="null"/>.</exception>
    public Task<(bool Added, ImmutableHashSet<string> Completed)> AddAsync(
        LeadId lead, string course, string moduleKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(course);
        ArgumentNullException.ThrowIfNull(moduleKey);
        return database.WriteAsync(
            session =>
            {
                bool added = session.Execute(
                    "INSERT INTO course_progress (lead_id, course, module) VALUES ($lead, $course, $module) ON CONFLICT DO NOTHING",
                    ("$lead", lead.Value),
                    ("$course", course),
                    ("$module", moduleKey)) == 1;
                return (added, Modules(session, lead, course));
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="course"/> is <see langword="null"/>.</exception>
    public Task<ImmutableHashSet<string>> GetAsync(LeadId lead, string course, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(course);
        return database.ReadAsync(session => Modules(session, lead, course), cancellationToken);
    }

    private static ImmutableHashSet<string> Modules(SqliteSession session, LeadId lead, string course) =>
        session.Query(ModulesSql, static r => r.GetString(0), ("$lead", lead.Value), ("$course", course))
            .ToImmutableHashSet(StringComparer.Ordinal);
}
