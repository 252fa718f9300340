using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Funnel.Onboarding;

/// <summary>The in-memory <see cref="ICourseProgressStore"/>.</summary>
/// <threadsafety>All members are thread-safe; adds are atomic.</threadsafety>
public sealed class InMemoryCourseProgressStore : ICourseProgressStore
{
    private readonly ConcurrentDictionary<(LeadId, string), ImmutableHashSet<string>> progress = new();

    /// <inheritdoc/>
    public Task<(bool Added, ImmutableHashSet<string> Completed)> AddAsync(LeadId lead, string course, string moduleKey, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            ImmutableHashSet<string> before = progress.GetOrAdd((lead, course), ImmutableHashSet.Create<string>(StringComparer.Ordinal));
            if (before.Contains(moduleKey))
            {
                return Task.FromResult((false, before));
            }

            ImmutableHashSet<string> after = before.Add(moduleKey);
            if (progress.TryUpdate((lead, course), after, before))
            {
                return Task.FromResult((true, after));
            }
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableHashSet<string>> GetAsync(LeadId lead, string course, CancellationToken cancellationToken = default) =>
        Task.FromResult(progress.TryGetValue((lead, course), out var set) ? set : ImmutableHashSet.Create<string>(StringComparer.Ordinal));
}
