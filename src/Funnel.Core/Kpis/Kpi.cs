namespace Funnel.Kpis;

/// <summary>The KPI formulas, as pure functions of measured counts and amounts.</summary>
/// <remarks>
/// <para>
/// Every rate is an exact <see cref="Ratio"/>; a rate whose denominator is zero is not defined
/// (<see cref="Ratio.IsDefined"/> is <see langword="false"/>), never an exception and never a silent 0. Amounts per
/// customer, order or visitor return <see langword="null"/> when there is nothing to divide by, and otherwise are
/// rounded to whole minor units with <see cref="MidpointRounding.AwayFromZero"/>.
/// </para>
/// <para><see cref="FunnelReporter"/> measures the inputs from events; these functions are public so that
/// applications can compute the same KPIs from numbers they already have.</para>
/// </remarks>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class Kpi
{
    /// <summary>Conversion rate: converted ÷ entered, such as leads ÷ visitors.</summary>
    /// <param name="converted">How many reached the later step.</param>
    /// <param name="entered">How many reached the earlier step.</param>
    /// <returns>The rate; not defined when <paramref name="entered"/> is 0.</returns>
    public static Ratio ConversionRate(long converted, long entered) => Ratio.Of(converted, entered);

    /// <summary>Customer acquisition cost (CAC): marketing spend ÷ new customers.</summary>
    /// <param name="spend">The marketing spend.</param>
    /// <param name="newCustomers">The customers acquired with that spend.</param>
    /// <returns>The cost per customer, or <see langword="null"/> when there are no customers.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="newCustomers"/> is negative.</exception>
    public static Money? CustomerAcquisitionCost(Money spend, long newCustomers) => Per(spend, newCustomers, nameof(newCustomers));

    /// <summary>Return on ad spend (ROAS): revenue ÷ ad spend.</summary>
    /// <param name="revenue">The revenue attributed to the spend.</param>
    /// <param name="adSpend">The ad spend.</param>
    /// <returns>The ratio (2.485 means $2.485 back for every $1 spent); not defined when the spend is 0.</returns>
    /// <exception cref="InvalidOperationException">The amounts are in different currencies.</exception>
    public static Ratio ReturnOnAdSpend(Money revenue, Money adSpend) => Ratio.Of(revenue, adSpend);

    /// <summary>Return on investment (ROI): (revenue − cost) ÷ cost.</summary>
    /// <param name="revenue">The revenue.</param>
    /// <param name="cost">The cost (for a funnel report, the marketing spend).</param>
    /// <returns>The ratio (1.485 means 148.5 % profit on the cost); not defined when the cost is 0.</returns>
    /// <exception cref="InvalidOperationException">The amounts are in different currencies.</exception>
    public static Ratio ReturnOnInvestment(Money revenue, Money cost) => Ratio.Of(revenue - cost, cost);

    /// <summary>Average order value (AOV): revenue ÷ orders.</summary>
    /// <param name="revenue">The revenue.</param>
    /// <param name="orders">The number of orders.</param>
    /// <returns>The average, or <see langword="null"/> when there are no orders.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="orders"/> is negative.</exception>
    public static Money? AverageOrderValue(Money revenue, long orders) => Per(revenue, orders, nameof(orders));

    /// <summary>Revenue per visitor (RPV): revenue ÷ visitors.</summary>
    /// <param name="revenue">The revenue.</param>
    /// <param name="visitors">The number of visitors.</param>
    /// <returns>The revenue per visitor, or <see langword="null"/> when there are no visitors.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="visitors"/> is negative.</exception>
    public static Money? RevenuePerVisitor(Money revenue, long visitors) => Per(revenue, visitors, nameof(visitors));

    /// <summary>Email open rate: unique opens ÷ delivered emails.</summary>
    /// <param name="uniqueOpens">Messages opened at least once.</param>
    /// <param name="delivered">Messages delivered (sent − bounced).</param>
    /// <returns>The rate; not defined when nothing was delivered.</returns>
    public static Ratio OpenRate(long uniqueOpens, long delivered) => Ratio.Of(uniqueOpens, delivered);

    /// <summary>Email click rate (click-through rate): unique clicks ÷ delivered emails.</summary>
    /// <param name="uniqueClicks">Messages with at least one click.</param>
    /// <param name="delivered">Messages delivered (sent − bounced).</param>
    /// <returns>The rate; not defined when nothing was delivered.</returns>
    public static Ratio ClickRate(long uniqueClicks, long delivered) => Ratio.Of(uniqueClicks, delivered);

    /// <summary>Click-to-open rate (CTOR): unique clicks ÷ unique opens.</summary>
    /// <param name="uniqueClicks">Messages with at least one click.</param>
    /// <param name="uniqueOpens">Messages opened at least once.</param>
    /// <returns>The rate; not defined when nothing was opened.</returns>
    public static Ratio ClickToOpenRate(long uniqueClicks, long uniqueOpens) => Ratio.Of(uniqueClicks, uniqueOpens);

    /// <summary>Unsubscribe rate: unsubscribes ÷ delivered emails.</summary>
    /// <param name="unsubscribes">Messages through which the lead unsubscribed.</param>
    /// <param name="delivered">Messages delivered.</param>
    /// <returns>The rate; not defined when nothing was delivered.</returns>
    public static Ratio UnsubscribeRate(long unsubscribes, long delivered) => Ratio.Of(unsubscribes, delivered);

    /// <summary>Email bounce rate: bounced emails ÷ sent emails.</summary>
    /// <param name="bounced">Messages that bounced.</param>
    /// <param name="sent">Messages sent.</param>
    /// <returns>The rate; not defined when nothing was sent.</returns>
    public static Ratio EmailBounceRate(long bounced, long sent) => Ratio.Of(bounced, sent);

    /// <summary>Landing-page bounce rate: views with no further interaction ÷ views.</summary>
    /// <param name="bouncedViews">Views after which the visitor did nothing else within the bounce window.</param>
    /// <param name="views">Views of the page.</param>
    /// <returns>The rate; not defined when the page had no views.</returns>
    public static Ratio PageBounceRate(long bouncedViews, long views) => Ratio.Of(bouncedViews, views);

    /// <summary>Cart abandonment rate: checkouts not completed ÷ checkouts started.</summary>
    /// <param name="abandoned">Checkouts started that did not end in an order.</param>
    /// <param name="started">Checkouts started.</param>
    /// <returns>The rate; not defined when no checkout was started.</returns>
    public static Ratio CartAbandonmentRate(long abandoned, long started) => Ratio.Of(abandoned, started);

    /// <summary>Refund rate: refunded orders ÷ orders.</summary>
    /// <param name="refundedOrders">Orders with at least one refund.</param>
    /// <param name="orders">Orders placed.</param>
    /// <returns>The rate; not defined when there are no orders.</returns>
    public static Ratio RefundRate(long refundedOrders, long orders) => Ratio.Of(refundedOrders, orders);

    private static Money? Per(Money amount, long count, string paramName)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count, paramName);
        return count == 0 ? null : amount.Divide(count, MidpointRounding.AwayFromZero);
    }
}
