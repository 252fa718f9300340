using System.Collections.Frozen;
using Funnel.Offers;

namespace Funnel.Currencies;

/// <summary>Chooses the currency a buyer pays in from their country: a table of ISO 3166-1 alpha-2 codes to currencies.</summary>
/// <remarks>
/// <para>
/// <see cref="PriceBook"/> asks it for the currency of a cart that names none (<see cref="Cart.Currency"/>), with the
/// buyer's country from <see cref="Cart.Buyer"/>: the billing country if given, else the IP country, else the card
/// country. A country the table does not list, or a currency the cart's offers are not all priced in, leaves the cart
/// in the catalogue's currency.
/// </para>
/// <para>
/// <see cref="Default"/> maps the euro-area members (Bulgaria from 2026) and the states that use the euro by agreement
/// to EUR, and GB, US, CA, AU, NZ, CH and LI, NO, SE, DK, IS, PL, CZ, HU, RO, JP and others to their own currency.
/// Change it with <see cref="With"/> and <see cref="Without"/>, or start from <see cref="Empty"/>, and pass the result
/// to <see cref="PriceBook(Catalogue, CurrencySelector)"/>.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class CurrencySelector
{
    private readonly FrozenDictionary<string, Currency> countries;

    /// <summary>Initializes a selector from a table of countries and their currencies.</summary>
    /// <param name="countries">ISO 3166-1 alpha-2 codes (any case) and the currency buyers there pay in.</param>
    /// <exception cref="ArgumentNullException"><paramref name="countries"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A key is not a two-letter code, is listed twice (ignoring case), or maps to <c>default(Currency)</c>; the message names it.</exception>
    public CurrencySelector(IEnumerable<KeyValuePair<string, Currency>> countries)
    {
        ArgumentNullException.ThrowIfNull(countries);
        var table = new Dictionary<string, Currency>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, Currency> pair in countries)
        {
            string country = Normalise(pair.Key);
            if (pair.Value == default)
            {
                throw new ArgumentException($"Country {country} maps to no currency (XXX).", nameof(countries));
            }

            if (!table.TryAdd(country, pair.Value))
            {
                throw new ArgumentException($"Country {country} is listed twice.", nameof(countries));
            }
        }

        this.countries = table.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Gets a selector that maps no country, so every cart is quoted in the catalogue's currency unless it names one.</summary>
    public static CurrencySelector Empty { get; } = new([]);

    /// <summary>Gets the shipped table of countries and their currencies.</summary>
    /// <value>The euro area and the euro-using microstates to EUR; GB, IM, JE, GG to GBP; US, PR to USD; CA, AU, NZ, CH, LI, NO, SE, DK, FO, GL, IS, PL, CZ, HU, RO, JP, SG, HK, IN, BR, MX and ZA to their currencies.</value>
    public static CurrencySelector Default { get; } = new(DefaultTable());

    /// <summary>Gets the table, keyed by upper-case country code.</summary>
    public IReadOnlyDictionary<string, Currency> Countries => countries;

    /// <summary>Returns the currency of buyers in a country.</summary>
    /// <param name="country">An ISO 3166-1 alpha-2 code, any case, or <see langword="null"/> when unknown.</param>
    /// <returns>The currency, or <see langword="null"/> when <paramref name="country"/> is <see langword="null"/> or not in the table.</returns>
    /// <exception cref="ArgumentException"><paramref name="country"/> is not a two-letter code.</exception>
    public Currency? ForCountry(string? country) =>
        Tax.PlaceOfSupply.Normalise(country, nameof(country)) is { } code && countries.TryGetValue(code, out Currency currency)
            ? currency
            : null;

    /// <summary>Returns a selector with one country mapped to a currency, replacing its entry if it had one.</summary>
    /// <param name="country">An ISO 3166-1 alpha-2 code, any case.</param>
    /// <param name="currency">The currency buyers there pay in.</param>
    /// <returns>The new selector; this one is unchanged.</returns>
    /// <exception cref="ArgumentException"><paramref name="country"/> is not a two-letter code, or <paramref name="currency"/> is <c>default(Currency)</c>.</exception>
    public CurrencySelector With(string country, Currency currency)
    {
        string code = Normalise(country);
        return new CurrencySelector(countries.Where(p => p.Key != code).Append(KeyValuePair.Create(code, currency)));
    }

    /// <summary>Returns a selector without a country, so its buyers are quoted in the catalogue's currency.</summary>
    /// <param name="country">An ISO 3166-1 alpha-2 code, any case.</param>
    /// <returns>The new selector; this one is unchanged.</returns>
    /// <exception cref="ArgumentException"><paramref name="country"/> is not a two-letter code.</exception>
    public CurrencySelector Without(string country)
    {
        string code = Normalise(country);
        return new CurrencySelector(countries.Where(p => p.Key != code));
    }

    /// <summary>Returns the buyer's country for choosing a currency: billing, else IP, else card country.</summary>
    internal static string? CountryOf(Tax.BuyerTaxDetails? buyer) =>
        buyer?.Evidence is not { } e ? null
            : !string.IsNullOrWhiteSpace(e.BillingCountry) ? e.BillingCountry
            : !string.IsNullOrWhiteSpace(e.IpCountry) ? e.IpCountry
            : e.CardCountry;

    private static string Normalise(string? country) =>
        Tax.PlaceOfSupply.Normalise(country, nameof(country))
            ?? throw new ArgumentException("A country code is required, such as DE or GB.", nameof(country));

    private static IEnumerable<KeyValuePair<string, Currency>> DefaultTable()
    {
        // Euro area (Bulgaria joined on 2026-01-01), the microstates with a monetary agreement, Montenegro and Kosovo,
        // and the French outermost regions that are part of the EU.
        string[] euro =
        [
            "AT", "BE", "BG", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT", "LU", "LV", "MT", "NL",
            "PT", "SI", "SK", "AD", "MC", "SM", "VA", "ME", "XK", "GF", "GP", "MQ", "RE", "YT",
        ];
        foreach (string country in euro)
        {
            yield return KeyValuePair.Create(country, Currency.EUR);
        }

        (string Country, string Currency)[] others =
        [
            ("GB", "GBP"), ("IM", "GBP"), ("JE", "GBP"), ("GG", "GBP"), ("US", "USD"), ("PR", "USD"), ("CA", "CAD"),
            ("AU", "AUD"), ("NZ", "NZD"), ("CH", "CHF"), ("LI", "CHF"), ("NO", "NOK"), ("SE", "SEK"), ("DK", "DKK"),
            ("FO", "DKK"), ("GL", "DKK"), ("IS", "ISK"), ("PL", "PLN"), ("CZ", "CZK"), ("HU", "HUF"), ("RO", "RON"),
            ("JP", "JPY"), ("SG", "SGD"), ("HK", "HKD"), ("IN", "INR"), ("BR", "BRL"), ("MX", "MXN"), ("ZA", "ZAR"),
        ];
        foreach ((string country, string code) in others)
        {
            yield return KeyValuePair.Create(country, Currency.FromCode(code));
        }
    }
}
