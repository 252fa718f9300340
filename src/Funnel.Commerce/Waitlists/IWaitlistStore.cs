using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Waitlists;

/// <summary>Stores one <see cref="Waitlist"/> per limited offer.</summary>
/// <remarks>
/// The store follows Funnel's store convention: <see cref="TryAddAsync"/> is insert-if-absent on the offer;
/// <see cref="TryUpdateAsync"/> replaces a waitlist only when its stored <see cref="Waitlist.Version"/> is still the one
/// read. Every change to a waitlist (a join, a leave, a seat offered, claimed or lapsed) is one compare-and-set of the
/// whole document, which is what keeps two app instances from offering one place in line twice. Durable
/// implementations may keep instants to the microsecond.
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads and processes at once.</threadsafety>
public interface IWaitlistStore
{
    /// <summary>Finds the waitlist of an offer.</summary>
    /// <param name="offer">The offer.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The waitlist as stored, or <see langword="null"/> when nobody ever joined it.</returns>
    Task<Waitlist?> FindAsync(OfferId offer, CancellationToken cancellationToken = default);

    /// <summary>Stores a waitlist unless one for the same offer exists (insert-if-absent).</summary>
    /// <param name="waitlist">The waitlist; it is stored with version 0.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="false"/> when the offer already has a waitlist.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="waitlist"/> is <see langword="null"/>.</exception>
    Task<bool> TryAddAsync(Waitlist waitlist, CancellationToken cancellationToken = default);

    /// <summary>Replaces <paramref name="current"/> with <paramref name="replacement"/> if the stored version is still <paramref name="current"/>'s (replace-if-version).</summary>
    /// <param name="current">The waitlist as read.</param>
    /// <param name="replacement">Its new state; it is stored under <paramref name="current"/>'s offer with its version plus one.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when it changed first.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="current"/> or <paramref name="replacement"/> is <see langword="null"/>.</exception>
    Task<bool> TryUpdateAsync(Waitlist current, Waitlist replacement, CancellationToken cancellationToken = default);

    /// <summary>Lists up to <paramref name="max"/> waitlists with a hold that lapsed at or before <paramref name="now"/>, earliest first.</summary>
    /// <param name="now">The current instant.</param>
    /// <param name="max">The most waitlists to return.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The waitlists as stored, by <see cref="Waitlist.NextExpiry"/> then offer.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    Task<ImmutableArray<Waitlist>> FindDueAsync(Instant now, int max, CancellationToken cancellationToken = default);
}
