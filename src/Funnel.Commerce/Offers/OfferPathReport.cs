using System.Collections.Immutable;
using Funnel.Currencies;
using Funnel.Events;
using Funnel.Kpis;

namespace Funnel.Offers;

/// <summary>Revenue and orders of one offer in an <see cref="OfferPathReport"/>.</summary>
/// <param name="Offer">The offer.</param>
/// <param name="Name">The offer's display name.</param>
/// <param name="Role">The offer's role.</param>
/// <param name="Orders">How many orders include the offer.</param>
/// <param name="Revenue">What those lines were sold for, after discounts and before refunds.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record OfferRevenue(OfferId Offer, string Name, OfferRole Role, long Orders, Money Revenue);

/// <summary>What buyers did on the offer path: revenue per offer (tier) and the bump, upsell and downsell take rates.</summary>
/// <remarks>
/// <para>
/// Computed from the events <see cref="OrderService"/> emits, each counted once per <see cref="FunnelEvent.Id"/>.
/// An order's main offer earns the <see cref="OrderPlaced.Total"/> minus its <see cref="AddOnAccepted"/> amounts;
/// each add-on earns its amount. Revenue is booked revenue, before refunds, which are totalled in <see cref="Refunds"/>.
/// </para>
/// <para>
/// <see cref="BumpTakeRate"/> is orders with at least one order bump over checkout orders (orders that are not
/// upsells). <see cref="UpsellTakeRate"/> and <see cref="DownsellTakeRate"/> are accepted over accepted plus declined
/// post-purchase offers whose catalogue role is <see cref="OfferRole.Upsell"/> and <see cref="OfferRole.Downsell"/>.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record OfferPathReport
{
    /// <summary>Gets the revenue per offer, in catalogue order; offers without orders are listed with zero.</summary>
    public required ImmutableArray<OfferRevenue> ByOffer { get; init; }

    /// <summary>Gets the orders placed from a checkout (not upsells).</summary>
    public required long CheckoutOrders { get; init; }

    /// <summary>Gets the checkout orders that include at least one order bump.</summary>
    public required long OrdersWithBump { get; init; }

    /// <summary>Gets <see cref="OrdersWithBump"/> over <see cref="CheckoutOrders"/>.</summary>
    public required Ratio BumpTakeRate { get; init; }

    /// <summary>Gets the upsells accepted.</summary>
    public required long UpsellsAccepted { get; init; }

    /// <summary>Gets the upsells declined.</summary>
    public required long UpsellsDeclined { get; init; }

    /// <summary>Gets accepted over accepted plus declined upsells.</summary>
    public required Ratio UpsellTakeRate { get; init; }

    /// <summary>Gets accepted over accepted plus declined post-purchase downsells.</summary>
    public required Ratio DownsellTakeRate { get; init; }

    /// <summary>Gets the total booked revenue of all offers.</summary>
    public required Money Revenue { get; init; }

    /// <summary>Gets the total refunded.</summary>
    public required Money Refunds { get; init; }

    /// <summary>Computes the report from funnel events.</summary>
    /// <param name="catalogue">The catalogue, for offer names and roles.</param>
    /// <param name="events">The events, in any order; other event types are ignored.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">An amount is not in the catalogue's currency.</exception>
    public static OfferPathReport Create(Catalogue catalogue, IEnumerable<FunnelEvent> events) => Create(catalogue, events, null);

    /// <summary>Computes the report from funnel events, converting amounts in other currencies into the catalogue's.</summary>
    /// <param name="catalogue">The catalogue, for offer names, roles and the report's currency.</param>
    /// <param name="events">The events, in any order; other event types are ignored.</param>
    /// <param name="exchangeRates">
    /// The rates for amounts in other currencies, each converted at the rate of its event's UTC date
    /// (<see cref="FunnelReportSettings.ToReportCurrency"/>), or <see langword="null"/> when every amount is in the
    /// catalogue's currency.
    /// </param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="catalogue"/> or <paramref name="events"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">An amount is in another currency that <paramref name="exchangeRates"/> cannot convert; the message names the event, the currencies and the date.</exception>
    public static OfferPathReport Create(Catalogue catalogue, IEnumerable<FunnelEvent> events, IExchangeRates? exchangeRates)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(events);
        Currency currency = catalogue.Currency;
        var settings = new FunnelReportSettings { Currency = currency, ExchangeRates = exchangeRates };
        var seen = new HashSet<EventId>();
        var revenue = new Dictionary<OfferId, long>();
        var orders = new Dictionary<OfferId, long>();
        var upsellOrders = new HashSet<OrderId>();
        var placed = new Dictionary<OrderId, OrderPlaced>();
        var bumped = new HashSet<OrderId>();
        long refunds = 0;
        var addOnsByOrder = new Dictionary<OrderId, long>();
        long upAccepted = 0, upDeclined = 0, downAccepted = 0, downDeclined = 0;
        foreach (FunnelEvent e in events)
        {
            if (!seen.Add(e.Id))
            {
                continue;
            }

            switch (e)
            {
                case OrderPlaced order:
                    placed[order.Order] = order;
                    break;
                case AddOnAccepted addOn:
                    long amount = settings.ToReportCurrency(addOn.Amount, addOn).MinorUnits;
                    revenue[addOn.Offer] = revenue.GetValueOrDefault(addOn.Offer) + amount;
                    orders[addOn.Offer] = orders.GetValueOrDefault(addOn.Offer) + 1;
                    addOnsByOrder[addOn.Order] = addOnsByOrder.GetValueOrDefault(addOn.Order) + amount;
                    if (addOn.Role == OfferRole.OrderBump)
                    {
                        bumped.Add(addOn.Order);
                    }

                    break;
                case UpsellAccepted accepted:
                    upsellOrders.Add(accepted.Order);
                    if (RoleOf(catalogue, accepted.Offer) == OfferRole.Downsell)
                    {
                        downAccepted++;
                    }
                    else
                    {
                        upAccepted++;
                    }

                    break;
                case UpsellDeclined declined:
                    if (RoleOf(catalogue, declined.Offer) == OfferRole.Downsell)
                    {
                        downDeclined++;
                    }
                    else
                    {
                        upDeclined++;
                    }

                    break;
                case RefundIssued refund:
                    refunds = checked(refunds + settings.ToReportCurrency(refund.Amount, refund).MinorUnits);
                    break;
            }
        }

        long checkoutOrders = 0, withBump = 0, total = 0;
        foreach (OrderPlaced order in placed.Values)
        {
            long main = checked(settings.ToReportCurrency(order.Total, order).MinorUnits - addOnsByOrder.GetValueOrDefault(order.Order));
            revenue[order.Offer] = revenue.GetValueOrDefault(order.Offer) + main;
            orders[order.Offer] = orders.GetValueOrDefault(order.Offer) + 1;
            total = checked(total + order.Total.MinorUnits);
            if (!upsellOrders.Contains(order.Order))
            {
                checkoutOrders++;
                withBump += bumped.Contains(order.Order) ? 1 : 0;
            }
        }

        return new OfferPathReport
        {
            ByOffer = [.. catalogue.Offers.Select(o => new OfferRevenue(o.Id, o.Name, o.Role, orders.GetValueOrDefault(o.Id), new Money(revenue.GetValueOrDefault(o.Id), currency)))],
            CheckoutOrders = checkoutOrders,
            OrdersWithBump = withBump,
            BumpTakeRate = Ratio.Of(withBump, checkoutOrders),
            UpsellsAccepted = upAccepted,
            UpsellsDeclined = upDeclined,
            UpsellTakeRate = Ratio.Of(upAccepted, upAccepted + upDeclined),
            DownsellTakeRate = Ratio.Of(downAccepted, downAccepted + downDeclined),
            Revenue = new Money(total, currency),
            Refunds = new Money(refunds, currency),
        };
    }

    private static OfferRole? RoleOf(Catalogue catalogue, OfferId offer) => catalogue.FindOffer(offer)?.Role;
}
