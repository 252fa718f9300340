using Funnel.Currencies;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Offers;

namespace Funnel.Waitlists;

/// <summary>Waitlist KPIs of one offer: who waits, seats offered, bought and lapsed, the conversion rate and the revenue the line recovered.</summary>
/// <remarks>
/// Computed from events, each counted once per <see cref="FunnelEvent.Id"/>. A conversion is a
/// <see cref="WaitlistSeatClaimed"/> (the holder's checkout confirmed the held seat). Its revenue is the
/// <see cref="OrderPlaced.Total"/> of the first order of the same lead for the offer at or after the claim (bumps
/// included, before refunds), or the <see cref="AddOnAccepted.Amount"/> when the offer was bought as an add-on; each
/// order counts once. <see cref="Waiting"/> and <see cref="Holding"/> replay each lead's last waitlist event in
/// <see cref="FunnelEvent.OccurredAt"/> order.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record WaitlistReport
{
    /// <summary>Gets the offer.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets how many times a lead joined (<see cref="WaitlistJoined"/>).</summary>
    public required long Joined { get; init; }

    /// <summary>Gets how many times a lead left (<see cref="WaitlistLeft"/>).</summary>
    public required long Left { get; init; }

    /// <summary>Gets the waitlist's size: the leads still waiting for a seat after the last event.</summary>
    public required long Waiting { get; init; }

    /// <summary>Gets the leads a seat is held for after the last event (neither bought nor lapsed yet).</summary>
    public required long Holding { get; init; }

    /// <summary>Gets the seats offered to leads from the line (<see cref="WaitlistSeatOffered"/>).</summary>
    public required long OffersMade { get; init; }

    /// <summary>Gets the held seats their leads bought (<see cref="WaitlistSeatClaimed"/>).</summary>
    public required long Conversions { get; init; }

    /// <summary>Gets the held seats that lapsed unbought (<see cref="WaitlistHoldExpired"/>).</summary>
    public required long Expiries { get; init; }

    /// <summary>Gets the revenue of the orders that bought a held seat, in minor units of the report's currency.</summary>
    public required Money RecoveredRevenue { get; init; }

    /// <summary>Gets the conversion rate: <see cref="Conversions"/> ÷ <see cref="OffersMade"/> (undefined with no offer made).</summary>
    public Ratio ConversionRate => Ratio.Of(Conversions, OffersMade);

    /// <summary>Computes the report of one offer from funnel events.</summary>
    /// <param name="events">The events, in any order; other offers' and other types' events are ignored.</param>
    /// <param name="offer">The offer.</param>
    /// <param name="currency">The currency of the report; every recovering order must be in it.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">A recovering order is not in <paramref name="currency"/>.</exception>
    public static WaitlistReport Compute(IEnumerable<FunnelEvent> events, OfferId offer, Currency currency) => Compute(events, offer, currency, null);

    /// <summary>Computes the report of one offer from funnel events, converting orders in other currencies.</summary>
    /// <param name="events">The events, in any order; other offers' and other types' events are ignored.</param>
    /// <param name="offer">The offer.</param>
    /// <param name="currency">The currency of the report.</param>
    /// <param name="exchangeRates">
    /// The rates for orders in other currencies, each converted at the rate of its event's UTC date
    /// (<see cref="FunnelReportSettings.ToReportCurrency"/>), or <see langword="null"/> when every order is in
    /// <paramref name="currency"/>.
    /// </param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">An order is in another currency that <paramref name="exchangeRates"/> cannot convert; the message names the event, the currencies and the date.</exception>
    public static WaitlistReport Compute(IEnumerable<FunnelEvent> events, OfferId offer, Currency currency, IExchangeRates? exchangeRates)
    {
        var settings = new FunnelReportSettings { Currency = currency, ExchangeRates = exchangeRates };
        ArgumentNullException.ThrowIfNull(events);
        var seen = new HashSet<EventId>();
        List<LeadEvent> relevant = [.. events
            .Where(e => seen.Add(e.Id))
            .OfType<LeadEvent>()
            .Where(e => e.Subject == offer.Value && (e.EventType.StartsWith("waitlist_", StringComparison.Ordinal) || e is OrderPlaced or AddOnAccepted))
            .Select((e, i) => (e, i))
            .OrderBy(p => p.e.OccurredAt)
            .ThenBy(p => p.i)
            .Select(p => p.e)];

        long joined = 0, left = 0, offered = 0, claimed = 0, expired = 0;
        var state = new Dictionary<LeadId, bool>(); // true: holding a seat; false: waiting
        var claims = new List<LeadEvent>();
        foreach (LeadEvent e in relevant)
        {
            switch (e)
            {
                case WaitlistJoined:
                    joined++;
                    state.TryAdd(e.LeadId, false);
                    break;
                case WaitlistLeft:
                    left++;
                    if (state.TryGetValue(e.LeadId, out bool holding) && !holding)
                    {
                        state.Remove(e.LeadId);
                    }

                    break;
                case WaitlistSeatOffered:
                    offered++;
                    state[e.LeadId] = true;
                    break;
                case WaitlistHoldExpired:
                    expired++;
                    state.Remove(e.LeadId);
                    break;
                case WaitlistSeatClaimed:
                    claimed++;
                    state.Remove(e.LeadId);
                    claims.Add(e);
                    break;
            }
        }

        Money revenue = Money.Zero(currency);
        var used = new HashSet<EventId>();
        foreach (LeadEvent claim in claims)
        {
            LeadEvent? order = relevant.FirstOrDefault(e => e is OrderPlaced or AddOnAccepted
                && e.LeadId == claim.LeadId && e.OccurredAt >= claim.OccurredAt && !used.Contains(e.Id));
            if (order is null)
            {
                continue;
            }

            used.Add(order.Id);
            Money amount = order is OrderPlaced placed ? placed.Total : ((AddOnAccepted)order).Amount;
            revenue += settings.ToReportCurrency(amount, order);
        }

        return new WaitlistReport
        {
            Offer = offer,
            Joined = joined,
            Left = left,
            Waiting = state.Values.LongCount(h => !h),
            Holding = state.Values.LongCount(h => h),
            OffersMade = offered,
            Conversions = claimed,
            Expiries = expired,
            RecoveredRevenue = revenue,
        };
    }
}
