namespace Funnel.Subscriptions;

/// <summary>How often a subscription is billed.</summary>
public enum BillingInterval
{
    /// <summary>Once a month, on the same day of the month as the period started (clamped to the month's last day).</summary>
    Month = 0,

    /// <summary>Once a year, on the same date as the period started (Feb 29 becomes Feb 28).</summary>
    Year = 1,
}

/// <summary>Recurring-revenue arithmetic shared by the subscription engine and its metrics.</summary>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class RecurringRevenue
{
    /// <summary>Returns what a price billed every <paramref name="interval"/> is worth per month, the unit of MRR.</summary>
    /// <param name="price">The price of one billing period.</param>
    /// <param name="interval">The billing interval.</param>
    /// <returns>
    /// <paramref name="price"/> for a monthly plan; a twelfth of it for a yearly plan, rounded half to even to the
    /// currency's minor unit ($990.00 a year is $82.50 a month; ¥10,000 a year is ¥833).
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is not defined.</exception>
    public static Money MonthlyAmount(Money price, BillingInterval interval) => interval switch
    {
        BillingInterval.Month => price,
        BillingInterval.Year => new Money((long)Math.Round(price.MinorUnits / 12m, MidpointRounding.ToEven), price.Currency),
        _ => throw new ArgumentOutOfRangeException(nameof(interval), interval, "The billing interval is not defined."),
    };
}
