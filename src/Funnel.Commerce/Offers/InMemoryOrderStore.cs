using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Funnel.Offers;

/// <summary>The in-memory <see cref="IOrderStore"/>.</summary>
/// <threadsafety>All members are thread-safe; updates are compare-and-swap on the version.</threadsafety>
public sealed class InMemoryOrderStore : IOrderStore
{
    private readonly ConcurrentDictionary<OrderId, Order> _orders = new();

    /// <inheritdoc/>
    public Task<Order?> FindAsync(OrderId id, CancellationToken cancellationToken = default) =>
        Task.FromResult(_orders.TryGetValue(id, out Order? order) ? order : null);

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(order);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_orders.TryAdd(order.Id, order with { Version = 0 }));
    }

    /// <inheritdoc/>
    public Task<bool> TryUpdateAsync(Order current, Order replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_orders.TryGetValue(current.Id, out Order? stored)
            && stored.Version == current.Version
            && _orders.TryUpdate(current.Id, replacement with { Id = current.Id, Version = current.Version + 1 }, stored));
    }

    /// <summary>Returns a snapshot of every stored order (for reports and tests).</summary>
    /// <returns>The orders, in no particular order.</returns>
    public ImmutableArray<Order> All() => [.. _orders.Values];
}
