namespace Funnel.Pipeline;

/// <summary>Stores the <see cref="ParkedEvent"/>s of every handler until they are retried.</summary>
/// <remarks>Keyed by handler and event position; insert-if-absent, and removal only of the version read.</remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IParkedEventStore
{
    /// <summary>Parks an event for a handler unless it is parked already.</summary>
    /// <param name="parked">The parked event.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when that handler already has that event parked.</returns>
    Task<bool> TryAddAsync(ParkedEvent parked, CancellationToken cancellationToken = default);

    /// <summary>Lists parked events, oldest position first.</summary>
    /// <param name="max">The most events to return.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Up to <paramref name="max"/> parked events.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    Task<IReadOnlyList<ParkedEvent>> ListAsync(int max, CancellationToken cancellationToken = default);

    /// <summary>Removes a parked event if it still has the version read.</summary>
    /// <param name="parked">The parked event as read.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when removed; <see langword="false"/> when it was changed or removed by someone else.</returns>
    Task<bool> TryRemoveAsync(ParkedEvent parked, CancellationToken cancellationToken = default);
}
