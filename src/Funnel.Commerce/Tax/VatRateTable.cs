using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using NodaTime;
using NodaTime.Text;

namespace Funnel.Tax;

/// <summary>One VAT rate of a country for a category, in force from a date until the next rate of the same country and category.</summary>
/// <param name="Country">The ISO 3166-1 alpha-2 country, upper case.</param>
/// <param name="Category">What the rate applies to.</param>
/// <param name="Rate">The rate in percent, such as 19 or 25.5; at most 4 decimals.</param>
/// <param name="EffectiveFrom">The first day the rate is in force.</param>
/// <param name="Verified">Whether the table's author confirmed the rate from a published source; see the table file's header.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct VatRate(string Country, TaxCategory Category, decimal Rate, LocalDate EffectiveFrom, bool Verified = true);

/// <summary>A dated table of VAT rates on electronically supplied services, by country and category, and how each country rounds.</summary>
/// <remarks>
/// <para>
/// <see cref="Default"/> is the table Funnel ships (<c>Tax/VatRates.json</c> in the Funnel.Commerce source, dated
/// <see cref="TableDate"/>): the standard and e-book rates of the 27 EU member states and the UK from 2021-01-01, with
/// the source of every rate in its header. Rates change: to use a newer table, copy that file, edit it and pass its
/// text to <see cref="Parse"/>, then register the result (<c>services.AddSingleton(VatRateTable.Parse(json))</c>)
/// before or after <c>AddFunnelTax</c>.
/// </para>
/// <para>
/// A lookup takes the date of supply: the rate of the latest row of that country and category whose
/// <see cref="VatRate.EffectiveFrom"/> is on or before it. An <see cref="TaxCategory.EBook"/> lookup with no e-book
/// row in force falls back to the standard rate, as the country then taxes e-books at it.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class VatRateTable
{
    private static readonly Lazy<VatRateTable> Shipped = new(LoadShipped);
    private readonly FrozenDictionary<(string Country, TaxCategory Category), VatRate[]> byKey;
    private readonly FrozenDictionary<string, TaxRounding> rounding;
    private readonly FrozenDictionary<string, CountryRates> byCountry;

    private VatRateTable(LocalDate tableDate, ImmutableArray<VatRate> rates, FrozenDictionary<string, TaxRounding> rounding)
    {
        TableDate = tableDate;
        Rates = rates;
        this.rounding = rounding;
        byKey = rates.GroupBy(r => (r.Country, r.Category))
            .ToFrozenDictionary(g => g.Key, g => g.OrderBy(r => r.EffectiveFrom).ToArray());
        Countries = [.. rates.Select(r => r.Country).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        byCountry = Countries.Where(c => byKey.ContainsKey((c, TaxCategory.Standard)))
            .ToFrozenDictionary(c => c, c => new CountryRates(rounding.GetValueOrDefault(c, TaxRounding.PerInvoice)), StringComparer.Ordinal);
    }

    /// <summary>Gets the table Funnel ships: EU and UK rates on e-services and e-books, dated <see cref="TableDate"/>.</summary>
    public static VatRateTable Default => Shipped.Value;

    /// <summary>Gets the date the table's rates were last checked.</summary>
    public LocalDate TableDate { get; }

    /// <summary>Gets every rate, in the order of the table.</summary>
    public ImmutableArray<VatRate> Rates { get; }

    /// <summary>Gets the countries the table has rates for, sorted.</summary>
    public ImmutableArray<string> Countries { get; }

    /// <summary>Reads a table in the format of the shipped <c>VatRates.json</c>.</summary>
    /// <param name="json">The JSON text; <c>//</c> comments are allowed.</param>
    /// <returns>The table.</returns>
    /// <remarks>
    /// The format is an object with <c>tableDate</c> (<c>yyyy-MM-dd</c>), an optional <c>rounding</c> object mapping
    /// countries to <c>per_line</c> or <c>per_invoice</c> (the default), and <c>rates</c>: objects with
    /// <c>country</c>, <c>category</c> (<c>standard</c> or <c>e_book</c>), <c>rate</c> (percent), <c>from</c>
    /// (<c>yyyy-MM-dd</c>) and optionally <c>source</c> and <c>verified</c>.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is <see langword="null"/>.</exception>
    /// <exception cref="FormatException">The text is not such a table; the message names the offending entry, such as <c>rates[3].rate</c>.</exception>
    public static VatRateTable Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        TableDocument document;
        try
        {
            document = JsonSerializer.Deserialize<TableDocument>(json, JsonOptions)
                ?? throw new FormatException("The VAT rate table is JSON null.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"The VAT rate table is not valid: {e.Message}", e);
        }

        LocalDate tableDate = Date(document.TableDate, "tableDate");
        if (document.Rates is not { Count: > 0 } rows)
        {
            throw new FormatException("rates: the VAT rate table has no rates.");
        }

        var rates = ImmutableArray.CreateBuilder<VatRate>(rows.Count);
        var seen = new HashSet<(string, TaxCategory, LocalDate)>();
        for (int i = 0; i < rows.Count; i++)
        {
            RateRow row = rows[i] ?? throw new FormatException($"rates[{i}]: the entry is null.");
            string where = $"rates[{i}]";
            string country = Country(row.Country, where + ".country");
            TaxCategory category = row.Category switch
            {
                "standard" => TaxCategory.Standard,
                "e_book" => TaxCategory.EBook,
                _ => throw new FormatException($"{where}.category: '{row.Category}' is not 'standard' or 'e_book'."),
            };
            if (row.Rate is not { } rate || rate < 0 || rate >= 100 || decimal.Round(rate, 4) != rate)
            {
                throw new FormatException($"{where}.rate: '{row.Rate}' is not a percentage from 0 to below 100 with at most 4 decimals.");
            }

            LocalDate from = Date(row.From, where + ".from");
            if (!seen.Add((country, category, from)))
            {
                throw new FormatException($"{where}: {country} has two {row.Category} rates from {from:yyyy-MM-dd}.");
            }

            rates.Add(new VatRate(country, category, rate, from, row.Verified ?? true));
        }

        var rounding = new Dictionary<string, TaxRounding>(StringComparer.Ordinal);
        foreach ((string key, string? value) in document.Rounding ?? [])
        {
            rounding[Country(key, "rounding")] = value switch
            {
                "per_line" => TaxRounding.PerLine,
                "per_invoice" => TaxRounding.PerInvoice,
                _ => throw new FormatException($"rounding.{key}: '{value}' is not 'per_line' or 'per_invoice'."),
            };
        }

        return new VatRateTable(tableDate, rates.ToImmutable(), rounding.ToFrozenDictionary(StringComparer.Ordinal));
    }

    /// <summary>Returns whether the table has rates for a country.</summary>
    /// <param name="country">The ISO 3166-1 alpha-2 country, in any case.</param>
    /// <returns><see langword="true"/> when the table has at least one rate for it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="country"/> is <see langword="null"/>.</exception>
    public bool Covers(string country)
    {
        ArgumentNullException.ThrowIfNull(country);
        return byKey.ContainsKey((Upper(country), TaxCategory.Standard));
    }

    /// <summary>Returns the rate in force in a country for a category on a date.</summary>
    /// <param name="country">The ISO 3166-1 alpha-2 country, in any case.</param>
    /// <param name="category">The category; an e-book with no e-book rate in force gets the standard rate.</param>
    /// <param name="date">The date of supply.</param>
    /// <returns>The rate, or <see langword="null"/> when the table has none for the country on that date.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="country"/> is <see langword="null"/>.</exception>
    public VatRate? Find(string country, TaxCategory category, LocalDate date)
    {
        ArgumentNullException.ThrowIfNull(country);
        string key = Upper(country);
        return (category == TaxCategory.EBook ? InForce(key, TaxCategory.EBook, date) : null) ?? InForce(key, TaxCategory.Standard, date);
    }

    /// <summary>Returns how a country's tax is rounded.</summary>
    /// <param name="country">The ISO 3166-1 alpha-2 country, in any case.</param>
    /// <returns>The table's rounding for the country; <see cref="TaxRounding.PerInvoice"/> when it names none.</returns>
    /// <remarks>
    /// The shipped table rounds the UK per line (HMRC VAT Notice 700, section 17.5, allows it) and every EU member
    /// state per invoice: the tax of each rate is computed on the invoice's total at that rate, which Article 226(8) to
    /// (10) of Directive 2006/112/EC requires the invoice to show.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="country"/> is <see langword="null"/>.</exception>
    public TaxRounding RoundingFor(string country)
    {
        ArgumentNullException.ThrowIfNull(country);
        return rounding.GetValueOrDefault(Upper(country), TaxRounding.PerInvoice);
    }

    /// <summary>The code in upper case, without allocating when it already is (as codes from <see cref="PlaceOfSupply"/> are).</summary>
    private static string Upper(string country)
    {
        foreach (char c in country)
        {
            if (char.IsLower(c))
            {
                return country.ToUpperInvariant();
            }
        }

        return country;
    }

    /// <summary>
    /// Returns what a checkout needs of a covered country on a date (its standard and e-book rates as <see cref="Find"/>
    /// gives them, and its rounding), or <see langword="null"/> when the table does not cover the country.
    /// </summary>
    /// <param name="country">An upper-case ISO 3166-1 alpha-2 code, as <see cref="PlaceOfSupply"/> gives them.</param>
    /// <param name="at">The time of supply; its UTC date is the date of supply.</param>
    /// <remarks>Each country keeps the answer for the last UTC day asked, so the quotes of one day look the rates up once.</remarks>
    internal RatesOnDate? Resolve(string country, Instant at)
    {
        if (!byCountry.TryGetValue(country, out CountryRates? entry))
        {
            return null;
        }

        RatesOnDate? last = entry.Last;
        if (last is not null && at >= last.Start && at < last.End)
        {
            return last;
        }

        LocalDate date = at.InUtc().Date;
        VatRate? standard = InForce(country, TaxCategory.Standard, date);
        var resolved = new RatesOnDate(date, standard, InForce(country, TaxCategory.EBook, date) ?? standard, entry.Rounding);
        entry.Last = resolved;
        return resolved;
    }

    private VatRate? InForce(string country, TaxCategory category, LocalDate date)
    {
        if (!byKey.TryGetValue((country, category), out VatRate[]? rows))
        {
            return null;
        }

        for (int i = rows.Length - 1; i >= 0; i--)
        {
            if (rows[i].EffectiveFrom <= date)
            {
                return rows[i];
            }
        }

        return null;
    }

    private static LocalDate Date(string? text, string field)
    {
        ParseResult<LocalDate> result = LocalDatePattern.Iso.Parse(text ?? string.Empty);
        return result.Success ? result.Value : throw new FormatException($"{field}: '{text}' is not a date in the form yyyy-MM-dd.");
    }

    private static string Country(string? text, string field)
    {
        if (text is not { Length: 2 } || !char.IsAsciiLetterUpper(text[0]) || !char.IsAsciiLetterUpper(text[1]))
        {
            throw new FormatException($"{field}: '{text}' is not an upper-case ISO 3166-1 alpha-2 country code.");
        }

        return text;
    }

    private static VatRateTable LoadShipped()
    {
        using Stream stream = typeof(VatRateTable).Assembly.GetManifestResourceStream("Funnel.Tax.VatRates.json")
            ?? throw new InvalidOperationException("The shipped VAT rate table (Funnel.Tax.VatRates.json) is missing from Funnel.Commerce.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    private sealed class TableDocument
    {
        public string? TableDate { get; set; }

        public Dictionary<string, string?>? Rounding { get; set; }

        public List<RateRow?>? Rates { get; set; }
    }

    private sealed class RateRow
    {
        public string? Country { get; set; }

        public string? Category { get; set; }

        public decimal? Rate { get; set; }

        public string? From { get; set; }

        public string? Source { get; set; }

        public bool? Verified { get; set; }
    }

    /// <summary>A covered country's rounding and the rates it had on the last date asked.</summary>
    private sealed class CountryRates(TaxRounding rounding)
    {
        public TaxRounding Rounding { get; } = rounding;

        /// <summary>Read and written without a lock: the answer is immutable, and a race only recomputes it.</summary>
        public RatesOnDate? Last
        {
            get => Volatile.Read(ref last);
            set => Volatile.Write(ref last, value);
        }

        private RatesOnDate? last;
    }
}

/// <summary>A covered country's rates in force on one UTC date, with the rates scaled as <see cref="TaxMath"/> takes them.</summary>
internal sealed class RatesOnDate(LocalDate date, VatRate? standard, VatRate? eBook, TaxRounding rounding)
{
    public LocalDate Date { get; } = date;

    /// <summary>The start of <see cref="Date"/> in UTC.</summary>
    public Instant Start { get; } = date.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();

    /// <summary>The start of the next day in UTC.</summary>
    public Instant End { get; } = date < LocalDate.MaxIsoValue ? date.PlusDays(1).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant() : Instant.MaxValue;

    /// <summary>The standard rate, or <see langword="null"/> when none is in force on <see cref="Date"/>.</summary>
    public VatRate? Standard { get; } = standard;

    /// <summary>The e-book rate, else the standard rate, as <see cref="VatRateTable.Find"/> gives them.</summary>
    public VatRate? EBook { get; } = eBook;

    public decimal StandardPercent { get; } = standard?.Rate ?? 0m;

    public decimal EBookPercent { get; } = eBook?.Rate ?? 0m;

    public long StandardScaled { get; } = standard is { } s ? TaxMath.Scaled(s.Rate) : 0;

    public long EBookScaled { get; } = eBook is { } e ? TaxMath.Scaled(e.Rate) : 0;

    public TaxRounding Rounding { get; } = rounding;
}
