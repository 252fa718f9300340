using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>The in-memory <see cref="IBroadcastStore"/>: state lives only as long as the process.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
public sealed class InMemoryBroadcastStore : IBroadcastStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Broadcast> _broadcasts = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is <see langword="null"/>.</exception>
    public Task<Broadcast?> FindAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            return Task.FromResult(_broadcasts.GetValueOrDefault(key));
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="broadcast"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(Broadcast broadcast, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(broadcast);
        lock (_gate)
        {
            return Task.FromResult(_broadcasts.TryAdd(broadcast.Key, broadcast with { Version = 0 }));
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another key.</exception>
    public Task<bool> TryUpdateAsync(Broadcast current, Broadcast replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        if (!string.Equals(current.Key, replacement.Key, StringComparison.Ordinal))
        {
            throw new ArgumentException("The replacement must have the key of the current broadcast.", nameof(replacement));
        }

        lock (_gate)
        {
            if (!_broadcasts.TryGetValue(current.Key, out Broadcast? stored) || stored.Version != current.Version)
            {
                return Task.FromResult(false);
            }

            _broadcasts[current.Key] = replacement with { Version = current.Version + 1 };
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<Broadcast>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        lock (_gate)
        {
            return Task.FromResult<ImmutableArray<Broadcast>>([.. _broadcasts.Values
                .Where(b => b.Status is BroadcastStatus.Scheduled or BroadcastStatus.Queuing && b.DueAt <= now)
                .OrderBy(static b => b.DueAt)
                .ThenBy(static b => b.Key, StringComparer.Ordinal)
                .Take(max)]);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<Broadcast>> ListAsync(int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        lock (_gate)
        {
            return Task.FromResult<ImmutableArray<Broadcast>>([.. _broadcasts.Values
                .OrderByDescending(static b => b.DueAt)
                .ThenBy(static b => b.Key, StringComparer.Ordinal)
                .Take(max)]);
        }
    }
}
