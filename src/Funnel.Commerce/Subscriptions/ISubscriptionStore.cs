using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Subscriptions;

/// <summary>Stores <see cref="Subscription"/>s.</summary>
/// <remarks>
/// The store follows Funnel's store convention: <see cref="TryAddAsync"/> is insert-if-absent on the id;
/// <see cref="TryUpdateAsync"/> replaces a subscription only when its stored <see cref="Subscription.Version"/> is still
/// the one read. Every change (a renewal, a failed attempt, a cancel, a pause, a plan change) is one compare-and-set, so
/// two app instances never apply one renewal twice. Durable implementations index <see cref="Subscription.Lead"/> and
/// <see cref="Subscription.DueAt"/>, and may keep instants to the microsecond.
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads and processes at once.</threadsafety>
public interface ISubscriptionStore
{
    /// <summary>Finds a subscription.</summary>
    /// <param name="id">The subscription id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The subscription as stored, or <see langword="null"/> when there is none.</returns>
    Task<Subscription?> FindAsync(SubscriptionId id, CancellationToken cancellationToken = default);

    /// <summary>Stores a subscription unless one with the same id exists (insert-if-absent).</summary>
    /// <param name="subscription">The subscription; it is stored with version 0.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="false"/> when the id is taken.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="subscription"/> is <see langword="null"/>.</exception>
    Task<bool> TryAddAsync(Subscription subscription, CancellationToken cancellationToken = default);

    /// <summary>Replaces <paramref name="current"/> with <paramref name="replacement"/> if the stored version is still <paramref name="current"/>'s (replace-if-version).</summary>
    /// <param name="current">The subscription as read.</param>
    /// <param name="replacement">Its new state; it is stored under <paramref name="current"/>'s id with its version plus one.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when it changed first.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="current"/> or <paramref name="replacement"/> is <see langword="null"/>.</exception>
    Task<bool> TryUpdateAsync(Subscription current, Subscription replacement, CancellationToken cancellationToken = default);

    /// <summary>Lists a lead's subscriptions, ended ones included, oldest first.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The subscriptions as stored, by <see cref="Subscription.StartedAt"/> then id.</returns>
    Task<ImmutableArray<Subscription>> ListByLeadAsync(LeadId lead, CancellationToken cancellationToken = default);

    /// <summary>Lists up to <paramref name="max"/> subscriptions whose <see cref="Subscription.DueAt"/> is at or before <paramref name="now"/>, earliest first.</summary>
    /// <param name="now">The current instant.</param>
    /// <param name="max">The most subscriptions to return.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The subscriptions as stored, by <see cref="Subscription.DueAt"/> then id.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    Task<ImmutableArray<Subscription>> FindDueAsync(Instant now, int max, CancellationToken cancellationToken = default);
}
