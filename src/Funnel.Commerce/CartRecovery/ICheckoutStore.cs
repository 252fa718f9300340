using System.Collections.Immutable;
using NodaTime;

namespace Funnel.CartRecovery;

/// <summary>Stores the latest checkout of each lead and offer until it ends in an order or is declared abandoned.</summary>
/// <remarks>
/// <para>
/// The store follows Funnel's store convention: <see cref="TryAddAsync"/> is insert-if-absent on the lead and offer;
/// <see cref="TryUpdateAsync"/> replaces a record only when its stored <see cref="TrackedCheckout.Version"/> is still the
/// one read. Durable implementations (Funnel.Storage.Sqlite, Funnel.Storage.PostgreSql) may keep instants to the
/// microsecond.
/// </para>
/// <para>
/// <see cref="ClaimDueAsync"/> is what makes the abandonment emitted once with several app instances on one database:
/// a claim selects open checkouts that are due and stores the claim (owner, end, next version) atomically, so two
/// claimers never hold one checkout at once, and the bumped version fences the holder of an expired claim.
/// </para>
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads and processes at once.</threadsafety>
public interface ICheckoutStore
{
    /// <summary>Finds the checkout of a lead for an offer.</summary>
    /// <param name="lead">The buyer.</param>
    /// <param name="offer">The offer.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The checkout as stored, or <see langword="null"/> when there is none.</returns>
    Task<TrackedCheckout?> FindAsync(LeadId lead, OfferId offer, CancellationToken cancellationToken = default);

    /// <summary>Stores a checkout unless one for the same lead and offer exists (insert-if-absent).</summary>
    /// <param name="checkout">The checkout; it is stored with version 0.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="false"/> when the lead already has a checkout for the offer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="checkout"/> is <see langword="null"/>.</exception>
    Task<bool> TryAddAsync(TrackedCheckout checkout, CancellationToken cancellationToken = default);

    /// <summary>Replaces <paramref name="current"/> with <paramref name="replacement"/> if the stored version is still <paramref name="current"/>'s (replace-if-version).</summary>
    /// <param name="current">The checkout as read or claimed.</param>
    /// <param name="replacement">Its new state; it is stored under <paramref name="current"/>'s lead and offer with its version plus one.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when it changed first.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="current"/> or <paramref name="replacement"/> is <see langword="null"/>.</exception>
    Task<bool> TryUpdateAsync(TrackedCheckout current, TrackedCheckout replacement, CancellationToken cancellationToken = default);

    /// <summary>Claims up to <paramref name="max"/> open checkouts that are due, earliest due first, with a lease.</summary>
    /// <remarks>
    /// Claimable are <see cref="CheckoutStatus.Open"/> checkouts with <see cref="TrackedCheckout.DueAt"/> at or before
    /// <paramref name="now"/> whose earlier claim, if any, ended by <paramref name="now"/>. Each is stored with
    /// <see cref="TrackedCheckout.ClaimedBy"/> = <paramref name="owner"/>, <see cref="TrackedCheckout.ClaimedUntil"/> =
    /// <paramref name="now"/> + <paramref name="lease"/> and the next version, atomically.
    /// </remarks>
    /// <param name="now">The current instant.</param>
    /// <param name="max">The most checkouts to claim.</param>
    /// <param name="lease">How long the claim lasts.</param>
    /// <param name="owner">The claiming instance's id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The claimed checkouts, as stored, earliest due first.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> or <paramref name="lease"/> is not positive.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="owner"/> is <see langword="null"/>.</exception>
    Task<ImmutableArray<TrackedCheckout>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default);
}
