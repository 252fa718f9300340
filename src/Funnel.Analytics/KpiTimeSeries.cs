using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Kpis;
using NodaTime;

namespace Funnel.Analytics;

/// <summary>The length of the periods of a KPI time series.</summary>
public enum KpiPeriod
{
    /// <summary>Calendar days.</summary>
    Day = 0,

    /// <summary>Weeks starting on Monday.</summary>
    Week = 1,

    /// <summary>Calendar months.</summary>
    Month = 2,
}

/// <summary>The KPIs of one period (and, in a per-channel series, one first-touch channel).</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record KpiPoint
{
    /// <summary>Gets the first day of the period.</summary>
    public required LocalDate PeriodStart { get; init; }

    /// <summary>Gets the lead's first-touch channel, or <see langword="null"/> for all channels (and, in a per-channel series, for leads whose touches carry none).</summary>
    public string? Channel { get; init; }

    /// <summary>Gets the leads whose first event falls in the period.</summary>
    public required long NewVisitors { get; init; }

    /// <summary>Gets the leads whose first opt-in falls in the period.</summary>
    public required long NewLeads { get; init; }

    /// <summary>Gets the leads whose first order falls in the period.</summary>
    public required long NewCustomers { get; init; }

    /// <summary>Gets the orders placed in the period.</summary>
    public required long Orders { get; init; }

    /// <summary>Gets the order revenue of the period.</summary>
    public required Money Revenue { get; init; }

    /// <summary>Gets the refunds issued in the period.</summary>
    public required Money Refunds { get; init; }

    /// <summary>Gets the ad spend of the period (for the channel, in a per-channel series).</summary>
    public required Money AdSpend { get; init; }

    /// <summary>Gets new customers ÷ new visitors.</summary>
    public Ratio ConversionRate => Kpi.ConversionRate(NewCustomers, NewVisitors);

    /// <summary>Gets ad spend ÷ new customers, or <see langword="null"/> without new customers.</summary>
    public Money? CustomerAcquisitionCost => Kpi.CustomerAcquisitionCost(AdSpend, NewCustomers);

    /// <summary>Gets revenue ÷ ad spend.</summary>
    public Ratio ReturnOnAdSpend => Kpi.ReturnOnAdSpend(Revenue, AdSpend);

    /// <summary>Gets revenue ÷ orders, or <see langword="null"/> without orders.</summary>
    public Money? AverageOrderValue => Kpi.AverageOrderValue(Revenue, Orders);

    /// <summary>
    /// Gets the payback period of the period's spend: the shortest time <c>t</c> such that the orders minus refunds
    /// the period's new visitors (of the channel, in a per-channel series) made within <c>t</c> of their first event,
    /// at any later date, add up to <see cref="AdSpend"/>.
    /// </summary>
    /// <value><see langword="null"/> without ad spend, or while their revenue has not covered it.</value>
    public Duration? PaybackPeriod { get; init; }
}

/// <summary>The lifetime value of the customers acquired in one period (their first order's period).</summary>
/// <param name="CohortStart">The first day of the acquisition period.</param>
/// <param name="Customers">The customers whose first order falls in the period.</param>
/// <param name="NetRevenue">All their order revenue, at any time, minus their refunds.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record CohortLifetimeValue(LocalDate CohortStart, long Customers, Money NetRevenue)
{
    /// <summary>Gets the average net revenue per customer of the cohort, rounded half away from zero.</summary>
    public Money? LifetimeValue => Customers == 0 ? null : NetRevenue.Divide(Customers, MidpointRounding.AwayFromZero);
}

/// <summary>KPIs per day, week or month, overall and per channel, and CLTV by acquisition cohort.</summary>
/// <remarks>
/// Periods are calendar periods in the given time zone. Visitors, leads and customers are counted once, in the
/// period of their first event, first opt-in and first order; a lead's channel is the channel of its first event
/// that has one (first touch). Ad spend is counted in the period and channel it was recorded for.
/// </remarks>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class KpiTimeSeries
{
    /// <summary>Computes the KPIs per period.</summary>
    /// <param name="store">The events.</param>
    /// <param name="period">The period length.</param>
    /// <param name="zone">The zone whose calendar defines the periods; defaults to UTC.</param>
    /// <param name="byChannel">Whether to return one point per period and first-touch channel instead of one per period.</param>
    /// <returns>The points, by period, then channel.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="store"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="period"/> is not a defined <see cref="KpiPeriod"/>.</exception>
    public static ImmutableArray<KpiPoint> Compute(AnalyticsEventStore store, KpiPeriod period, DateTimeZone? zone = null, bool byChannel = false)
    {
        ArgumentNullException.ThrowIfNull(store);
        CheckPeriod(period);
        zone ??= DateTimeZone.Utc;
        var rows = new Dictionary<(LocalDate, int), long[]>();
        var payments = new Dictionary<(LocalDate, int), List<(long Offset, long Amount)>>();
        bool[] optIn = store.TermsOfType(EventTypes.OptedIn);
        bool[] order = store.TermsOfType(EventTypes.OrderPlaced);
        bool[] refund = store.TermsOfType(EventTypes.RefundIssued);
        int[] channels = store.Dimensions[AnalyticsEventStore.ChannelDimension];
        int money = 0;
        for (int lead = 0; lead < store.LeadCount; lead++)
        {
            int b = store.Offsets[lead];
            int e = store.Offsets[lead + 1];
            if (b == e)
            {
                continue;
            }

            int channel = 0;
            if (byChannel)
            {
                for (int i = b; i < e && channel == 0; i++)
                {
                    channel = channels[i];
                }
            }

            (LocalDate, int) cohort = (Start(store.Times[b], period, zone), channel);
            Row(rows, cohort.Item1, channel)[0]++;
            bool optedIn = false;
            bool ordered = false;
            for (int i = b; i < e; i++)
            {
                int term = store.Terms[i];
                long amount = 0;
                while (money < store.MoneyEvents.Length && store.MoneyEvents[money] < i)
                {
                    money++;
                }

                if (money < store.MoneyEvents.Length && store.MoneyEvents[money] == i)
                {
                    amount = store.MoneyAmounts[money];
                }

                if (optIn[term] && !optedIn)
                {
                    optedIn = true;
                    Row(rows, Start(store.Times[i], period, zone), channel)[1]++;
                }
                else if (order[term])
                {
                    long[] row = Row(rows, Start(store.Times[i], period, zone), channel);
                    row[3]++;
                    row[4] += amount;
                    Payments(payments, cohort).Add((store.Times[i] - store.Times[b], amount));
                    if (!ordered)
                    {
                        ordered = true;
                        row[2]++;
                    }
                }
                else if (refund[term])
                {
                    Row(rows, Start(store.Times[i], period, zone), channel)[5] += amount;
                    Payments(payments, cohort).Add((store.Times[i] - store.Times[b], -amount));
                }
            }
        }

        for (int s = 0; s < store.SpendAmounts.Length; s++)
        {
            Row(rows, Start(store.SpendTimes[s], period, zone), byChannel ? store.SpendChannels[s] : 0)[6] += store.SpendAmounts[s];
        }

        Currency currency = store.Currency;
        string?[] names = store.DimensionValues[AnalyticsEventStore.ChannelDimension];
        return
        [
            .. rows.OrderBy(r => r.Key.Item1).ThenBy(r => names[r.Key.Item2], StringComparer.Ordinal).Select(r => new KpiPoint
            {
                PeriodStart = r.Key.Item1,
                Channel = names[r.Key.Item2],
                NewVisitors = r.Value[0],
                NewLeads = r.Value[1],
                NewCustomers = r.Value[2],
                Orders = r.Value[3],
                Revenue = Money.FromMinorUnits(r.Value[4], currency),
                Refunds = Money.FromMinorUnits(r.Value[5], currency),
                AdSpend = Money.FromMinorUnits(r.Value[6], currency),
                PaybackPeriod = PaybackCurve.Find(payments.TryGetValue(r.Key, out var paid) ? paid.OrderBy(p => p.Offset) : [], r.Value[6]),
            }),
        ];
    }

    /// <summary>Computes the lifetime value of customers by the period of their first order.</summary>
    /// <param name="store">The events.</param>
    /// <param name="period">The cohort length.</param>
    /// <param name="zone">The zone whose calendar defines the periods; defaults to UTC.</param>
    /// <returns>One cohort per period with customers, oldest first.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="store"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="period"/> is not a defined <see cref="KpiPeriod"/>.</exception>
    public static ImmutableArray<CohortLifetimeValue> LifetimeValueByCohort(AnalyticsEventStore store, KpiPeriod period, DateTimeZone? zone = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        CheckPeriod(period);
        zone ??= DateTimeZone.Utc;
        bool[] order = store.TermsOfType(EventTypes.OrderPlaced);
        bool[] refund = store.TermsOfType(EventTypes.RefundIssued);
        var cohorts = new SortedDictionary<LocalDate, (long Customers, long Net)>();
        int money = 0;
        for (int lead = 0; lead < store.LeadCount; lead++)
        {
            LocalDate? cohort = null;
            long net = 0;
            for (int i = store.Offsets[lead]; i < store.Offsets[lead + 1]; i++)
            {
                while (money < store.MoneyEvents.Length && store.MoneyEvents[money] < i)
                {
                    money++;
                }

                long amount = money < store.MoneyEvents.Length && store.MoneyEvents[money] == i ? store.MoneyAmounts[money] : 0;
                int term = store.Terms[i];
                if (order[term])
                {
                    cohort ??= Start(store.Times[i], period, zone);
                    net += amount;
                }
                else if (refund[term])
                {
                    net -= amount;
                }
            }

            if (cohort is LocalDate date)
            {
                cohorts.TryGetValue(date, out var c);
                cohorts[date] = (c.Customers + 1, c.Net + net);
            }
        }

        return [.. cohorts.Select(c => new CohortLifetimeValue(c.Key, c.Value.Customers, Money.FromMinorUnits(c.Value.Net, store.Currency)))];
    }

    private static void CheckPeriod(KpiPeriod period)
    {
        if (!Enum.IsDefined(period))
        {
            throw new ArgumentOutOfRangeException(nameof(period), period, "The period must be Day, Week or Month.");
        }
    }

    internal static LocalDate Start(long ticks, KpiPeriod period, DateTimeZone zone)
    {
        LocalDate date = Instant.FromUnixTimeTicks(ticks).InZone(zone).Date;
        return period switch
        {
            KpiPeriod.Day => date,
            KpiPeriod.Week => date.PlusDays(-((int)date.DayOfWeek - 1)),
            _ => new LocalDate(date.Year, date.Month, 1),
        };
    }

    private static List<(long Offset, long Amount)> Payments(Dictionary<(LocalDate, int), List<(long Offset, long Amount)>> payments, (LocalDate, int) cohort)
    {
        if (!payments.TryGetValue(cohort, out var list))
        {
            list = [];
            payments.Add(cohort, list);
        }

        return list;
    }

    private static long[] Row(Dictionary<(LocalDate, int), long[]> rows, LocalDate start, int channel)
    {
        if (!rows.TryGetValue((start, channel), out long[]? row))
        {
            row = new long[7];
            rows.Add((start, channel), row);
        }

        return row;
    }
}
