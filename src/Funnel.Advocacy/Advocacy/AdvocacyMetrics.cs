using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Kpis;
using NodaTime;

namespace Funnel.Advocacy;

/// <summary>The lifetime value of one cohort of customers: those whose first order fell in one month.</summary>
/// <param name="Cohort">The month of the customers' first order (UTC).</param>
/// <param name="Customers">The customers in the cohort.</param>
/// <param name="NetRevenue">Every order total of these customers, at any time, minus the refunds on those orders.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record CohortValue(YearMonth Cohort, long Customers, Money NetRevenue)
{
    /// <summary>Gets the realised CLTV of the cohort: net revenue ÷ customers, rounded half away from zero.</summary>
    /// <value><see langword="null"/> when the cohort is empty.</value>
    public Money? ValuePerCustomer => Customers == 0 ? null : NetRevenue.Divide(Customers, MidpointRounding.AwayFromZero);
}

/// <summary>Retention and advocacy KPIs computed from events: CLTV by cohort and the share of revenue from affiliates and referrals.</summary>
/// <remarks>
/// <para>Revenue is net: order totals (<c>order_placed</c>) minus refunds (<c>refund_issued</c>) on those orders.
/// Affiliate revenue is that of orders with an <c>affiliate_sale_attributed</c> event; referral revenue that of
/// orders a referred friend placed at or after their first <c>referral_made</c>. An order counts in both when both
/// apply. Affiliate commission is <c>commission_earned</c> minus <c>commission_clawed_back</c>.</para>
/// <para>Events with the same id count once; an order placed twice (same order id) counts once.</para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record AdvocacyMetrics
{
    /// <summary>Gets the cohorts, oldest first.</summary>
    public required ImmutableArray<CohortValue> Cohorts { get; init; }

    /// <summary>Gets the net revenue of all orders.</summary>
    public required Money NetRevenue { get; init; }

    /// <summary>Gets the net revenue of orders attributed to affiliates.</summary>
    public required Money AffiliateRevenue { get; init; }

    /// <summary>Gets the net revenue of orders from referred friends.</summary>
    public required Money ReferralRevenue { get; init; }

    /// <summary>Gets the affiliate commission earned, net of clawbacks.</summary>
    public required Money AffiliateCommission { get; init; }

    /// <summary>Gets the affiliate share of revenue: affiliate revenue ÷ net revenue.</summary>
    public Ratio AffiliateRevenueShare => Ratio.Of(AffiliateRevenue, NetRevenue);

    /// <summary>Gets the referral share of revenue: referral revenue ÷ net revenue.</summary>
    public Ratio ReferralRevenueShare => Ratio.Of(ReferralRevenue, NetRevenue);

    /// <summary>Gets the report section that computes these metrics, under the key <c>advocacy</c>.</summary>
    /// <remarks>
    /// <c>AddFunnelAdvocacy</c> registers it for the reporter that <c>AddFunnel</c> registers; list it in
    /// <see cref="FunnelReportSettings.Sections"/> for a reporter built by hand. Read the result with
    /// <c>report.Section&lt;AdvocacyMetrics&gt;()</c>.
    /// </remarks>
    public static IFunnelReportSection ReportSection { get; } = new AdvocacyReportSection();

    /// <summary>Computes the metrics from events.</summary>
    /// <param name="events">The events, in any order.</param>
    /// <param name="currency">The currency of every amount.</param>
    /// <returns>The metrics.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> or one of them is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">An amount is in another currency.</exception>
    public static AdvocacyMetrics Compute(IEnumerable<FunnelEvent> events, Currency currency)
    {
        ArgumentNullException.ThrowIfNull(events);
        var builder = new AdvocacyMetricsBuilder(new FunnelReportSettings { Currency = currency });
        var seen = new HashSet<EventId>();
        foreach (FunnelEvent e in events)
        {
            ArgumentNullException.ThrowIfNull(e, nameof(events));
            if (e.Id == default || seen.Add(e.Id))
            {
                builder.Add(e);
            }
        }

        return builder.Build();
    }
}

/// <summary>Accumulates <see cref="AdvocacyMetrics"/> one event at a time (the caller removes replays).</summary>
internal sealed class AdvocacyMetricsBuilder(FunnelReportSettings settings) : IFunnelReportSectionBuilder
{
    private readonly Currency currency = settings.Currency;
    private readonly Dictionary<OrderId, (LeadId Lead, Instant At, long Total)> orders = [];
    private readonly Dictionary<OrderId, long> refunds = [];
    private readonly HashSet<OrderId> affiliateOrders = [];
    private readonly Dictionary<LeadId, Instant> referredAt = [];
    private long commission;

    public void Add(FunnelEvent e)
    {
        switch (e)
        {
            case OrderPlaced o:
                orders.TryAdd(o.Order, (o.LeadId, o.OccurredAt, Minor(o.Total, o)));
                break;
            case RefundIssued r:
                refunds[r.Order] = checked(refunds.GetValueOrDefault(r.Order) + Minor(r.Amount, r));
                break;
            case AffiliateSaleAttributed a:
                affiliateOrders.Add(a.Order);
                break;
            case ReferralMade m:
                referredAt[m.Referred] = referredAt.TryGetValue(m.Referred, out Instant at) && at <= m.OccurredAt ? at : m.OccurredAt;
                break;
            case CommissionEarned c:
                commission = checked(commission + Minor(c.Amount, c));
                break;
            case CommissionClawedBack c:
                commission = checked(commission - Minor(c.Amount, c));
                break;
        }
    }

    object IFunnelReportSectionBuilder.Build() => Build();

    public AdvocacyMetrics Build()
    {
        long net = 0, affiliate = 0, referral = 0;
        var firstOrder = new Dictionary<LeadId, Instant>();
        var customerNet = new Dictionary<LeadId, long>();
        foreach (var (id, (lead, at, total)) in orders)
        {
            long value = checked(total - refunds.GetValueOrDefault(id));
            net = checked(net + value);
            if (affiliateOrders.Contains(id))
            {
                affiliate = checked(affiliate + value);
            }

            if (referredAt.TryGetValue(lead, out Instant referred) && at >= referred)
            {
                referral = checked(referral + value);
            }

            firstOrder[lead] = firstOrder.TryGetValue(lead, out Instant first) && first <= at ? first : at;
            customerNet[lead] = checked(customerNet.GetValueOrDefault(lead) + value);
        }

        ImmutableArray<CohortValue> cohorts = [.. firstOrder
            .GroupBy(p => p.Value.InUtc().Date.ToYearMonth())
            .OrderBy(g => g.Key)
            .Select(g => new CohortValue(g.Key, g.Count(), new Money(g.Sum(p => customerNet[p.Key]), currency)))];
        return new AdvocacyMetrics
        {
            Cohorts = cohorts,
            NetRevenue = new Money(net, currency),
            AffiliateRevenue = new Money(affiliate, currency),
            ReferralRevenue = new Money(referral, currency),
            AffiliateCommission = new Money(commission, currency),
        };
    }

    private long Minor(Money amount, FunnelEvent source) => settings.ToReportCurrency(amount, source).MinorUnits;
}

/// <summary>The <c>advocacy</c> section of the funnel report.</summary>
internal sealed class AdvocacyReportSection : IFunnelReportSection
{
    public string Key => "advocacy";

    public IFunnelReportSectionBuilder CreateBuilder(FunnelReportSettings settings) => new AdvocacyMetricsBuilder(settings);
}
