using System.Collections.Concurrent;

namespace Funnel.Pipeline;

/// <summary>Keeps handler subscriptions in memory.</summary>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class InMemoryEventSubscriptionStore : IEventSubscriptionStore
{
    private readonly ConcurrentDictionary<string, EventSubscription> _subscriptions = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public Task<EventSubscription?> FindAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Task.FromResult(_subscriptions.GetValueOrDefault(name));
    }

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(EventSubscription subscription, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        return Task.FromResult(_subscriptions.TryAdd(subscription.Name, subscription with { Version = 0 }));
    }

    /// <inheritdoc/>
    public Task<bool> TryUpdateAsync(EventSubscription current, EventSubscription replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        if (!string.Equals(current.Name, replacement.Name, StringComparison.Ordinal))
        {
            throw new ArgumentException("A subscription cannot be renamed.", nameof(replacement));
        }

        if (!_subscriptions.TryGetValue(current.Name, out EventSubscription? stored) || stored.Version != current.Version)
        {
            return Task.FromResult(false);
        }

        return Task.FromResult(_subscriptions.TryUpdate(current.Name, replacement with { Version = current.Version + 1 }, stored));
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<EventSubscription>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<EventSubscription>>([.. _subscriptions.Values.OrderBy(s => s.Name, StringComparer.Ordinal)]);
}
