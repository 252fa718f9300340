using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Linq;

namespace Funnel;

/// <summary>An ISO 4217 currency: its three-letter code, its minor-unit exponent and an optional display symbol.</summary>
/// <remarks>
/// <para>
/// Instances come only from the embedded ISO 4217 table (<see cref="All"/>), through <see cref="FromCode"/>,
/// <see cref="TryFromCode"/> or the shortcuts such as <see cref="USD"/>, so every currency has a known exponent.
/// </para>
/// <para>
/// <c>default(Currency)</c> behaves as ISO 4217 "XXX" ("no currency"): its <see cref="Code"/> is "XXX", its
/// <see cref="Exponent"/> is 0 and its <see cref="Symbol"/> is <see langword="null"/>. It is equal to
/// <c>Currency.FromCode("XXX")</c>. Codes that ISO 4217 lists without a minor unit (XAU, XDR, XTS, ...) also
/// have exponent 0.
/// </para>
/// <para>Two currencies are equal when their codes are equal.</para>
/// </remarks>
/// <threadsafety>This type is an immutable value type; all members are thread-safe.</threadsafety>
public readonly struct Currency : IEquatable<Currency>
{
    private static readonly CurrencyInfo NoCurrency = Iso4217.ByCode[Iso4217.NoCurrencyCode];

    private readonly CurrencyInfo? _info;

    private Currency(CurrencyInfo info) => _info = info;

    private CurrencyInfo Info => _info ?? NoCurrency;

    /// <summary>Gets the upper-case three-letter ISO 4217 code, such as "USD".</summary>
    /// <value>The code; "XXX" for <c>default(Currency)</c>.</value>
    public string Code => Info.Code;

    /// <summary>Gets the number of minor-unit digits, such as 2 for USD, 0 for JPY and 3 for KWD.</summary>
    /// <value>The exponent, from 0 to 4; 0 for <c>default(Currency)</c>.</value>
    /// <remarks>One major unit is 10 to the power <see cref="Exponent"/> minor units.</remarks>
    public int Exponent => Info.Exponent;

    /// <summary>Gets the display symbol, such as "$" for USD, or <see langword="null"/> when none is shipped.</summary>
    /// <value>The symbol, or <see langword="null"/>; formats then fall back to the code.</value>
    /// <remarks>
    /// Symbols are shipped for a handful of major currencies only, using the unambiguous CLDR English forms
    /// ("$" USD, "CA$" CAD, "A$" AUD, "€" EUR, "£" GBP, "¥" JPY, ...). CHF has no symbol.
    /// </remarks>
    public string? Symbol => Info.Symbol;

    /// <summary>Gets the United States dollar (exponent 2, symbol "$").</summary>
    public static Currency USD { get; } = FromCode("USD");

    /// <summary>Gets the euro (exponent 2, symbol "€").</summary>
    public static Currency EUR { get; } = FromCode("EUR");

    /// <summary>Gets the pound sterling (exponent 2, symbol "£").</summary>
    public static Currency GBP { get; } = FromCode("GBP");

    /// <summary>Gets the Japanese yen (exponent 0, symbol "¥").</summary>
    public static Currency JPY { get; } = FromCode("JPY");

    /// <summary>Gets the Swiss franc (exponent 2, no symbol).</summary>
    public static Currency CHF { get; } = FromCode("CHF");

    /// <summary>Gets the Canadian dollar (exponent 2, symbol "CA$").</summary>
    public static Currency CAD { get; } = FromCode("CAD");

    /// <summary>Gets the Australian dollar (exponent 2, symbol "A$").</summary>
    public static Currency AUD { get; } = FromCode("AUD");

    /// <summary>Gets every currency in the embedded ISO 4217 table, ordered by code.</summary>
    /// <value>The active ISO 4217 list, including "XXX" and the codes without a minor unit.</value>
    public static IReadOnlyCollection<Currency> All { get; } =
        Iso4217.Entries.Select(static e => new Currency(e)).ToImmutableArray();

    /// <summary>Returns the currency with the given ISO 4217 code.</summary>
    /// <param name="code">The three-letter code; case-insensitive, surrounding white space is ignored.</param>
    /// <returns>The currency.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="code"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="code"/> is blank or not in the ISO 4217 table.</exception>
    public static Currency FromCode(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        if (TryFromCode(code, out var currency))
        {
            return currency;
        }

        throw string.IsNullOrWhiteSpace(code)
            ? new ArgumentException("A currency code is required, but the value was blank.", nameof(code))
            : new ArgumentException($"'{code}' is not a known ISO 4217 currency code.", nameof(code));
    }

    /// <summary>Tries to find the currency with the given ISO 4217 code.</summary>
    /// <param name="code">The three-letter code; case-insensitive, surrounding white space is ignored.</param>
    /// <param name="currency">The currency when found; otherwise <c>default(Currency)</c>.</param>
    /// <returns><see langword="true"/> when <paramref name="code"/> is a known code.</returns>
    public static bool TryFromCode([NotNullWhen(true)] string? code, out Currency currency)
    {
        if (code is not null && Iso4217.ByCode.TryGetValue(code.Trim(), out var info))
        {
            currency = new Currency(info);
            return true;
        }

        currency = default;
        return false;
    }

    /// <summary>Returns whether the given code is in the embedded ISO 4217 table.</summary>
    /// <param name="code">The three-letter code; case-insensitive, surrounding white space is ignored.</param>
    /// <returns><see langword="true"/> when <paramref name="code"/> is a known code.</returns>
    public static bool IsKnown([NotNullWhen(true)] string? code) => TryFromCode(code, out _);

    /// <summary>Returns whether two currencies have the same code.</summary>
    /// <param name="left">The first currency.</param>
    /// <param name="right">The second currency.</param>
    /// <returns><see langword="true"/> when the codes are equal.</returns>
    public static bool operator ==(Currency left, Currency right) => left.Equals(right);

    /// <summary>Returns whether two currencies have different codes.</summary>
    /// <param name="left">The first currency.</param>
    /// <param name="right">The second currency.</param>
    /// <returns><see langword="true"/> when the codes differ.</returns>
    public static bool operator !=(Currency left, Currency right) => !left.Equals(right);

    /// <summary>Returns whether this currency has the same code as another.</summary>
    /// <param name="other">The currency to compare with.</param>
    /// <returns><see langword="true"/> when the codes are equal.</returns>
    public bool Equals(Currency other) => string.Equals(Code, other.Code, StringComparison.Ordinal);

    /// <summary>Returns whether an object is a <see cref="Currency"/> with the same code.</summary>
    /// <param name="obj">The object to compare with.</param>
    /// <returns><see langword="true"/> when <paramref name="obj"/> is an equal currency.</returns>
    public override bool Equals(object? obj) => obj is Currency other && Equals(other);

    /// <summary>Returns a hash code derived from the code.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Code);

    /// <summary>Returns the ISO 4217 code.</summary>
    /// <returns>The code, such as "USD"; "XXX" for <c>default(Currency)</c>.</returns>
    public override string ToString() => Code;
}
