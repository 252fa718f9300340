using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Subscriptions;

/// <summary>An in-memory <see cref="ISubscriptionStore"/> for tests and samples; its subscriptions are lost when the process ends.</summary>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class InMemorySubscriptionStore : ISubscriptionStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<SubscriptionId, Subscription> _subscriptions = [];

    /// <inheritdoc/>
    public Task<Subscription?> FindAsync(SubscriptionId id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_subscriptions.GetValueOrDefault(id));
        }
    }

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(Subscription subscription, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_subscriptions.TryAdd(subscription.Id, subscription with { Version = 0 }));
        }
    }

    /// <inheritdoc/>
    public Task<bool> TryUpdateAsync(Subscription current, Subscription replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_subscriptions.TryGetValue(current.Id, out Subscription? stored) || stored.Version != current.Version)
            {
                return Task.FromResult(false);
            }

            _subscriptions[current.Id] = replacement with { Id = current.Id, Version = current.Version + 1 };
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<Subscription>> ListByLeadAsync(LeadId lead, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult<ImmutableArray<Subscription>>([.. _subscriptions.Values
                .Where(s => s.Lead == lead)
                .OrderBy(static s => s.StartedAt)
                .ThenBy(static s => s.Id.Value)]);
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<Subscription>> FindDueAsync(Instant now, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult<ImmutableArray<Subscription>>([.. _subscriptions.Values
                .Where(s => s.DueAt <= now)
                .OrderBy(static s => s.DueAt)
                .ThenBy(static s => s.Id.Value)
                .Take(max)]);
        }
    }
}
