namespace Funnel.Offers;

/// <summary>Counts the seats of limited offers; replace the in-memory default with durable storage.</summary>
/// <remarks>Implementations must never let confirmed seats plus unexpired holds exceed the capacity, whatever the concurrency.</remarks>
public interface ISeatInventory
{
    /// <summary>Holds a seat for the lead if one is free; a lead that already holds one gets it back.</summary>
    /// <param name="offer">The offer.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="limit">The offer's seat limit.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The reservation, or <see langword="null"/> when the offer is sold out.</returns>
    Task<SeatReservation?> TryReserveAsync(OfferId offer, LeadId lead, SeatLimit limit, CancellationToken cancellationToken = default);

    /// <summary>Turns a hold into a sold seat; each hold confirms once.</summary>
    /// <param name="reservation">The reservation.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="false"/> when the hold expired (its seat may have gone to someone else) or was already confirmed; start a new checkout.</returns>
    Task<bool> ConfirmAsync(SeatReservation reservation, CancellationToken cancellationToken = default);

    /// <summary>Frees a held or sold seat (an abandoned checkout or a full refund).</summary>
    /// <param name="reservation">The reservation.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the seat is free.</returns>
    Task ReleaseAsync(SeatReservation reservation, CancellationToken cancellationToken = default);
}
