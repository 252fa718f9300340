namespace Funnel.Pipeline;

/// <summary>Keeps parked events in memory.</summary>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class InMemoryParkedEventStore : IParkedEventStore
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<(long Position, string Handler), ParkedEvent> _parked = [];

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(ParkedEvent parked, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parked);
        lock (_gate)
        {
            return Task.FromResult(_parked.TryAdd((parked.Position, parked.Handler), parked with { Version = 0 }));
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ParkedEvent>> ListAsync(int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<ParkedEvent>>([.. _parked.Values.Take(max)]);
        }
    }

    /// <inheritdoc/>
    public Task<bool> TryRemoveAsync(ParkedEvent parked, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parked);
        lock (_gate)
        {
            (long, string) key = (parked.Position, parked.Handler);
            return Task.FromResult(_parked.TryGetValue(key, out ParkedEvent? stored) && stored.Version == parked.Version && _parked.Remove(key));
        }
    }
}
