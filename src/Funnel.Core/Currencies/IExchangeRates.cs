using NodaTime;

namespace Funnel.Currencies;

/// <summary>The seam to exchange rates: how many units of one currency one unit of another buys on a date.</summary>
/// <remarks>
/// <para>
/// Funnel does no I/O for rates: <see cref="FixedExchangeRates"/> is a table configured in code, and an adapter can
/// serve a central bank's or a provider's rates. Reports are computed without waiting, so the lookup is synchronous:
/// an adapter that reads rates over the network loads them ahead (say daily) and answers from memory.
/// </para>
/// <para>
/// Register one in the container (<c>services.AddSingleton&lt;IExchangeRates&gt;(…)</c>) and the reporter of
/// <c>AddFunnel</c> converts amounts in other currencies into the report's currency with it
/// (<see cref="Kpis.FunnelReportSettings.ExchangeRates"/>).
/// </para>
/// </remarks>
/// <threadsafety>Implementations must be safe to share between threads.</threadsafety>
public interface IExchangeRates
{
    /// <summary>Finds the rate from one currency to another on a date.</summary>
    /// <param name="source">The currency converted from.</param>
    /// <param name="target">The currency converted to.</param>
    /// <param name="asOf">The date the rate applies on.</param>
    /// <returns>The major units of <paramref name="target"/> one major unit of <paramref name="source"/> buys (1.1650 for GBP → EUR), or <see langword="null"/> when the rate is not known.</returns>
    decimal? FindRate(Currency source, Currency target, LocalDate asOf);
}

/// <summary>Converts money between currencies at a rate, exactly and with one documented rounding.</summary>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class CurrencyConversion
{
    /// <summary>Converts an amount at a rate.</summary>
    /// <param name="amount">The amount.</param>
    /// <param name="rate">The major units of <paramref name="target"/> one major unit of the amount's currency buys; positive.</param>
    /// <param name="target">The currency converted to.</param>
    /// <returns>
    /// <paramref name="amount"/> itself when it is in <paramref name="target"/>; otherwise minor units × rate ×
    /// 10^(target exponent − source exponent), rounded half to even to a whole minor unit of <paramref name="target"/>
    /// (€10.00 at 163.5 is ¥1,635; ¥1,000 at 0.0061 is €6.10).
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is not positive.</exception>
    /// <exception cref="OverflowException">The converted amount does not fit in a <see cref="long"/> of minor units.</exception>
    public static Money Convert(Money amount, decimal rate, Currency target)
    {
        if (amount.Currency == target)
        {
            return amount;
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        decimal value = amount.MinorUnits * rate;
        int shift = target.Exponent - amount.Currency.Exponent;
        for (int i = 0; i < shift; i++)
        {
            value *= 10m;
        }

        for (int i = 0; i > shift; i--)
        {
            value /= 10m;
        }

        return new Money(decimal.ToInt64(decimal.Round(value, 0, MidpointRounding.ToEven)), target);
    }

    /// <summary>Converts an amount at the rate of a date.</summary>
    /// <param name="rates">The exchange rates.</param>
    /// <param name="amount">The amount.</param>
    /// <param name="target">The currency converted to.</param>
    /// <param name="asOf">The date whose rate applies.</param>
    /// <returns>The converted amount, rounded as <see cref="Convert(Money, decimal, Currency)"/> does.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="rates"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="rates"/> has no positive rate for the pair on <paramref name="asOf"/>; the message names the pair and the date.</exception>
    /// <exception cref="OverflowException">The converted amount does not fit in a <see cref="long"/> of minor units.</exception>
    public static Money Convert(IExchangeRates rates, Money amount, Currency target, LocalDate asOf)
    {
        ArgumentNullException.ThrowIfNull(rates);
        return amount.Currency == target ? amount : Convert(amount, RequireRate(rates, amount.Currency, target, asOf), target);
    }

    /// <summary>Returns the rate for a pair on a date, or throws naming the pair and the date.</summary>
    /// <param name="rates">The exchange rates.</param>
    /// <param name="source">The currency converted from.</param>
    /// <param name="target">The currency converted to.</param>
    /// <param name="asOf">The date whose rate applies.</param>
    /// <returns>The positive rate.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="rates"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="rates"/> has no positive rate for the pair on <paramref name="asOf"/>.</exception>
    public static decimal RequireRate(IExchangeRates rates, Currency source, Currency target, LocalDate asOf)
    {
        ArgumentNullException.ThrowIfNull(rates);
        decimal? found = rates.FindRate(source, target, asOf);
        return found is > 0m
            ? found.Value
            : throw new InvalidOperationException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"No exchange rate from {source.Code} to {target.Code} on {asOf:uuuu'-'MM'-'dd}{(found is null ? "" : $" (got {found})")}."));
    }
}
