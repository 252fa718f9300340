namespace Funnel.Offers;

/// <summary>Stores orders with optimistic concurrency; replace the in-memory default with durable storage.</summary>
/// <remarks>
/// The store follows Funnel's store convention: <see cref="TryAddAsync"/> inserts an order only when its id is absent,
/// and <see cref="TryUpdateAsync"/> replaces it only when the stored <see cref="Order.Version"/> is still the one read,
/// storing the replacement with the next version. <see cref="OrderService"/> re-reads and retries a lost update.
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IOrderStore
{
    /// <summary>Returns the current snapshot of an order.</summary>
    /// <param name="id">The order id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The order, or <see langword="null"/> when unknown.</returns>
    Task<Order?> FindAsync(OrderId id, CancellationToken cancellationToken = default);

    /// <summary>Adds an order unless one with its id exists (insert-if-absent).</summary>
    /// <param name="order">The new order; it is stored with version 0.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added; <see langword="false"/> when the id is taken.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="order"/> is <see langword="null"/>.</exception>
    Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken = default);

    /// <summary>Replaces <paramref name="current"/> with <paramref name="replacement"/> if the stored version is still <paramref name="current"/>'s (replace-if-version).</summary>
    /// <param name="current">The order as read.</param>
    /// <param name="replacement">The new snapshot of the same order; it is stored with <paramref name="current"/>'s version plus one.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when another change got there first (the caller re-reads and retries).</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    Task<bool> TryUpdateAsync(Order current, Order replacement, CancellationToken cancellationToken = default);
}
