using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Pipeline;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Waitlists;

/// <summary>Runs the waitlists of limited offers: joins, leaves, and offering released seats to the next lead in line with a hold.</summary>
/// <remarks>
/// <para>
/// A lead can join only a limited offer (<see cref="Offer.Seats"/>) that is sold out; joins are first come, first
/// served and idempotent per lead. When a seat frees up (a full refund releases it, a hold lapses, or seats are added
/// and <see cref="OfferSeatsAsync"/> is called), the lead at the front of the line gets a hold on it for
/// <see cref="WaitlistOptions.HoldFor"/>, recorded as <see cref="WaitlistSeatOffered"/> with the hold's expiry. A hold is
/// a <see cref="SeatReservation"/> in the <see cref="ISeatInventory"/> under the holder's lead, so the holder's checkout
/// gets the held seat back and confirms it; the purchase records <see cref="WaitlistSeatClaimed"/>.
/// </para>
/// <para>
/// The <see cref="OrderService"/> must use <see cref="Seats"/> (<c>AddFunnelWaitlists</c> wires it): while anyone is
/// waiting, a checkout by anyone but a holder sees the offer sold out, so a freed seat goes to the line first; a refund's
/// released seat is offered at once. A hold that lapses is passed on by <see cref="ExpireDueAsync"/> (the
/// <c>waitlist-holds</c> job), recording <see cref="WaitlistHoldExpired"/>; with nobody left waiting, the seat returns to
/// sale.
/// </para>
/// <para>
/// Every change to a waitlist is one compare-and-set of its <see cref="Waitlist"/> in the <see cref="IWaitlistStore"/>,
/// and a seat is held through the inventory, which never lets sold seats plus holds exceed the capacity. So two
/// instances releasing and claiming at once never give one seat to two leads: racing offerers reserve for the same lead
/// at the front of the line and the inventory hands that lead's hold back to both. A hold is never released early (a
/// holder who leaves keeps the seat held until it lapses), because the inventory cannot release a hold without risking
/// a purchase confirming it at the same moment. "Now" comes from the <see cref="IClock"/>; every method records its
/// events in the <see cref="IFunnelEventLog"/> itself.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe; several instances on one store are safe.</threadsafety>
public sealed class WaitlistService
{
    /// <summary>The lead a join probes the inventory with to tell whether an offer is sold out; nobody checks out as it.</summary>
    private static readonly LeadId Probe = new(new Guid("7a3c9e14-52b8-4f0d-8e61-0c2d4b9a7f35"));

    /// <summary>
    /// The most compare-and-set attempts on one waitlist: every join, leave and hold of an offer changes its one
    /// document, so a burst of joins when an offer sells out races far more writers than an order ever sees.
    /// </summary>
    private const int HotDocumentAttempts = 1_000;

    private readonly PriceBook _prices;
    private readonly IWaitlistStore _store;
    private readonly ISeatInventory _inventory;
    private readonly IClock _clock;
    private readonly IFunnelEventLog _log;
    private readonly WaitlistOptions _options;

    /// <summary>Initializes the service.</summary>
    /// <param name="prices">The compiled catalogue, for the offers' seat limits.</param>
    /// <param name="store">The waitlists.</param>
    /// <param name="seats">The seat inventory the offers' seats are counted in (not <see cref="Seats"/>).</param>
    /// <param name="clock">The source of "now".</param>
    /// <param name="log">The event log the service records its events in.</param>
    /// <param name="options">The waitlist options.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public WaitlistService(PriceBook prices, IWaitlistStore store, ISeatInventory seats, IClock clock, IFunnelEventLog log,
        IOptions<WaitlistOptions> options)
    {
        ArgumentNullException.ThrowIfNull(prices);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(seats);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(options);
        _prices = prices;
        _store = store;
        _inventory = seats;
        _clock = clock;
        _log = log;
        _options = options.Value;
        Seats = new WaitlistSeatInventory(this, seats, store, clock);
    }

    /// <summary>Gets the seat inventory an <see cref="OrderService"/> must use so that checkouts honour the waitlists.</summary>
    /// <remarks>
    /// It wraps the inventory given to the constructor: while an offer's waitlist has leads waiting, only a lead holding
    /// a seat from it can reserve one; a purchase of a held seat records <see cref="WaitlistSeatClaimed"/>; and a released
    /// seat (a full refund) is offered to the next lead in line at once.
    /// </remarks>
    public ISeatInventory Seats { get; }

    /// <summary>Puts a lead on the waitlist of a sold-out limited offer, at the back of the line.</summary>
    /// <param name="offer">The limited offer.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// The lead's place with a <see cref="WaitlistJoined"/> event; for a lead already waiting, their place and no event;
    /// for a lead a seat is held for, the <see cref="WaitlistJoinResult.Hold"/>; or a rejection
    /// (<see cref="WaitlistRejection.NotSoldOut"/>, <see cref="WaitlistRejection.Full"/>) with its reason.
    /// </returns>
    /// <exception cref="ArgumentException">The catalogue has no such offer, or the offer has no seat limit.</exception>
    public async Task<WaitlistJoinResult> JoinAsync(OfferId offer, LeadId lead, CancellationToken cancellationToken = default)
    {
        SeatLimit limit = LimitOf(offer);
        Waitlist? found = await _store.FindAsync(offer, cancellationToken).ConfigureAwait(false);
        Instant now = _clock.GetCurrentInstant();
        if (found is not null && Repeat(found, lead, now) is { } repeat)
        {
            return repeat;
        }

        if ((found is null || found.Waiting.IsEmpty) && !await IsSoldOutAsync(offer, limit, cancellationToken).ConfigureAwait(false))
        {
            return new WaitlistJoinResult
            {
                Rejection = WaitlistRejection.NotSoldOut,
                Reason = $"Offer '{offer}' is not sold out: it has a free seat, so the lead can buy it instead of joining its waitlist.",
            };
        }

        (WaitlistJoinResult result, bool joined) = await OptimisticConcurrency.RetryAsync(
            async c =>
            {
                Waitlist? current = await _store.FindAsync(offer, c).ConfigureAwait(false);
                if (current is not null && Repeat(current, lead, now) is { } again)
                {
                    return (true, (again, false));
                }

                if (current is not null && current.Waiting.Length >= _options.MaxWaiting)
                {
                    return (true, (new WaitlistJoinResult
                    {
                        Rejection = WaitlistRejection.Full,
                        Reason = $"The waitlist of offer '{offer}' is full: {current.Waiting.Length} leads wait (MaxWaiting).",
                    }, false));
                }

                var entry = new WaitlistEntry(lead, now);
                bool stored = current is null
                    ? await _store.TryAddAsync(new Waitlist { Offer = offer, Waiting = [entry] }, c).ConfigureAwait(false)
                    : await _store.TryUpdateAsync(current, current with { Waiting = current.Waiting.Add(entry) }, c).ConfigureAwait(false);
                return (stored, (new WaitlistJoinResult { Position = (current?.Waiting.Length ?? 0) + 1 }, true));
            },
            $"The waitlist of offer '{offer}'",
            cancellationToken,
            HotDocumentAttempts).ConfigureAwait(false);
        if (!joined)
        {
            return result;
        }

        ImmutableArray<FunnelEvent> events = await RecordAsync(
            [new WaitlistJoined { LeadId = lead, OccurredAt = now, Offer = offer, Position = result.Position!.Value }]).ConfigureAwait(false);

        // A seat freed between the sold-out check and the join goes to the line now, not at the next checkout; it may
        // be this lead's.
        if (await OfferSeatsAsync(offer, cancellationToken).ConfigureAwait(false) > 0
            && await FindHoldAsync(offer, lead, cancellationToken).ConfigureAwait(false) is { } hold)
        {
            return result with { Position = null, Hold = hold, Events = events };
        }

        return result with { Events = events };
    }

    /// <summary>Takes a lead off a waitlist.</summary>
    /// <param name="offer">The offer.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> with a <see cref="WaitlistLeft"/> event when the lead was waiting or holding a seat; otherwise <see langword="false"/>.</returns>
    /// <remarks>A seat held for the lead stays held until the hold lapses (the lead may still buy it), then passes to the next lead in line.</remarks>
    public async Task<bool> LeaveAsync(OfferId offer, LeadId lead, CancellationToken cancellationToken = default)
    {
        bool left = await OptimisticConcurrency.RetryAsync(
            async c =>
            {
                Waitlist? current = await _store.FindAsync(offer, c).ConfigureAwait(false);
                if (current is null)
                {
                    return (true, false);
                }

                Waitlist next;
                if (current.PositionOf(lead) is { } position)
                {
                    next = current with { Waiting = current.Waiting.RemoveAt(position - 1) };
                }
                else if (current.HoldOf(lead) is { Left: false } hold)
                {
                    next = current with { Holds = current.Holds.Replace(hold, hold with { Left = true }) };
                }
                else
                {
                    return (true, false);
                }

                return (await _store.TryUpdateAsync(current, next, c).ConfigureAwait(false), true);
            },
            $"The waitlist of offer '{offer}'",
            cancellationToken,
            HotDocumentAttempts).ConfigureAwait(false);
        if (left)
        {
            await RecordAsync([new WaitlistLeft { LeadId = lead, OccurredAt = _clock.GetCurrentInstant(), Offer = offer }]).ConfigureAwait(false);
        }

        return left;
    }

    /// <summary>Returns a waiting lead's place in line.</summary>
    /// <param name="offer">The offer.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The 1-based place, or <see langword="null"/> when the lead is not waiting (never joined, left, or holds a seat).</returns>
    public async Task<int?> GetPositionAsync(OfferId offer, LeadId lead, CancellationToken cancellationToken = default) =>
        (await _store.FindAsync(offer, cancellationToken).ConfigureAwait(false))?.PositionOf(lead);

    /// <summary>Returns the seat held for a lead from the offer's waitlist, if the hold has not lapsed.</summary>
    /// <param name="offer">The offer.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The hold, or <see langword="null"/> when no seat is held for the lead now.</returns>
    public async Task<WaitlistHold?> FindHoldAsync(OfferId offer, LeadId lead, CancellationToken cancellationToken = default)
    {
        Waitlist? waitlist = await _store.FindAsync(offer, cancellationToken).ConfigureAwait(false);
        return waitlist?.HoldOf(lead) is { Left: false } hold && hold.ExpiresAt > _clock.GetCurrentInstant() ? hold : null;
    }

    /// <summary>Holds every free seat of an offer for the leads at the front of its line, one seat each.</summary>
    /// <param name="offer">The limited offer.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>How many seats this call offered, each recorded as <see cref="WaitlistSeatOffered"/>.</returns>
    /// <remarks>
    /// Released seats and lapsed holds are offered without this call; call it after raising an offer's
    /// <see cref="SeatLimit.Capacity"/>. (A checkout that a waiting line turns away also calls it, so a seat freed while
    /// no one was watching still goes to the line.)
    /// </remarks>
    /// <exception cref="ArgumentException">The catalogue has no such offer, or the offer has no seat limit.</exception>
    public async Task<int> OfferSeatsAsync(OfferId offer, CancellationToken cancellationToken = default)
    {
        SeatLimit limit = LimitOf(offer) with { HoldFor = _options.HoldFor };
        int offered = 0;

        // Each round takes the lead at the front of the line off it (or ends), so the loop is bounded by the line.
        for (int round = 0; round <= _options.MaxWaiting; round++)
        {
            Waitlist? waitlist = await _store.FindAsync(offer, cancellationToken).ConfigureAwait(false);
            if (waitlist is null || waitlist.Waiting.IsEmpty)
            {
                break;
            }

            LeadId next = waitlist.Waiting[0].Lead;
            SeatReservation? seat = await _inventory.TryReserveAsync(offer, next, limit, cancellationToken).ConfigureAwait(false);
            if (seat is null)
            {
                break;
            }

            if (await TrackHoldAsync(offer, next, seat.Value, cancellationToken).ConfigureAwait(false))
            {
                offered++;
            }
        }

        return offered;
    }

    /// <summary>Passes every lapsed hold on to the next lead in line, recording <see cref="WaitlistHoldExpired"/> for each.</summary>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>How many holds lapsed unbought (holds of leads who left are passed on without an event and not counted).</returns>
    /// <remarks>Run every <see cref="WaitlistOptions.Interval"/> by the <c>waitlist-holds</c> job of <c>AddFunnelHosting()</c>.</remarks>
    public async Task<int> ExpireDueAsync(CancellationToken cancellationToken = default)
    {
        int expired = 0;
        while (true)
        {
            Instant now = _clock.GetCurrentInstant();
            ImmutableArray<Waitlist> due = await _store.FindDueAsync(now, _options.BatchSize, cancellationToken).ConfigureAwait(false);
            foreach (Waitlist waitlist in due)
            {
                expired += await ExpireAsync(waitlist.Offer, now, cancellationToken).ConfigureAwait(false);
            }

            if (due.Length < _options.BatchSize)
            {
                return expired;
            }
        }
    }

    /// <summary>Records that a held seat was bought: the hold leaves the waitlist with a <see cref="WaitlistSeatClaimed"/>.</summary>
    internal async Task ClaimAsync(SeatReservation seat, CancellationToken cancellationToken)
    {
        WaitlistHold? claimed = await OptimisticConcurrency.RetryAsync(
            async c =>
            {
                Waitlist? current = await _store.FindAsync(seat.Offer, c).ConfigureAwait(false);
                int index = current is null ? -1 : current.IndexOfHold(seat.Id);
                if (current is null || index < 0)
                {
                    return (true, (WaitlistHold?)null);
                }

                WaitlistHold found = current.Holds[index];
                return (await _store.TryUpdateAsync(current, current with { Holds = current.Holds.RemoveAt(index) }, c).ConfigureAwait(false), found);
            },
            $"The waitlist of offer '{seat.Offer}'",
            cancellationToken,
            HotDocumentAttempts).ConfigureAwait(false);
        if (claimed is { } h)
        {
            await RecordAsync([new WaitlistSeatClaimed
            {
                Id = EventId.Derive(new EventId(h.Reservation), WaitlistEventTypes.WaitlistSeatClaimed),
                LeadId = h.Lead,
                OccurredAt = _clock.GetCurrentInstant(),
                Offer = seat.Offer,
            }]).ConfigureAwait(false);
        }
    }

    /// <summary>Returns the offer's seat limit, or <see langword="null"/> when the catalogue no longer limits it.</summary>
    internal SeatLimit? FindLimit(OfferId offer) =>
        _prices.Catalogue.Offers.FirstOrDefault(o => o.Id == offer)?.Seats;

    private SeatLimit LimitOf(OfferId offer)
    {
        Offer found = _prices.GetOffer(offer);
        return found.Seats ?? throw new ArgumentException(
            $"Offer '{offer}' has no seat limit, so it never sells out and has no waitlist.", nameof(offer));
    }

    private static WaitlistJoinResult? Repeat(Waitlist waitlist, LeadId lead, Instant now)
    {
        if (waitlist.PositionOf(lead) is { } position)
        {
            return new WaitlistJoinResult { Position = position };
        }

        return waitlist.HoldOf(lead) is { Left: false } hold && hold.ExpiresAt > now ? new WaitlistJoinResult { Hold = hold } : null;
    }

    /// <summary>Tells whether a limited offer has no free seat, by reserving one for <see cref="Probe"/> and giving it back.</summary>
    private async Task<bool> IsSoldOutAsync(OfferId offer, SeatLimit limit, CancellationToken cancellationToken)
    {
        SeatReservation? probe = await _inventory.TryReserveAsync(offer, Probe, limit, cancellationToken).ConfigureAwait(false);
        if (probe is null)
        {
            return true;
        }

        await _inventory.ReleaseAsync(probe.Value, CancellationToken.None).ConfigureAwait(false);
        return false;
    }

    /// <summary>Stores a hold reserved for <paramref name="lead"/>; <see langword="true"/> when this call offered it.</summary>
    /// <remarks>
    /// Racing offerers reserve for the same lead and get the same hold, so the second finds it stored. A lead that left
    /// meanwhile gets the hold marked <see cref="WaitlistHold.Left"/>: it is kept (not released, which could race a
    /// purchase) and passed on when it lapses.
    /// </remarks>
    private async Task<bool> TrackHoldAsync(OfferId offer, LeadId lead, SeatReservation seat, CancellationToken cancellationToken)
    {
        Instant now = _clock.GetCurrentInstant();
        bool offered = await OptimisticConcurrency.RetryAsync(
            async c =>
            {
                Waitlist current = await _store.FindAsync(offer, c).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"The waitlist of offer '{offer}' disappeared.");
                if (current.IndexOfHold(seat.Id) >= 0)
                {
                    return (true, false);
                }

                int? position = current.PositionOf(lead);
                var hold = new WaitlistHold(lead, seat.Id, now, seat.ExpiresAt, Left: position is null);
                Waitlist next = current with
                {
                    Waiting = position is { } p ? current.Waiting.RemoveAt(p - 1) : current.Waiting,
                    Holds = current.Holds.Add(hold),
                };
                return (await _store.TryUpdateAsync(current, next, c).ConfigureAwait(false), position is not null);
            },
            $"The waitlist of offer '{offer}'",
            cancellationToken,
            HotDocumentAttempts).ConfigureAwait(false);
        if (offered)
        {
            await RecordAsync([new WaitlistSeatOffered
            {
                Id = EventId.Derive(new EventId(seat.Id), WaitlistEventTypes.WaitlistSeatOffered),
                LeadId = lead,
                OccurredAt = now,
                Offer = offer,
                ExpiresAt = seat.ExpiresAt,
            }]).ConfigureAwait(false);
        }

        return offered;
    }

    private async Task<int> ExpireAsync(OfferId offer, Instant now, CancellationToken cancellationToken)
    {
        ImmutableArray<WaitlistHold> lapsed = await OptimisticConcurrency.RetryAsync(
            async c =>
            {
                Waitlist? current = await _store.FindAsync(offer, c).ConfigureAwait(false);
                if (current is null)
                {
                    return (true, ImmutableArray<WaitlistHold>.Empty);
                }

                ImmutableArray<WaitlistHold> due = [.. current.Holds.Where(h => h.ExpiresAt <= now)];
                if (due.IsEmpty)
                {
                    return (true, due);
                }

                Waitlist next = current with { Holds = [.. current.Holds.Where(h => h.ExpiresAt > now)] };
                return (await _store.TryUpdateAsync(current, next, c).ConfigureAwait(false), due);
            },
            $"The waitlist of offer '{offer}'",
            cancellationToken,
            HotDocumentAttempts).ConfigureAwait(false);
        FunnelEvent[] events = [.. lapsed.Where(h => !h.Left).Select(h => new WaitlistHoldExpired
        {
            Id = EventId.Derive(new EventId(h.Reservation), WaitlistEventTypes.WaitlistHoldExpired),
            LeadId = h.Lead,
            OccurredAt = h.ExpiresAt,
            Offer = offer,
        })];
        await RecordAsync(events).ConfigureAwait(false);

        // The inventory let the lapsed holds go at the same instant: their seats are free for the next leads in line.
        if (!lapsed.IsEmpty && FindLimit(offer) is not null)
        {
            await OfferSeatsAsync(offer, cancellationToken).ConfigureAwait(false);
        }

        return events.Length;
    }

    /// <summary>Appends the events to the log (not cancelled with the caller: the change they describe is stored).</summary>
    private async Task<ImmutableArray<FunnelEvent>> RecordAsync(FunnelEvent[] events)
    {
        if (events.Length > 0)
        {
            await _log.AppendAsync(events, CancellationToken.None).ConfigureAwait(false);
        }

        return [.. events];
    }
}
