using System.Collections.Concurrent;
using NodaTime;

namespace Funnel.Offers;

/// <summary>The in-memory <see cref="IDeadlineStore"/>: starts are kept for the life of the process.</summary>
/// <threadsafety>All members are thread-safe; concurrent starts keep the earliest.</threadsafety>
public sealed class InMemoryDeadlineStore : IDeadlineStore
{
    private readonly ConcurrentDictionary<(string, LeadId), Instant> starts = new();

    /// <inheritdoc/>
    public Task<Instant> GetOrStartAsync(string deadlineKey, LeadId lead, Instant startedAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deadlineKey);
        return Task.FromResult(starts.AddOrUpdate((deadlineKey, lead), startedAt, (_, stored) => stored <= startedAt ? stored : startedAt));
    }

    /// <inheritdoc/>
    public Task<Instant?> FindStartAsync(string deadlineKey, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deadlineKey);
        return Task.FromResult(starts.TryGetValue((deadlineKey, lead), out Instant start) ? start : (Instant?)null);
    }
}
