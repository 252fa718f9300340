namespace Funnel.Pipeline;

/// <summary>Stores each handler's <see cref="EventSubscription"/>: its durable position in the event log.</summary>
/// <remarks>
/// Follows the store convention: insert-if-absent and replace-if-version. Two pipeline instances on one store never
/// both move a subscription forward from the same version, so a position is never lost or moved back.
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IEventSubscriptionStore
{
    /// <summary>Finds a handler's subscription.</summary>
    /// <param name="name">The handler name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The subscription, or <see langword="null"/> when the handler has none yet.</returns>
    Task<EventSubscription?> FindAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Stores a new subscription unless one with its name exists.</summary>
    /// <param name="subscription">The subscription.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when the name was taken.</returns>
    Task<bool> TryAddAsync(EventSubscription subscription, CancellationToken cancellationToken = default);

    /// <summary>Replaces a subscription if it still has the version read.</summary>
    /// <param name="current">The subscription as read.</param>
    /// <param name="replacement">The new state; it is stored with version <c>current.Version + 1</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when replaced; <see langword="false"/> when another writer changed it first.</returns>
    Task<bool> TryUpdateAsync(EventSubscription current, EventSubscription replacement, CancellationToken cancellationToken = default);

    /// <summary>Lists every stored subscription, ordered by name.</summary>
    /// <remarks>The pipeline reads it to see which instances hold partitions, and to report each handler's progress.</remarks>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The subscriptions.</returns>
    Task<IReadOnlyList<EventSubscription>> ListAsync(CancellationToken cancellationToken = default);
}
