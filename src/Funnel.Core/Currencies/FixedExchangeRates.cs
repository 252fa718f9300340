using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Currencies;

/// <summary>Exchange rates from a table configured in code, such as the rates a seller books their accounts at.</summary>
/// <remarks>
/// <para>
/// Each entry is a rate from one currency to another, valid from a date (or on every date) until a later entry of the
/// same pair takes over. A currency converts to itself at 1 without an entry. No inverse is derived: list GBP → EUR and
/// EUR → GBP separately when both are needed, so no rate is ever the rounded reciprocal of another.
/// </para>
/// <code>
/// var rates = FixedExchangeRates.Empty
///     .With(Currency.GBP, Currency.EUR, 1.1650m)
///     .With(Currency.USD, Currency.EUR, 0.9210m);
/// </code>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class FixedExchangeRates : IExchangeRates
{
    private readonly ImmutableDictionary<(Currency Source, Currency Target), ImmutableSortedDictionary<LocalDate, decimal>> rates;

    private FixedExchangeRates(ImmutableDictionary<(Currency Source, Currency Target), ImmutableSortedDictionary<LocalDate, decimal>> rates) =>
        this.rates = rates;

    /// <summary>Gets a table with no rates: only a currency to itself converts.</summary>
    public static FixedExchangeRates Empty { get; } = new(ImmutableDictionary<(Currency, Currency), ImmutableSortedDictionary<LocalDate, decimal>>.Empty);

    /// <summary>Returns a table with a rate from one currency to another on every date.</summary>
    /// <param name="source">The currency converted from.</param>
    /// <param name="target">The currency converted to.</param>
    /// <param name="rate">The major units of <paramref name="target"/> one major unit of <paramref name="source"/> buys; positive.</param>
    /// <returns>The new table; this one is unchanged. An earlier entry of the pair valid on every date is replaced.</returns>
    /// <exception cref="ArgumentException">A currency is <c>default(Currency)</c>, or the two are the same.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is not positive.</exception>
    public FixedExchangeRates With(Currency source, Currency target, decimal rate) => With(source, target, rate, LocalDate.MinIsoValue);

    /// <summary>Returns a table with a rate from one currency to another from a date on.</summary>
    /// <param name="source">The currency converted from.</param>
    /// <param name="target">The currency converted to.</param>
    /// <param name="rate">The major units of <paramref name="target"/> one major unit of <paramref name="source"/> buys; positive.</param>
    /// <param name="validFrom">The first date the rate applies on; it applies until the next entry of the pair.</param>
    /// <returns>The new table; this one is unchanged. An entry of the pair from the same date is replaced.</returns>
    /// <exception cref="ArgumentException">A currency is <c>default(Currency)</c>, or the two are the same.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is not positive.</exception>
    public FixedExchangeRates With(Currency source, Currency target, decimal rate, LocalDate validFrom)
    {
        if (source == default || target == default)
        {
            throw new ArgumentException("Both currencies are required; default(Currency) is no currency.", source == default ? nameof(source) : nameof(target));
        }

        if (source == target)
        {
            throw new ArgumentException($"A rate from {source.Code} to itself is always 1.", nameof(target));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        ImmutableSortedDictionary<LocalDate, decimal> dated = rates.TryGetValue((source, target), out var existing)
            ? existing
            : ImmutableSortedDictionary<LocalDate, decimal>.Empty;
        return new FixedExchangeRates(rates.SetItem((source, target), dated.SetItem(validFrom, rate)));
    }

    /// <inheritdoc/>
    /// <returns>1 for the same currency; otherwise the entry of the pair with the latest start on or before <paramref name="asOf"/>, or <see langword="null"/> when there is none.</returns>
    public decimal? FindRate(Currency source, Currency target, LocalDate asOf)
    {
        if (source == target)
        {
            return 1m;
        }

        if (!rates.TryGetValue((source, target), out var dated))
        {
            return null;
        }

        decimal? found = null;
        foreach (KeyValuePair<LocalDate, decimal> entry in dated)
        {
            if (entry.Key > asOf)
            {
                break;
            }

            found = entry.Value;
        }

        return found;
    }
}
