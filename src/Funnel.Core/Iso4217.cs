using System;
using System.Linq;
using System.Collections.Frozen;
using System.Collections.Immutable;

namespace Funnel;

/// <summary>The embedded ISO 4217 table of active currency codes and their minor-unit exponents.</summary>
/// <remarks>
/// Based on ISO 4217 list one (current currency and funds codes). Codes whose minor unit the standard lists as
/// "N.A." (precious metals, bond-market units, SDR, XTS, XXX) are included with exponent 0. Withdrawn codes
/// (HRK, SLL, ZWL, ...) are not included. Symbols follow the CLDR English short symbols and are shipped only
/// for a handful of widely used currencies; everything else formats with its code.
/// </remarks>
internal static class Iso4217
{
    /// <summary>The code that <c>default(Currency)</c> stands for: "no currency".</summary>
    internal const string NoCurrencyCode = "XXX";

    /// <summary>Every entry, ordered by code.</summary>
    internal static ImmutableArray<CurrencyInfo> Entries { get; } = Build();

    /// <summary>Entries keyed by code, case-insensitive.</summary>
    internal static FrozenDictionary<string, CurrencyInfo> ByCode { get; } =
        Entries.ToFrozenDictionary(static e => e.Code, StringComparer.OrdinalIgnoreCase);

    private static ImmutableArray<CurrencyInfo> Build()
    {
        // code, exponent, symbol (null = none shipped)
        (string Code, int Exponent, string? Symbol)[] rows =
        [
            ("AED", 2, null), ("AFN", 2, null), ("ALL", 2, null), ("AMD", 2, null), ("ANG", 2, null),
            ("AOA", 2, null), ("ARS", 2, null), ("AUD", 2, "A$"), ("AWG", 2, null), ("AZN", 2, null),
            ("BAM", 2, null), ("BBD", 2, null), ("BDT", 2, null), ("BGN", 2, null), ("BHD", 3, null),
            ("BIF", 0, null), ("BMD", 2, null), ("BND", 2, null), ("BOB", 2, null), ("BOV", 2, null),
            ("BRL", 2, "R$"), ("BSD", 2, null), ("BTN", 2, null), ("BWP", 2, null), ("BYN", 2, null),
            ("BZD", 2, null), ("CAD", 2, "CA$"), ("CDF", 2, null), ("CHE", 2, null), ("CHF", 2, null),
            ("CHW", 2, null), ("CLF", 4, null), ("CLP", 0, null), ("CNY", 2, "CN¥"), ("COP", 2, null),
            ("COU", 2, null), ("CRC", 2, null), ("CUC", 2, null), ("CUP", 2, null), ("CVE", 2, null),
            ("CZK", 2, null), ("DJF", 0, null), ("DKK", 2, null), ("DOP", 2, null), ("DZD", 2, null),
            ("EGP", 2, null), ("ERN", 2, null), ("ETB", 2, null), ("EUR", 2, "€"), ("FJD", 2, null),
            ("FKP", 2, null), ("GBP", 2, "£"), ("GEL", 2, null), ("GHS", 2, null), ("GIP", 2, null),
            ("GMD", 2, null), ("GNF", 0, null), ("GTQ", 2, null), ("GYD", 2, null), ("HKD", 2, "HK$"),
            ("HNL", 2, null), ("HTG", 2, null), ("HUF", 2, null), ("IDR", 2, null), ("ILS", 2, "₪"),
            ("INR", 2, "₹"), ("IQD", 3, null), ("IRR", 2, null), ("ISK", 0, null), ("JMD", 2, null),
            ("JOD", 3, null), ("JPY", 0, "¥"), ("KES", 2, null), ("KGS", 2, null), ("KHR", 2, null),
            ("KMF", 0, null), ("KPW", 2, null), ("KRW", 0, "₩"), ("KWD", 3, null), ("KYD", 2, null),
            ("KZT", 2, null), ("LAK", 2, null), ("LBP", 2, null), ("LKR", 2, null), ("LRD", 2, null),
            ("LSL", 2, null), ("LYD", 3, null), ("MAD", 2, null), ("MDL", 2, null), ("MGA", 2, null),
            ("MKD", 2, null), ("MMK", 2, null), ("MNT", 2, null), ("MOP", 2, null), ("MRU", 2, null),
            ("MUR", 2, null), ("MVR", 2, null), ("MWK", 2, null), ("MXN", 2, "MX$"), ("MXV", 2, null),
            ("MYR", 2, null), ("MZN", 2, null), ("NAD", 2, null), ("NGN", 2, null), ("NIO", 2, null),
            ("NOK", 2, null), ("NPR", 2, null), ("NZD", 2, "NZ$"), ("OMR", 3, null), ("PAB", 2, null),
            ("PEN", 2, null), ("PGK", 2, null), ("PHP", 2, null), ("PKR", 2, null), ("PLN", 2, null),
            ("PYG", 0, null), ("QAR", 2, null), ("RON", 2, null), ("RSD", 2, null), ("RUB", 2, null),
            ("RWF", 0, null), ("SAR", 2, null), ("SBD", 2, null), ("SCR", 2, null), ("SDG", 2, null),
            ("SEK", 2, null), ("SGD", 2, null), ("SHP", 2, null), ("SLE", 2, null), ("SOS", 2, null),
            ("SRD", 2, null), ("SSP", 2, null), ("STN", 2, null), ("SVC", 2, null), ("SYP", 2, null),
            ("SZL", 2, null), ("THB", 2, null), ("TJS", 2, null), ("TMT", 2, null), ("TND", 3, null),
            ("TOP", 2, null), ("TRY", 2, null), ("TTD", 2, null), ("TWD", 2, "NT$"), ("TZS", 2, null),
            ("UAH", 2, null), ("UGX", 0, null), ("USD", 2, "$"), ("USN", 2, null), ("UYI", 0, null),
            ("UYU", 2, null), ("UYW", 4, null), ("UZS", 2, null), ("VED", 2, null), ("VES", 2, null),
            ("VND", 0, "₫"), ("VUV", 0, null), ("WST", 2, null), ("XAF", 0, null), ("XAG", 0, null),
            ("XAU", 0, null), ("XBA", 0, null), ("XBB", 0, null), ("XBC", 0, null), ("XBD", 0, null),
            ("XCD", 2, null), ("XCG", 2, null), ("XDR", 0, null), ("XOF", 0, null), ("XPD", 0, null),
            ("XPF", 0, null), ("XPT", 0, null), ("XSU", 0, null), ("XTS", 0, null), ("XUA", 0, null),
            ("XXX", 0, null), ("YER", 2, null), ("ZAR", 2, null), ("ZMW", 2, null), ("ZWG", 2, null),
        ];

        var builder = ImmutableArray.CreateBuilder<CurrencyInfo>(rows.Length);
        foreach (var (code, exponent, symbol) in rows)
        {
            builder.Add(new CurrencyInfo(code, exponent, symbol));
        }

        builder.Sort(static (a, b) => string.CompareOrdinal(a.Code, b.Code));
        return builder.MoveToImmutable();
    }
}

/// <summary>One row of the ISO 4217 table.</summary>
/// <param name="Code">The three-letter upper-case code.</param>
/// <param name="Exponent">The number of minor-unit digits.</param>
/// <param name="Symbol">The display symbol, or <see langword="null"/> when none is shipped.</param>
internal sealed record CurrencyInfo(string Code, int Exponent, string? Symbol);
