using Funnel.Offers;
using NodaTime;

namespace Funnel.Waitlists;

/// <summary>The <see cref="ISeatInventory"/> of <see cref="WaitlistService.Seats"/>: the inner inventory, with the waitlists' line in front of it.</summary>
/// <remarks>
/// While an offer's waitlist has leads waiting, only a lead holding a seat from it reaches the inner inventory (which
/// hands the held seat back); everyone else sees the offer sold out, and the turned-away checkout offers any free seat
/// to the line. A confirmed held seat leaves the waitlist as claimed. A released seat is offered to the line at once;
/// a release of a seat the waitlist still holds unbought is ignored, so a failed checkout does not take the seat from
/// its holder.
/// </remarks>
internal sealed class WaitlistSeatInventory(WaitlistService waitlists, ISeatInventory inner, IWaitlistStore store, IClock clock) : ISeatInventory
{
    public async Task<SeatReservation?> TryReserveAsync(OfferId offer, LeadId lead, SeatLimit limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limit);
        if (!await MayReserveAsync(offer, lead, cancellationToken).ConfigureAwait(false))
        {
            // Turned away by the line: any free seat goes to the line (this lead's turn may have come), then ask again.
            await waitlists.OfferSeatsAsync(offer, cancellationToken).ConfigureAwait(false);
            if (!await MayReserveAsync(offer, lead, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }

        return await inner.TryReserveAsync(offer, lead, limit, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> ConfirmAsync(SeatReservation reservation, CancellationToken cancellationToken = default)
    {
        if (!await inner.ConfirmAsync(reservation, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        await waitlists.ClaimAsync(reservation, CancellationToken.None).ConfigureAwait(false);
        return true;
    }

    public async Task ReleaseAsync(SeatReservation reservation, CancellationToken cancellationToken = default)
    {
        Waitlist? waitlist = await store.FindAsync(reservation.Offer, cancellationToken).ConfigureAwait(false);
        if (waitlist is not null && waitlist.IndexOfHold(reservation.Id) >= 0)
        {
            return;
        }

        await inner.ReleaseAsync(reservation, cancellationToken).ConfigureAwait(false);
        if (waitlist is not null && waitlists.FindLimit(reservation.Offer) is not null)
        {
            await waitlists.OfferSeatsAsync(reservation.Offer, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Nobody waits for the offer, or the lead holds an unlapsed seat from its waitlist.</summary>
    private async Task<bool> MayReserveAsync(OfferId offer, LeadId lead, CancellationToken cancellationToken)
    {
        Waitlist? waitlist = await store.FindAsync(offer, cancellationToken).ConfigureAwait(false);
        return waitlist is null || waitlist.Waiting.IsEmpty
            || (waitlist.HoldOf(lead) is { Left: false } hold && hold.ExpiresAt > clock.GetCurrentInstant());
    }
}
