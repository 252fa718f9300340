using System.Globalization;

namespace Funnel.Payments.Stripe;

/// <summary>Maps <see cref="Money"/> to Stripe's amounts: minor units and lowercase ISO 4217 codes.</summary>
internal static class StripeMoney
{
    public static long Amount(Money money) => money.MinorUnits;

    public static string Currency(Money money) => money.Currency.Code.ToLowerInvariant();

    public static Money FromStripe(long amount, string currency) => new(amount, Funnel.Currency.FromCode(currency.ToUpperInvariant()));

    public static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
