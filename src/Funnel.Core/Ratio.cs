using System.Globalization;

namespace Funnel;

/// <summary>An exact ratio of two whole numbers, such as a conversion rate or ROAS, that may be "not defined".</summary>
/// <remarks>
/// <para>
/// A KPI is a ratio of two measured quantities: 5,000 leads out of 50,000 visitors, 2,485,000 cents of revenue for
/// 1,000,000 cents of spend. <see cref="Ratio"/> keeps both parts, so nothing is lost to floating point, and
/// a ratio whose denominator is zero is <em>not defined</em> (<see cref="IsDefined"/> is <see langword="false"/>):
/// a funnel with no visitors has no conversion rate, not a rate of 0 and not an exception.
/// </para>
/// <para>
/// Equality and ordering compare values, so <c>1/2 == 2/4</c>. All undefined ratios are equal to each other and
/// sort before every defined ratio. <c>default(Ratio)</c> is 0/0, which is not defined.
/// </para>
/// </remarks>
/// <threadsafety>This type is an immutable value type. See the thread safety section of the user guide for more information.</threadsafety>
public readonly struct Ratio : IEquatable<Ratio>, IComparable<Ratio>, IFormattable
{
    /// <summary>Initializes a new ratio of <paramref name="numerator"/> to <paramref name="denominator"/>.</summary>
    /// <param name="numerator">The part, for example the converted count.</param>
    /// <param name="denominator">The whole, for example the entered count; zero makes the ratio undefined.</param>
    public Ratio(long numerator, long denominator)
    {
        Numerator = numerator;
        Denominator = denominator;
    }

    /// <summary>Gets a ratio that is not defined (0/0).</summary>
    /// <value>The same value as <c>default(Ratio)</c>.</value>
    public static Ratio Undefined => default;

    /// <summary>Gets the numerator.</summary>
    /// <value>The part, as given.</value>
    public long Numerator { get; }

    /// <summary>Gets the denominator.</summary>
    /// <value>The whole, as given; zero when the ratio is not defined.</value>
    public long Denominator { get; }

    /// <summary>Gets a value indicating whether the ratio has a value (its denominator is not zero).</summary>
    /// <value><see langword="true"/> when <see cref="Denominator"/> is not zero.</value>
    public bool IsDefined => Denominator != 0;

    /// <summary>Creates the ratio of two amounts of money in the same currency.</summary>
    /// <param name="numerator">The part, for example revenue.</param>
    /// <param name="denominator">The whole, for example ad spend.</param>
    /// <returns>The exact ratio of the minor units; not defined when <paramref name="denominator"/> is zero.</returns>
    /// <exception cref="InvalidOperationException">The amounts are in different currencies.</exception>
    public static Ratio Of(Money numerator, Money denominator)
    {
        numerator.EnsureSameCurrency(denominator, "take the ratio of");
        return new Ratio(numerator.MinorUnits, denominator.MinorUnits);
    }

    /// <summary>Creates the ratio of two counts.</summary>
    /// <param name="numerator">The part.</param>
    /// <param name="denominator">The whole; zero makes the ratio undefined.</param>
    /// <returns>The ratio.</returns>
    public static Ratio Of(long numerator, long denominator) => new(numerator, denominator);

    /// <summary>Returns the value as a decimal.</summary>
    /// <remarks>The division is done in <see cref="decimal"/> (28 significant digits).</remarks>
    /// <returns>The numerator divided by the denominator.</returns>
    /// <exception cref="InvalidOperationException">The ratio is not defined.</exception>
    public decimal ToDecimal() =>
        IsDefined
            ? (decimal)Numerator / Denominator
            : throw new InvalidOperationException("The ratio is not defined: its denominator is zero.");

    /// <summary>Gets the value as a decimal when the ratio is defined.</summary>
    /// <param name="value">The value, or zero when the ratio is not defined.</param>
    /// <returns><see langword="true"/> when the ratio is defined.</returns>
    public bool TryGetValue(out decimal value)
    {
        value = IsDefined ? (decimal)Numerator / Denominator : 0m;
        return IsDefined;
    }

    /// <summary>Returns the value rounded to a number of decimal places, or <see langword="null"/> when not defined.</summary>
    /// <param name="decimals">The number of decimal places, 0 to 28.</param>
    /// <param name="rounding">How to round a value exactly halfway between two results.</param>
    /// <returns>The rounded value, or <see langword="null"/> when the ratio is not defined.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decimals"/> is outside 0 to 28.</exception>
    public decimal? Round(int decimals, MidpointRounding rounding)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(decimals);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(decimals, 28);
        return IsDefined ? Math.Round(ToDecimal(), decimals, rounding) : null;
    }

    /// <summary>Formats the ratio.</summary>
    /// <remarks>
    /// Formats: <c>"G"</c> (default) the decimal value with up to 4 decimals; <c>"P"</c>, <c>"P0"</c> to <c>"P4"</c>
    /// a percentage with that many decimals (default 1) and trailing zeros removed, like <c>10%</c> or <c>12.5%</c>;
    /// <c>"F0"</c> to <c>"F6"</c> the value with exactly that many decimals; <c>"X"</c> followed by a digit, a multiple
    /// like <c>2.485x</c>. Values are rounded half away from zero. An undefined ratio formats as <c>n/a</c>.
    /// </remarks>
    /// <param name="format">The format, or <see langword="null"/> for <c>"G"</c>.</param>
    /// <param name="formatProvider">The culture; <see langword="null"/> means the invariant culture.</param>
    /// <returns>The formatted ratio.</returns>
    /// <exception cref="FormatException"><paramref name="format"/> is not one of the formats above.</exception>
    public string ToString(string? format, IFormatProvider? formatProvider)
    {
        if (!IsDefined)
        {
            return "n/a";
        }

        IFormatProvider provider = formatProvider ?? CultureInfo.InvariantCulture;
        decimal value = ToDecimal();
        string f = string.IsNullOrEmpty(format) ? "G" : format;
        char kind = char.ToUpperInvariant(f[0]);
        int? digits = f.Length == 1 ? null
            : f.Length == 2 && char.IsAsciiDigit(f[1]) ? f[1] - '0'
            : throw new FormatException($"Unknown ratio format '{format}'. Use G, P0-P4, F0-F6 or X0-X6.");
        return kind switch
        {
            'G' when digits is null => Math.Round(value, 4, MidpointRounding.AwayFromZero).ToString("0.####", provider),
            'P' when digits is null or <= 4 => Math.Round(value * 100m, digits ?? 1, MidpointRounding.AwayFromZero)
                .ToString("0." + new string('#', digits ?? 1), provider) + "%",
            'F' when digits is not null and <= 6 => Math.Round(value, digits.Value, MidpointRounding.AwayFromZero)
                .ToString("F" + digits.Value.ToString(CultureInfo.InvariantCulture), provider),
            'X' when digits is null or <= 6 => Math.Round(value, digits ?? 2, MidpointRounding.AwayFromZero)
                .ToString("0." + new string('#', digits ?? 2), provider) + "x",
            _ => throw new FormatException($"Unknown ratio format '{format}'. Use G, P0-P4, F0-F6 or X0-X6."),
        };
    }

    /// <summary>Formats the ratio as its decimal value with up to four decimals, or <c>n/a</c>.</summary>
    /// <returns>The formatted ratio, in the invariant culture.</returns>
    public override string ToString() => ToString(null, CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public bool Equals(Ratio other) => CompareTo(other) == 0;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Ratio other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() =>
        // Equal rationals divide to the same correctly rounded decimal, so this agrees with Equals.
        IsDefined ? ToDecimal().GetHashCode() : 0;

    /// <summary>Compares the values of two ratios; undefined ratios sort first.</summary>
    /// <param name="other">The ratio to compare with.</param>
    /// <returns>A negative number, zero or a positive number, as this ratio is smaller, equal or larger.</returns>
    public int CompareTo(Ratio other)
    {
        if (!IsDefined || !other.IsDefined)
        {
            return IsDefined.CompareTo(other.IsDefined);
        }

        // a/b ? c/d  <=>  a*d*sign ? c*b*sign, exact in 128 bits.
        Int128 left = (Int128)Numerator * other.Denominator;
        Int128 right = (Int128)other.Numerator * Denominator;
        int sign = Math.Sign(Denominator) * Math.Sign(other.Denominator);
        return left.CompareTo(right) * sign;
    }

    /// <summary>Tells whether two ratios have the same value.</summary>
    /// <param name="left">The first ratio.</param>
    /// <param name="right">The second ratio.</param>
    /// <returns><see langword="true"/> if the values are equal, or both are not defined.</returns>
    public static bool operator ==(Ratio left, Ratio right) => left.Equals(right);

    /// <summary>Tells whether two ratios have different values.</summary>
    /// <param name="left">The first ratio.</param>
    /// <param name="right">The second ratio.</param>
    /// <returns><see langword="true"/> if the values differ.</returns>
    public static bool operator !=(Ratio left, Ratio right) => !left.Equals(right);

    /// <summary>Tells whether the first ratio is smaller.</summary>
    /// <param name="left">The first ratio.</param>
    /// <param name="right">The second ratio.</param>
    /// <returns>The comparison result; undefined sorts first.</returns>
    public static bool operator <(Ratio left, Ratio right) => left.CompareTo(right) < 0;

    /// <summary>Tells whether the first ratio is smaller or equal.</summary>
    /// <param name="left">The first ratio.</param>
    /// <param name="right">The second ratio.</param>
    /// <returns>The comparison result; undefined sorts first.</returns>
    public static bool operator <=(Ratio left, Ratio right) => left.CompareTo(right) <= 0;

    /// <summary>Tells whether the first ratio is larger.</summary>
    /// <param name="left">The first ratio.</param>
    /// <param name="right">The second ratio.</param>
    /// <returns>The comparison result; undefined sorts first.</returns>
    public static bool operator >(Ratio left, Ratio right) => left.CompareTo(right) > 0;

    /// <summary>Tells whether the first ratio is larger or equal.</summary>
    /// <param name="left">The first ratio.</param>
    /// <param name="right">The second ratio.</param>
    /// <returns>The comparison result; undefined sorts first.</returns>
    public static bool operator >=(Ratio left, Ratio right) => left.CompareTo(right) >= 0;
}
