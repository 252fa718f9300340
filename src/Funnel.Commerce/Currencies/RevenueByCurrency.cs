using System.Collections.Immutable;
using System.Globalization;
using Funnel.Events;
using Funnel.Kpis;
using NodaTime;

namespace Funnel.Currencies;

/// <summary>The money of one currency in a <see cref="RevenueByCurrency"/> report.</summary>
/// <param name="Currency">The currency every amount is in.</param>
/// <param name="Orders">The number of orders placed in it (<see cref="OrderPlaced"/>).</param>
/// <param name="Ordered">The sum of those orders' totals, tax included, before refunds.</param>
/// <param name="Collected">The sum of <see cref="PaymentSucceeded"/> amounts (every installment counts).</param>
/// <param name="Refunded">The sum of <see cref="RefundIssued"/> amounts.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct CurrencyRevenue(Currency Currency, long Orders, Money Ordered, Money Collected, Money Refunded)
{
    /// <summary>Gets the money kept: <see cref="Collected"/> minus <see cref="Refunded"/>.</summary>
    public Money Net => Collected - Refunded;
}

/// <summary>One currency of a <see cref="CombinedRevenue"/>: the rate used and its amounts converted.</summary>
/// <param name="Source">The currency's own figures.</param>
/// <param name="Rate">The rate from <see cref="CurrencyRevenue.Currency"/> to the combined currency (1 for the same currency).</param>
/// <param name="Ordered">The ordered total converted.</param>
/// <param name="Collected">The collected total converted.</param>
/// <param name="Refunded">The refunded total converted.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct ConvertedRevenue(CurrencyRevenue Source, decimal Rate, Money Ordered, Money Collected, Money Refunded);

/// <summary>Revenue in all currencies combined into one, with the conversion of each currency.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record CombinedRevenue
{
    /// <summary>Gets the currency of the combined figures.</summary>
    public required Currency Currency { get; init; }

    /// <summary>Gets the date whose rates were used.</summary>
    public required LocalDate RatesOn { get; init; }

    /// <summary>Gets each currency's conversion, ordered by currency code.</summary>
    public required ImmutableArray<ConvertedRevenue> Conversions { get; init; }

    /// <summary>Gets the sum of the converted ordered totals.</summary>
    public required Money Ordered { get; init; }

    /// <summary>Gets the sum of the converted collected totals.</summary>
    public required Money Collected { get; init; }

    /// <summary>Gets the sum of the converted refunded totals.</summary>
    public required Money Refunded { get; init; }

    /// <summary>Gets <see cref="Collected"/> minus <see cref="Refunded"/>.</summary>
    public Money Net => Collected - Refunded;
}

/// <summary>Revenue per currency: orders, money collected and refunded in each currency sold in, never mixed.</summary>
/// <remarks>
/// <para>
/// Computed from events, each counted once per <see cref="FunnelEvent.Id"/>: <see cref="OrderPlaced"/> counts an order
/// and its total in the order's currency, <see cref="PaymentSucceeded"/> and <see cref="RefundIssued"/> add their amount
/// to the currency they are in. Each currency's figures stay exact in its own minor units.
/// </para>
/// <para>
/// For one figure across currencies, <see cref="Combine"/> converts each currency's totals once, at the rate of one
/// date from an <see cref="IExchangeRates"/>, rounding half to even to the minor units of the target currency, and adds
/// the converted amounts. Converting the totals rather than each payment keeps the rounding to one step per currency.
/// </para>
/// <para>
/// Compute it with <see cref="Create"/>, or list <see cref="ReportSection"/> in <see cref="FunnelReportSettings.Sections"/>
/// and read it with <c>report.Section&lt;RevenueByCurrency&gt;()</c>.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record RevenueByCurrency
{
    /// <summary>The key of the report section in <see cref="FunnelReport.Sections"/>.</summary>
    public const string SectionKey = "revenue-by-currency";

    /// <summary>Gets the figures of each currency with at least one order, payment or refund, ordered by currency code.</summary>
    public required ImmutableArray<CurrencyRevenue> Currencies { get; init; }

    /// <summary>Gets the report section that computes this report, under the key <see cref="SectionKey"/>.</summary>
    public static IFunnelReportSection ReportSection { get; } = new RevenueByCurrencySection();

    /// <summary>Computes the report from funnel events.</summary>
    /// <param name="events">The events, in any order; other event types are ignored, and an event seen twice (same id) counts once.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is <see langword="null"/>.</exception>
    /// <exception cref="OverflowException">A total does not fit in a <see cref="long"/> of minor units.</exception>
    public static RevenueByCurrency Create(IEnumerable<FunnelEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var builder = new RevenueByCurrencyBuilder();
        var seen = new HashSet<EventId>();
        foreach (FunnelEvent e in events)
        {
            if (seen.Add(e.Id))
            {
                builder.Add(e);
            }
        }

        return builder.Build();
    }

    /// <summary>Returns the figures of one currency.</summary>
    /// <param name="currency">The currency.</param>
    /// <returns>Its figures, or zeros when nothing was sold in it.</returns>
    public CurrencyRevenue In(Currency currency)
    {
        foreach (CurrencyRevenue revenue in Currencies)
        {
            if (revenue.Currency == currency)
            {
                return revenue;
            }
        }

        return new CurrencyRevenue(currency, 0, Money.Zero(currency), Money.Zero(currency), Money.Zero(currency));
    }

    /// <summary>Combines every currency into one at the rates of a date.</summary>
    /// <param name="rates">The exchange rates.</param>
    /// <param name="target">The currency of the combined figure, such as the seller's accounting currency.</param>
    /// <param name="ratesOn">The date whose rates apply, such as the last day of the period reported.</param>
    /// <returns>The combined figures, with each currency's rate and converted amounts.</returns>
    /// <remarks>
    /// Each currency's ordered, collected and refunded totals are converted once: minor units × rate ×
    /// 10^(target exponent − source exponent), rounded half to even to a whole minor unit of <paramref name="target"/>.
    /// The combined figures are the sums of the converted amounts. A currency equal to <paramref name="target"/> is
    /// taken as it is, without asking <paramref name="rates"/>.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="rates"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="target"/> is <c>default(Currency)</c>.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="rates"/> has no positive rate from a currency of the report to <paramref name="target"/> on <paramref name="ratesOn"/>; the message names the pair.</exception>
    /// <exception cref="OverflowException">A converted amount does not fit in a <see cref="long"/> of minor units.</exception>
    public CombinedRevenue Combine(IExchangeRates rates, Currency target, LocalDate ratesOn)
    {
        ArgumentNullException.ThrowIfNull(rates);
        if (target == default)
        {
            throw new ArgumentException("The target currency is required; default(Currency) is no currency.", nameof(target));
        }

        var conversions = ImmutableArray.CreateBuilder<ConvertedRevenue>(Currencies.Length);
        Money ordered = Money.Zero(target), collected = Money.Zero(target), refunded = Money.Zero(target);
        foreach (CurrencyRevenue revenue in Currencies)
        {
            decimal rate = revenue.Currency == target ? 1m : CurrencyConversion.RequireRate(rates, revenue.Currency, target, ratesOn);
            var converted = new ConvertedRevenue(revenue, rate, CurrencyConversion.Convert(revenue.Ordered, rate, target),
                CurrencyConversion.Convert(revenue.Collected, rate, target), CurrencyConversion.Convert(revenue.Refunded, rate, target));
            conversions.Add(converted);
            ordered += converted.Ordered;
            collected += converted.Collected;
            refunded += converted.Refunded;
        }

        return new CombinedRevenue
        {
            Currency = target,
            RatesOn = ratesOn,
            Conversions = conversions.MoveToImmutable(),
            Ordered = ordered,
            Collected = collected,
            Refunded = refunded,
        };
    }
}

/// <summary>Accumulates <see cref="RevenueByCurrency"/> from the events a reporter reads.</summary>
internal sealed class RevenueByCurrencyBuilder : IFunnelReportSectionBuilder
{
    private readonly Dictionary<Currency, long[]> totals = [];

    public void Add(FunnelEvent funnelEvent)
    {
        switch (funnelEvent)
        {
            case OrderPlaced o:
                long[] t = Totals(o.Total.Currency);
                t[0]++;
                t[1] = checked(t[1] + o.Total.MinorUnits);
                break;
            case PaymentSucceeded p:
                long[] c = Totals(p.Amount.Currency);
                c[2] = checked(c[2] + p.Amount.MinorUnits);
                break;
            case RefundIssued r:
                long[] f = Totals(r.Amount.Currency);
                f[3] = checked(f[3] + r.Amount.MinorUnits);
                break;
        }
    }

    object IFunnelReportSectionBuilder.Build() => Build();

    public RevenueByCurrency Build() => new()
    {
        Currencies = [.. totals
            .OrderBy(p => p.Key.Code, StringComparer.Ordinal)
            .Select(p => new CurrencyRevenue(p.Key, p.Value[0], new Money(p.Value[1], p.Key), new Money(p.Value[2], p.Key), new Money(p.Value[3], p.Key)))],
    };

    /// <summary>Orders, ordered, collected and refunded minor units of a currency.</summary>
    private long[] Totals(Currency currency)
    {
        if (!totals.TryGetValue(currency, out long[]? t))
        {
            t = new long[4];
            totals[currency] = t;
        }

        return t;
    }
}

/// <summary>The <c>revenue-by-currency</c> section of the funnel report.</summary>
internal sealed class RevenueByCurrencySection : IFunnelReportSection
{
    public string Key => RevenueByCurrency.SectionKey;

    public IFunnelReportSectionBuilder CreateBuilder(FunnelReportSettings settings) => new RevenueByCurrencyBuilder();
}
