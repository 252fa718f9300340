namespace Funnel.Kpis;

/// <summary>What customers bought over one period (a month, a quarter, a year: the caller chooses and keeps to it).</summary>
/// <param name="Revenue">The revenue from these customers in the period.</param>
/// <param name="Orders">The number of orders they placed in the period.</param>
/// <param name="Customers">The number of distinct customers.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record CustomerHistory(Money Revenue, long Orders, long Customers);

/// <summary>Estimates customer lifetime value (CLTV) from what customers bought over one period.</summary>
/// <remarks>Implementations are pure. Register your own to change the model the funnel report uses.</remarks>
public interface ICustomerLifetimeValueModel
{
    /// <summary>Estimates the value of one customer over their whole relationship with the creator.</summary>
    /// <param name="history">What customers bought over one period.</param>
    /// <returns>The estimated lifetime value per customer, or <see langword="null"/> when it is not defined (no customers or orders).</returns>
    Money? Estimate(CustomerHistory history);
}

/// <summary>The simple CLTV model: average order value × purchase frequency × customer lifespan.</summary>
/// <remarks>
/// <para>CLTV = AOV × F × L, where AOV = revenue ÷ orders, F = orders ÷ customers (purchases per customer per
/// period) and L is the expected lifespan in periods. Since AOV × F = revenue ÷ customers, the estimate is
/// revenue ÷ customers × L, rounded to whole minor units half away from zero.</para>
/// <para>Example: 50 customers, 50 orders, $24,850 in one period, L = 3 → $497 × 1 × 3 = $1,491.</para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class SimpleCustomerLifetimeValueModel : ICustomerLifetimeValueModel
{
    /// <summary>Initializes the model.</summary>
    /// <param name="lifespanPeriods">How many periods a customer stays, on average; greater than zero.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lifespanPeriods"/> is not greater than zero.</exception>
    public SimpleCustomerLifetimeValueModel(decimal lifespanPeriods)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lifespanPeriods);
        LifespanPeriods = lifespanPeriods;
    }

    /// <summary>Gets the expected customer lifespan, in periods.</summary>
    public decimal LifespanPeriods { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="history"/> is <see langword="null"/>.</exception>
    public Money? Estimate(CustomerHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Customers <= 0 || history.Orders <= 0)
        {
            return null;
        }

        // AOV × F × L = (revenue ÷ orders) × (orders ÷ customers) × L = revenue × L ÷ customers: one rounding.
        return history.Revenue.Multiply(LifespanPeriods / history.Customers, MidpointRounding.AwayFromZero);
    }
}

/// <summary>The margin and churn CLTV model: average revenue per customer per period × gross margin ÷ churn rate.</summary>
/// <remarks>
/// <para>CLTV = ARPC × M ÷ C, where ARPC = revenue ÷ customers in the period, M is the gross margin (0 to 1) and C
/// the share of customers lost per period (0 to 1, exclusive of 0); 1 ÷ C is the expected lifespan in periods.
/// The result is rounded to whole minor units half away from zero.</para>
/// <para>Example: $49.70 per customer per month, 90 % margin, 5 % monthly churn → $49.70 × 0.9 ÷ 0.05 = $894.60.</para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class MarginChurnCustomerLifetimeValueModel : ICustomerLifetimeValueModel
{
    /// <summary>Initializes the model.</summary>
    /// <param name="grossMargin">The gross margin, from 0 to 1.</param>
    /// <param name="churnRatePerPeriod">The share of customers lost per period, greater than 0 and at most 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public MarginChurnCustomerLifetimeValueModel(decimal grossMargin, decimal churnRatePerPeriod)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(grossMargin);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(grossMargin, 1m);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(churnRatePerPeriod);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(churnRatePerPeriod, 1m);
        GrossMargin = grossMargin;
        ChurnRatePerPeriod = churnRatePerPeriod;
    }

    /// <summary>Gets the gross margin, from 0 to 1.</summary>
    public decimal GrossMargin { get; }

    /// <summary>Gets the share of customers lost per period.</summary>
    public decimal ChurnRatePerPeriod { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="history"/> is <see langword="null"/>.</exception>
    public Money? Estimate(CustomerHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        return history.Customers <= 0
            ? null
            : history.Revenue.Multiply(GrossMargin / ChurnRatePerPeriod / history.Customers, MidpointRounding.AwayFromZero);
    }
}
