using System.Collections.Immutable;

namespace Funnel.Onboarding;

/// <summary>Stores which modules each lead completed; replace the in-memory default with durable storage.</summary>
public interface ICourseProgressStore
{
    /// <summary>Adds a completed module atomically and returns the lead's completed modules of the course afterwards.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="course">The course key.</param>
    /// <param name="moduleKey">The module key.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Whether the module was new, and the completed modules after the call.</returns>
    Task<(bool Added, ImmutableHashSet<string> Completed)> AddAsync(LeadId lead, string course, string moduleKey, CancellationToken cancellationToken = default);

    /// <summary>Returns the lead's completed modules of a course.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="course">The course key.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The completed module keys; empty when none.</returns>
    Task<ImmutableHashSet<string>> GetAsync(LeadId lead, string course, CancellationToken cancellationToken = default);
}
