using NodaTime;

namespace Funnel.Subscriptions;

/// <summary>What a plan change mid-period costs: the unused part of the old price credited, the rest of the period at the new price charged.</summary>
/// <param name="Credit">The unused part of the old price, zero or positive.</param>
/// <param name="Charge">The new price for the rest of the period, zero or positive.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct ProrationQuote(Money Credit, Money Charge)
{
    /// <summary>Gets what the change costs: <see cref="Charge"/> − <see cref="Credit"/>; positive for an upgrade, negative for a downgrade.</summary>
    public Money Net => Charge - Credit;
}

/// <summary>Proration: exact integer arithmetic on minor units for the part of a period that is left.</summary>
/// <remarks>
/// The part left is measured in nanoseconds: <c>(periodEnd − at) / (periodEnd − periodStart)</c>. A price's share of it
/// is <c>price × left / length</c> computed exactly (128-bit) and rounded once, half to even, to the minor unit. Credit
/// and charge use the same rule, so changing from A to B and back at the same instant nets exactly zero, each amount
/// is at most its price, and each is within half a minor unit of the exact share.
/// </remarks>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class Proration
{
    /// <summary>Returns the share of <paramref name="price"/> for the part of a period left at <paramref name="at"/>.</summary>
    /// <param name="price">The price of the whole period.</param>
    /// <param name="periodStart">The start of the period.</param>
    /// <param name="periodEnd">The end of the period.</param>
    /// <param name="at">The instant of the change; clamped into the period.</param>
    /// <returns><c>price × (periodEnd − at) / (periodEnd − periodStart)</c>, rounded half to even; zero for an empty period.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="price"/> is negative, or <paramref name="periodEnd"/> is before <paramref name="periodStart"/>.</exception>
    public static Money Unused(Money price, Instant periodStart, Instant periodEnd, Instant at)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(price.MinorUnits, nameof(price));
        if (periodEnd < periodStart)
        {
            throw new ArgumentOutOfRangeException(nameof(periodEnd), periodEnd, "The period ends before it starts.");
        }

        Instant clamped = at < periodStart ? periodStart : at > periodEnd ? periodEnd : at;
        Int128 length = (periodEnd - periodStart).ToInt64Nanoseconds();
        if (length == 0)
        {
            return new Money(0, price.Currency);
        }

        Int128 left = (periodEnd - clamped).ToInt64Nanoseconds();
        Int128 numerator = price.MinorUnits * left;
        Int128 quotient = numerator / length;
        Int128 remainder = numerator % length;
        Int128 twice = remainder * 2;
        if (twice > length || (twice == length && !Int128.IsEvenInteger(quotient)))
        {
            quotient++;
        }

        return new Money((long)quotient, price.Currency);
    }

    /// <summary>Returns what changing from <paramref name="oldPrice"/> to <paramref name="newPrice"/> at <paramref name="at"/> credits and charges.</summary>
    /// <param name="oldPrice">The old plan's price per period.</param>
    /// <param name="newPrice">The new plan's price per period.</param>
    /// <param name="periodStart">The start of the current period.</param>
    /// <param name="periodEnd">The end of the current period, which the change keeps.</param>
    /// <param name="at">The instant of the change.</param>
    /// <returns>The credit (<see cref="Unused"/> of the old price) and the charge (<see cref="Unused"/> of the new price).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A price is negative, or the period ends before it starts.</exception>
    /// <exception cref="InvalidOperationException">The currencies differ.</exception>
    public static ProrationQuote Change(Money oldPrice, Money newPrice, Instant periodStart, Instant periodEnd, Instant at)
    {
        if (oldPrice.Currency != newPrice.Currency)
        {
            throw new InvalidOperationException($"Cannot prorate between {oldPrice.Currency} and {newPrice.Currency}.");
        }

        return new ProrationQuote(Unused(oldPrice, periodStart, periodEnd, at), Unused(newPrice, periodStart, periodEnd, at));
    }
}
