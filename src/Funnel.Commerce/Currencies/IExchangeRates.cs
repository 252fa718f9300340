using NodaTime;

namespace Funnel.Currencies;

/// <summary>The seam to exchange rates: how many units of one currency one unit of another buys on a date.</summary>
/// <remarks>
/// Funnel does no I/O for rates: <see cref="FixedExchangeRates"/> is a table configured in code, and an adapter can
/// read a central bank's or a provider's rates. <see cref="RevenueByCurrency.CombineAsync"/> asks for each currency
/// of a report once.
/// </remarks>
public interface IExchangeRates
{
    /// <summary>Finds the rate from one currency to another on a date.</summary>
    /// <param name="source">The currency converted from.</param>
    /// <param name="target">The currency converted to.</param>
    /// <param name="asOf">The date the rate applies on.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The major units of <paramref name="target"/> one major unit of <paramref name="source"/> buys (1.1650 for GBP → EUR), or <see langword="null"/> when the rate is not known.</returns>
    Task<decimal?> FindRateAsync(Currency source, Currency target, LocalDate asOf, CancellationToken cancellationToken = default);
}
