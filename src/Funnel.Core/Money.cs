using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;

namespace Funnel;

/// <summary>An exact amount of money: a whole number of minor units (such as cents) in one <see cref="Funnel.Currency"/>.</summary>
/// <remarks>
/// <para>
/// The amount is stored as a <see cref="long"/> count of minor units, the same representation payment providers
/// such as Stripe use, so 497.00 USD is <c>49700</c> and 500 JPY is <c>500</c>. All arithmetic is checked and
/// throws <see cref="OverflowException"/> instead of wrapping; nothing is ever computed with floating point.
/// </para>
/// <para>
/// Operations that can produce fractions of a minor unit (<see cref="Multiply(decimal, MidpointRounding)"/>,
/// <see cref="Percentage"/>, <see cref="Divide"/>, <see cref="FromMajor(decimal, Funnel.Currency, MidpointRounding)"/>)
/// take an explicit <see cref="MidpointRounding"/> and compute the exact result before rounding it once. To split
/// an amount without losing or creating a minor unit, use <see cref="Allocate(int)"/>.
/// </para>
/// <para>
/// Combining amounts in different currencies (<c>+</c>, <c>-</c>, <see cref="CompareTo(Money)"/>, <c>&lt;</c>, ...)
/// throws <see cref="InvalidOperationException"/> naming both codes. <see cref="Equals(Money)"/> never throws: amounts
/// in different currencies are simply not equal.
/// </para>
/// <para>
/// <c>default(Money)</c> is zero in <c>default(Currency)</c>, which is ISO 4217 "XXX" (no currency). It equals
/// <c>Money.Zero(Currency.FromCode("XXX"))</c> but not <c>Money.Zero(Currency.USD)</c>, and adding it to an amount in a
/// real currency throws like any other currency mix. Its <see cref="ToString()"/> is "XXX 0".
/// </para>
/// </remarks>
/// <threadsafety>This type is an immutable value type; all members are thread-safe.</threadsafety>
public readonly struct Money :
    IEquatable<Money>, IComparable<Money>, IComparable, IFormattable, IParsable<Money>
{
    private static readonly long[] PowersOfTen = [1, 10, 100, 1_000, 10_000];

    /// <summary>Initializes a new amount from a count of minor units.</summary>
    /// <param name="minorUnits">The amount in minor units, such as cents; may be negative.</param>
    /// <param name="currency">The currency.</param>
    public Money(long minorUnits, Currency currency)
    {
        MinorUnits = minorUnits;
        Currency = currency;
    }

    /// <summary>Gets the amount as a count of minor units, such as cents for USD or yen for JPY.</summary>
    /// <value>The signed count of minor units; 0 for <c>default(Money)</c>.</value>
    public long MinorUnits { get; }

    /// <summary>Gets the currency of the amount.</summary>
    /// <value>The currency; <c>default(Currency)</c> ("XXX") for <c>default(Money)</c>.</value>
    public Currency Currency { get; }

    /// <summary>Gets whether the amount is zero.</summary>
    /// <value><see langword="true"/> when <see cref="MinorUnits"/> is 0.</value>
    public bool IsZero => MinorUnits == 0;

    /// <summary>Gets whether the amount is less than zero.</summary>
    /// <value><see langword="true"/> when <see cref="MinorUnits"/> is negative.</value>
    public bool IsNegative => MinorUnits < 0;

    /// <summary>Gets whether the amount is greater than zero.</summary>
    /// <value><see langword="true"/> when <see cref="MinorUnits"/> is positive.</value>
    public bool IsPositive => MinorUnits > 0;

    /// <summary>Returns zero in the given currency.</summary>
    /// <param name="currency">The currency.</param>
    /// <returns>An amount of 0 minor units.</returns>
    public static Money Zero(Currency currency) => new(0, currency);

    /// <summary>Returns an amount from a count of minor units.</summary>
    /// <param name="minorUnits">The amount in minor units, such as cents; may be negative.</param>
    /// <param name="currency">The currency.</param>
    /// <returns>The amount.</returns>
    /// <remarks>This is the exact inverse of <see cref="MinorUnits"/> and the way to read a payment provider's amount.</remarks>
    public static Money FromMinorUnits(long minorUnits, Currency currency) => new(minorUnits, currency);

    /// <summary>Returns an amount from a value in major units, such as 497.00m dollars.</summary>
    /// <param name="amount">The amount in major units; must be a whole number of minor units.</param>
    /// <param name="currency">The currency.</param>
    /// <returns>The amount.</returns>
    /// <remarks>
    /// No rounding is ever applied: 1.005m USD throws. Trailing zeros do not count, so 1.000m USD is accepted.
    /// To round, use <see cref="FromMajor(decimal, Funnel.Currency, MidpointRounding)"/>.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="amount"/> has more significant fraction digits than the currency's <see cref="Funnel.Currency.Exponent"/>.</exception>
    /// <exception cref="OverflowException">The amount in minor units does not fit in a <see cref="long"/>.</exception>
    public static Money FromMajor(decimal amount, Currency currency)
    {
        var exponent = currency.Exponent;
        if (decimal.Round(amount, exponent, MidpointRounding.ToZero) != amount)
        {
            throw new ArgumentException(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"{amount} {currency.Code} has more than {exponent} fraction digits; pass a MidpointRounding to round it."),
                nameof(amount));
        }

        return new Money(ToMinorUnits(amount, exponent), currency);
    }

    /// <summary>Returns an amount from a value in major units, rounded to whole minor units with the given rule.</summary>
    /// <param name="amount">The amount in major units.</param>
    /// <param name="currency">The currency.</param>
    /// <param name="rounding">How to round to the currency's <see cref="Funnel.Currency.Exponent"/> fraction digits.</param>
    /// <returns>The rounded amount.</returns>
    /// <remarks>For example 1.005m USD is 1.01 USD with <see cref="MidpointRounding.AwayFromZero"/> and 1.00 USD with <see cref="MidpointRounding.ToEven"/>.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rounding"/> is not a defined <see cref="MidpointRounding"/> value.</exception>
    /// <exception cref="OverflowException">The amount in minor units does not fit in a <see cref="long"/>.</exception>
    public static Money FromMajor(decimal amount, Currency currency, MidpointRounding rounding)
    {
        ValidateRounding(rounding);
        var exponent = currency.Exponent;
        return new Money(ToMinorUnits(decimal.Round(amount, exponent, rounding), exponent), currency);
    }

    /// <summary>Returns the sum of a sequence of amounts that are all in the given currency.</summary>
    /// <param name="values">The amounts to add.</param>
    /// <param name="currency">The currency of the result, and of every amount.</param>
    /// <returns>The total; <see cref="Zero"/> in <paramref name="currency"/> when <paramref name="values"/> is empty.</returns>
    /// <remarks>The currency is passed explicitly so that an empty sequence still has a well-defined total.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">An amount is not in <paramref name="currency"/>.</exception>
    /// <exception cref="OverflowException">The total does not fit in a <see cref="long"/>.</exception>
    public static Money Sum(IEnumerable<Money> values, Currency currency)
    {
        ArgumentNullException.ThrowIfNull(values);
        var total = 0L;
        foreach (var value in values)
        {
            if (value.Currency != currency)
            {
                throw CurrencyMismatch("sum", currency, value.Currency);
            }

            total = checked(total + value.MinorUnits);
        }

        return new Money(total, currency);
    }

    /// <summary>Returns the amount in major units, such as 497.00m for 49700 USD.</summary>
    /// <returns>The exact amount, with exactly <see cref="Funnel.Currency.Exponent"/> decimal places.</returns>
    public decimal ToMajor()
    {
        var negative = MinorUnits < 0;
        var magnitude = negative ? unchecked((ulong)-(MinorUnits + 1)) + 1UL : (ulong)MinorUnits;
        return new decimal(
            unchecked((int)(uint)magnitude),
            unchecked((int)(uint)(magnitude >> 32)),
            0,
            negative,
            (byte)Currency.Exponent);
    }

    /// <summary>Returns the sum of this amount and another in the same currency.</summary>
    /// <param name="other">The amount to add.</param>
    /// <returns>The sum.</returns>
    /// <exception cref="InvalidOperationException">The currencies differ.</exception>
    /// <exception cref="OverflowException">The result does not fit in a <see cref="long"/>.</exception>
    public Money Add(Money other)
    {
        EnsureSameCurrency(other, "add");
        return new Money(checked(MinorUnits + other.MinorUnits), Currency);
    }

    /// <summary>Returns this amount minus another in the same currency.</summary>
    /// <param name="other">The amount to subtract.</param>
    /// <returns>The difference.</returns>
    /// <exception cref="InvalidOperationException">The currencies differ.</exception>
    /// <exception cref="OverflowException">The result does not fit in a <see cref="long"/>.</exception>
    public Money Subtract(Money other)
    {
        EnsureSameCurrency(other, "subtract");
        return new Money(checked(MinorUnits - other.MinorUnits), Currency);
    }

    /// <summary>Returns this amount multiplied by a whole number, such as a quantity.</summary>
    /// <param name="factor">The multiplier; may be zero or negative.</param>
    /// <returns>The product.</returns>
    /// <exception cref="OverflowException">The result does not fit in a <see cref="long"/>.</exception>
    public Money Multiply(long factor) => new(checked(MinorUnits * factor), Currency);

    /// <summary>Returns this amount multiplied by a decimal factor, rounded to whole minor units with the given rule.</summary>
    /// <param name="factor">The multiplier, such as 1.19m for a 19% mark-up; may be zero or negative.</param>
    /// <param name="rounding">How to round the exact product to whole minor units.</param>
    /// <returns>The rounded product.</returns>
    /// <remarks>The product is computed exactly (no intermediate <see cref="decimal"/> rounding) and rounded once.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rounding"/> is not a defined <see cref="MidpointRounding"/> value.</exception>
    /// <exception cref="OverflowException">The result does not fit in a <see cref="long"/>.</exception>
    public Money Multiply(decimal factor, MidpointRounding rounding)
    {
        ValidateRounding(rounding);
        var (mantissa, scale) = Decompose(factor);
        return WithMinorUnits(RoundDivide(MinorUnits * mantissa, BigInteger.Pow(10, scale), rounding));
    }

    /// <summary>Returns the given percentage of this amount, rounded to whole minor units with the given rule.</summary>
    /// <param name="percent">The percentage, such as 10m for 10%; may exceed 100 or be negative.</param>
    /// <param name="rounding">How to round the exact result to whole minor units.</param>
    /// <returns>The rounded share; for example 10% of 4.97 USD with <see cref="MidpointRounding.AwayFromZero"/> is 0.50 USD.</returns>
    /// <remarks>The result is <c>MinorUnits × percent ÷ 100</c>, computed exactly and rounded once.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rounding"/> is not a defined <see cref="MidpointRounding"/> value.</exception>
    /// <exception cref="OverflowException">The result does not fit in a <see cref="long"/>.</exception>
    public Money Percentage(decimal percent, MidpointRounding rounding)
    {
        ValidateRounding(rounding);
        var (mantissa, scale) = Decompose(percent);
        return WithMinorUnits(RoundDivide(MinorUnits * mantissa, 100 * BigInteger.Pow(10, scale), rounding));
    }

    /// <summary>Returns this amount divided by a whole number, rounded to whole minor units with the given rule.</summary>
    /// <param name="divisor">The divisor; must not be zero.</param>
    /// <param name="rounding">How to round the exact quotient to whole minor units.</param>
    /// <returns>The rounded quotient.</returns>
    /// <remarks>Dividing loses the remainder; to split an amount into parts that add up to it, use <see cref="Allocate(int)"/>.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="divisor"/> is zero, or <paramref name="rounding"/> is not a defined <see cref="MidpointRounding"/> value.</exception>
    /// <exception cref="OverflowException">The result does not fit in a <see cref="long"/> (<see cref="long.MinValue"/> divided by -1).</exception>
    public Money Divide(long divisor, MidpointRounding rounding)
    {
        ArgumentOutOfRangeException.ThrowIfZero(divisor);
        ValidateRounding(rounding);
        BigInteger numerator = MinorUnits;
        BigInteger denominator = divisor;
        if (divisor < 0)
        {
            numerator = -numerator;
            denominator = -denominator;
        }

        return WithMinorUnits(RoundDivide(numerator, denominator, rounding));
    }

    /// <summary>Returns the amount with its sign reversed.</summary>
    /// <returns>The negated amount.</returns>
    /// <exception cref="OverflowException">The amount is <see cref="long.MinValue"/> minor units.</exception>
    public Money Negate() => new(checked(-MinorUnits), Currency);

    /// <summary>Returns the absolute value of the amount.</summary>
    /// <returns>The amount without its sign.</returns>
    /// <exception cref="OverflowException">The amount is <see cref="long.MinValue"/> minor units.</exception>
    public Money Abs() => MinorUnits < 0 ? Negate() : this;

    /// <summary>Splits the amount into equal parts that add up exactly to it.</summary>
    /// <param name="parts">The number of parts; at least 1.</param>
    /// <returns>The parts, in the same currency, summing exactly to this amount.</returns>
    /// <remarks>
    /// The parts differ by at most one minor unit, and the parts with the larger absolute value come first:
    /// 497.00 USD in 3 parts is 165.67, 165.67, 165.66. A negative amount splits as the negation of its absolute
    /// value (-1.00 USD in 3 parts is -0.34, -0.33, -0.33), so refunds mirror charges.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="parts"/> is zero or negative.</exception>
    public ImmutableArray<Money> Allocate(int parts)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parts);
        var quotient = MinorUnits / parts;
        var remainder = Math.Abs(MinorUnits % parts);
        var step = Math.Sign(MinorUnits);
        var builder = ImmutableArray.CreateBuilder<Money>(parts);
        for (var i = 0; i < parts; i++)
        {
            builder.Add(new Money(i < remainder ? quotient + step : quotient, Currency));
        }

        return builder.MoveToImmutable();
    }

    /// <summary>Splits the amount in proportion to the given ratios, such as 40/30/30, so the parts add up exactly to it.</summary>
    /// <param name="ratios">The non-negative weights, one per part; their sum must be positive.</param>
    /// <returns>The parts, in the order of <paramref name="ratios"/>, summing exactly to this amount.</returns>
    /// <remarks>
    /// Uses the largest-remainder (Hamilton) method: each part first gets its exact share rounded toward zero, then
    /// the minor units left over go one at a time to the parts with the largest discarded fractions, earlier parts
    /// winning ties. A part with ratio 0 therefore always gets zero, and equal ratios behave like
    /// <see cref="Allocate(int)"/>. A negative amount splits as the negation of its absolute value.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="ratios"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="ratios"/> is empty, contains a negative ratio, or sums to zero.</exception>
    public ImmutableArray<Money> Allocate(IReadOnlyList<long> ratios)
    {
        ArgumentNullException.ThrowIfNull(ratios);
        var count = ratios.Count;
        if (count == 0)
        {
            throw new ArgumentException("At least one ratio is required.", nameof(ratios));
        }

        Int128 total = 0;
        for (var i = 0; i < count; i++)
        {
            if (ratios[i] < 0)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"Ratios must not be negative, but ratio {i} is {ratios[i]}."),
                    nameof(ratios));
            }

            total += ratios[i];
        }

        if (total == 0)
        {
            throw new ArgumentException("The ratios must have a positive sum.", nameof(ratios));
        }

        // Work on the magnitude (at most 2^63) so negative amounts mirror positive ones.
        Int128 magnitude = MinorUnits;
        magnitude = Int128.Abs(magnitude);
        var shares = new Int128[count];
        var fractions = new Int128[count];
        Int128 allocated = 0;
        for (var i = 0; i < count; i++)
        {
            var exact = magnitude * ratios[i];
            shares[i] = exact / total;
            fractions[i] = exact % total;
            allocated += shares[i];
        }

        var leftover = (int)(magnitude - allocated); // < count, since each discarded fraction is < 1
        if (leftover > 0)
        {
            var order = new int[count];
            for (var i = 0; i < count; i++)
            {
                order[i] = i;
            }

            Array.Sort(order, (a, b) =>
            {
                var byFraction = fractions[b].CompareTo(fractions[a]);
                return byFraction != 0 ? byFraction : a.CompareTo(b);
            });
            for (var i = 0; i < leftover; i++)
            {
                shares[order[i]] += 1;
            }
        }

        var builder = ImmutableArray.CreateBuilder<Money>(count);
        foreach (var share in shares)
        {
            builder.Add(new Money((long)(MinorUnits < 0 ? -share : share), Currency));
        }

        return builder.MoveToImmutable();
    }

    /// <summary>Compares this amount with another in the same currency.</summary>
    /// <param name="other">The amount to compare with.</param>
    /// <returns>A negative number, zero or a positive number as this amount is less than, equal to or greater than <paramref name="other"/>.</returns>
    /// <exception cref="InvalidOperationException">The currencies differ.</exception>
    public int CompareTo(Money other)
    {
        EnsureSameCurrency(other, "compare");
        return MinorUnits.CompareTo(other.MinorUnits);
    }

    /// <summary>Compares this amount with an object that must be a <see cref="Money"/> in the same currency.</summary>
    /// <param name="obj">The object to compare with.</param>
    /// <returns>A negative number, zero or a positive number as this amount is less than, equal to or greater than <paramref name="obj"/>; positive when <paramref name="obj"/> is <see langword="null"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="obj"/> is not a <see cref="Money"/>.</exception>
    /// <exception cref="InvalidOperationException">The currencies differ.</exception>
    int IComparable.CompareTo(object? obj) => obj switch
    {
        null => 1,
        Money other => CompareTo(other),
        _ => throw new ArgumentException("The object must be a Money.", nameof(obj)),
    };

    /// <summary>Returns whether this amount has the same minor units and currency as another.</summary>
    /// <param name="other">The amount to compare with.</param>
    /// <returns><see langword="true"/> when both the minor units and the currencies are equal; <see langword="false"/> for different currencies.</returns>
    public bool Equals(Money other) => MinorUnits == other.MinorUnits && Currency == other.Currency;

    /// <summary>Returns whether an object is an equal <see cref="Money"/>.</summary>
    /// <param name="obj">The object to compare with.</param>
    /// <returns><see langword="true"/> when <paramref name="obj"/> is a <see cref="Money"/> with the same minor units and currency.</returns>
    public override bool Equals(object? obj) => obj is Money other && Equals(other);

    /// <summary>Returns a hash code combining the minor units and the currency.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode() => HashCode.Combine(MinorUnits, Currency);

    /// <summary>Returns the invariant text form, such as "USD 24850.00", "JPY 500" or "USD -5.00", which <see cref="Parse"/> reads back.</summary>
    /// <returns>The currency code, a space, and the amount with exactly <see cref="Funnel.Currency.Exponent"/> decimals and no group separators.</returns>
    public override string ToString() =>
        Currency.Code + " " + ToMajor().ToString("F" + Currency.Exponent.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>Formats the amount using the given format and the number symbols of the given provider.</summary>
    /// <param name="format">
    /// <c>null</c>, "" or "G": the invariant <see cref="ToString()"/> form, whatever the provider ("USD 24850.00").
    /// "N": group separators and exactly <see cref="Funnel.Currency.Exponent"/> decimals ("24,850.00"); "N0" to "N9": that many decimals.
    /// "C": the currency symbol, or the code and a space when there is none ("$24,850.00", "CHF 24,850.00"); "C0" to "C9": that many decimals.
    /// </param>
    /// <param name="formatProvider">Supplies the decimal and group separators and the negative sign; <see langword="null"/> means <see cref="CultureInfo.InvariantCulture"/>.</param>
    /// <returns>The formatted amount.</returns>
    /// <remarks>
    /// When a format shows fewer decimals than the currency has, the amount is rounded with
    /// <see cref="MidpointRounding.AwayFromZero"/> ("C0" of 0.50 USD is "$1"). Negative amounts put the negative sign
    /// first: "-$5.00", "-USD 5.00". Symbols always precede the amount; culture-specific currency patterns are not used.
    /// </remarks>
    /// <exception cref="FormatException"><paramref name="format"/> is not one of the supported formats.</exception>
    public string ToString(string? format, IFormatProvider? formatProvider)
    {
        if (string.IsNullOrEmpty(format) || format is "G" or "g")
        {
            return ToString();
        }

        var kind = char.ToUpperInvariant(format[0]);
        int decimals;
        if ((kind != 'N' && kind != 'C') || !TryGetPrecision(format.AsSpan(1), out decimals))
        {
            throw new FormatException(
                $"The format '{format}' is not supported for Money; use G, N, N0-N9, C or C0-C9.");
        }

        if (decimals < 0)
        {
            decimals = Currency.Exponent;
        }

        var numberFormat = NumberFormatInfo.GetInstance(formatProvider ?? CultureInfo.InvariantCulture);
        var major = decimal.Round(ToMajor(), decimals, MidpointRounding.AwayFromZero);
        var numberFormatString = "N" + decimals.ToString(CultureInfo.InvariantCulture);
        if (kind == 'N')
        {
            return major.ToString(numberFormatString, numberFormat);
        }

        var digits = Math.Abs(major).ToString(numberFormatString, numberFormat);
        var prefix = Currency.Symbol ?? Currency.Code + " ";
        return major < 0 ? numberFormat.NegativeSign + prefix + digits : prefix + digits;
    }

    /// <summary>Parses an amount written as a currency code and a number, such as "USD 1,234.56" or "1234.56 USD".</summary>
    /// <param name="text">The text: an ISO 4217 code before or after the number, separated by white space or not, with an optional sign before either ("-USD 5.00", "USD -5.00").</param>
    /// <param name="provider">Supplies the decimal and group separators and the signs; <see langword="null"/> means <see cref="CultureInfo.InvariantCulture"/>.</param>
    /// <returns>The amount.</returns>
    /// <remarks>
    /// Group separators are allowed. The number must not have more fraction digits than the currency's
    /// <see cref="Funnel.Currency.Exponent"/>, trailing zeros included, so "USD 1.200" and "JPY 500.0" are rejected rather
    /// than guessed at. Currency symbols ("$") are not accepted, since several currencies share them.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is <see langword="null"/>.</exception>
    /// <exception cref="FormatException"><paramref name="text"/> is not in a supported form, has an unknown currency code, or has too many fraction digits.</exception>
    /// <exception cref="OverflowException">The amount in minor units does not fit in a <see cref="long"/>.</exception>
    public static Money Parse(string text, IFormatProvider? provider = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParseCore(text, provider, out var value) switch
        {
            ParseStatus.Success => value,
            ParseStatus.Overflow => throw new OverflowException(
                $"The amount in '{text}' is too large to be represented in minor units."),
            ParseStatus.NoCurrency => throw new FormatException(
                $"'{text}' is not a valid amount: expected an ISO 4217 code and a number, such as 'USD 1234.56'."),
            ParseStatus.UnknownCurrency => throw new FormatException(
                $"'{text}' is not a valid amount: the currency code is not a known ISO 4217 code."),
            ParseStatus.TooManyDigits => throw new FormatException(string.Create(
                CultureInfo.InvariantCulture,
                $"'{text}' is not a valid amount: {value.Currency.Code} allows at most {value.Currency.Exponent} fraction digits.")),
            _ => throw new FormatException(
                $"'{text}' is not a valid amount: the number could not be read."),
        };
    }

    /// <summary>Parses an amount using the given number format provider; see <see cref="Parse"/>.</summary>
    /// <param name="s">The text to parse.</param>
    /// <param name="provider">Supplies the decimal and group separators and the signs; <see langword="null"/> means <see cref="CultureInfo.InvariantCulture"/>.</param>
    /// <returns>The amount.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="s"/> is <see langword="null"/>.</exception>
    /// <exception cref="FormatException"><paramref name="s"/> is not a valid amount.</exception>
    /// <exception cref="OverflowException">The amount in minor units does not fit in a <see cref="long"/>.</exception>
    static Money IParsable<Money>.Parse(string s, IFormatProvider? provider) => Parse(s, provider);

    /// <summary>Tries to parse an amount in the invariant form accepted by <see cref="Parse"/>.</summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="value">The amount when parsing succeeds; otherwise <c>default(Money)</c>.</param>
    /// <returns><see langword="true"/> when <paramref name="text"/> is a valid amount that fits in a <see cref="long"/>.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out Money value) => TryParse(text, null, out value);

    /// <summary>Tries to parse an amount using the given number format provider; see <see cref="Parse"/>.</summary>
    /// <param name="s">The text to parse.</param>
    /// <param name="provider">Supplies the decimal and group separators and the signs; <see langword="null"/> means <see cref="CultureInfo.InvariantCulture"/>.</param>
    /// <param name="result">The amount when parsing succeeds; otherwise <c>default(Money)</c>.</param>
    /// <returns><see langword="true"/> when <paramref name="s"/> is a valid amount that fits in a <see cref="long"/>.</returns>
    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out Money result)
    {
        if (s is not null && TryParseCore(s, provider, out result) == ParseStatus.Success)
        {
            return true;
        }

        result = default;
        return false;
    }

    /// <summary>Adds two amounts in the same currency.</summary>
    /// <param name="left">The first amount.</param>
    /// <param name="right">The second amount.</param>
    /// <returns>The sum.</returns>
    /// <exception cref="InvalidOperationException">The currencies differ.</exception>
    /// <exception cref="OverflowException">The result does not fit in a <see cref="long"/>.</exception>
    public static Money operator +(Money left, Money right) => left.Add(right);

    /// <summary>Subtracts one amount from another in the same currency.</summary>
    /// <param name="left">The amount to subtract from.</param>
    /// <param name="right">The amount to subtract.</param>
    /// <returns>The difference.</returns>
    /// <exception cref="InvalidOperationException">The currencies differ.</exception>
    /// <exception cref="OverflowException">The result does not fit in a <see cref="long"/>.</exception>
    public static Money operator -(Money left, Money right) => left.Subtract(right);

    /// <summary>Reverses the sign of an amount.</summary>
    /// <param name="value">The amount.</param>
    /// <returns>The negated amount.</returns>
    /// <exception cref="OverflowException">The amount is <see cref="long.MinValue"/> minor units.</exception>
    public static Money operator -(Money value) => value.Negate();

    /// <summary>Multiplies an amount by a whole number.</summary>
    /// <param name="left">The amount.</param>
    /// <param name="right">The multiplier.</param>
    /// <returns>The product.</returns>
    /// <exception cref="OverflowException">The result does not fit in a <see cref="long"/>.</exception>
    public static Money operator *(Money left, long right) => left.Multiply(right);

    /// <summary>Multiplies a whole number by an amount.</summary>
    /// <param name="left">The multiplier.</param>
    /// <param name="right">The amount.</param>
    /// <returns>The product.</returns>
    /// <exception cref="OverflowException">The result does not fit in a <see cref="long"/>.</exception>
    public static Money operator *(long left, Money right) => right.Multiply(left);

    /// <summary>Returns whether two amounts have the same minor units and currency.</summary>
    /// <param name="left">The first amount.</param>
    /// <param name="right">The second amount.</param>
    /// <returns><see langword="true"/> when equal; <see langword="false"/> for different currencies.</returns>
    public static bool operator ==(Money left, Money right) => left.Equals(right);

    /// <summary>Returns whether two amounts differ in minor units or currency.</summary>
    /// <param name="left">The first amount.</param>
    /// <param name="right">The second amount.</param>
    /// <returns><see langword="true"/> when not equal; <see langword="true"/> for different currencies.</returns>
    public static bool operator !=(Money left, Money right) => !left.Equals(right);

    /// <summary>Returns whether one amount is less than another in the same currency.</summary>
    /// <param name="left">The first amount.</param>
    /// <param name="right">The second amount.</param>
    /// <returns><see langword="true"/> when <paramref name="left"/> is less than <paramref name="right"/>.</returns>
    /// <exception cref="InvalidOperationException">The currencies differ.</exception>
    public static bool operator <(Money left, Money right) => left.CompareTo(right) < 0;

    /// <summary>Returns whether one amount is less than or equal to another in the same currency.</summary>
    /// <param name="left">The first amount.</param>
    /// <param name="right">The second amount.</param>
    /// <returns><see langword="true"/> when <paramref name="left"/> is less than or equal to <paramref name="right"/>.</returns>
    /// <exception cref="InvalidOperationException">The currencies differ.</exception>
    public static bool operator <=(Money left, Money right) => left.CompareTo(right) <= 0;

    /// <summary>Returns whether one amount is greater than another in the same currency.</summary>
    /// <param name="left">The first amount.</param>
    /// <param name="right">The second amount.</param>
    /// <returns><see langword="true"/> when <paramref name="left"/> is greater than <paramref name="right"/>.</returns>
    /// <exception cref="InvalidOperationException">The currencies differ.</exception>
    public static bool operator >(Money left, Money right) => left.CompareTo(right) > 0;

    /// <summary>Returns whether one amount is greater than or equal to another in the same currency.</summary>
    /// <param name="left">The first amount.</param>
    /// <param name="right">The second amount.</param>
    /// <returns><see langword="true"/> when <paramref name="left"/> is greater than or equal to <paramref name="right"/>.</returns>
    /// <exception cref="InvalidOperationException">The currencies differ.</exception>
    public static bool operator >=(Money left, Money right) => left.CompareTo(right) >= 0;

    private enum ParseStatus
    {
        Success,
        NoCurrency,
        UnknownCurrency,
        BadNumber,
        TooManyDigits,
        Overflow,
    }

    private static ParseStatus TryParseCore(string text, IFormatProvider? provider, out Money value)
    {
        value = default;
        var numberFormat = NumberFormatInfo.GetInstance(provider ?? CultureInfo.InvariantCulture);
        var span = text.AsSpan().Trim();

        // An optional sign may come before the code ("-USD 5.00").
        var negative = false;
        if (span.Length > numberFormat.NegativeSign.Length
            && span.StartsWith(numberFormat.NegativeSign, StringComparison.Ordinal)
            && char.IsAsciiLetter(span[numberFormat.NegativeSign.Length]))
        {
            negative = true;
            span = span[numberFormat.NegativeSign.Length..];
        }

        ReadOnlySpan<char> code;
        ReadOnlySpan<char> number;
        if (span.Length >= 3 && IsCodeAt(span, 0))
        {
            code = span[..3];
            number = span[3..].Trim();
        }
        else if (!negative && span.Length >= 3 && IsCodeAt(span, span.Length - 3))
        {
            code = span[^3..];
            number = span[..^3].Trim();
        }
        else
        {
            return ParseStatus.NoCurrency;
        }

        if (!Currency.TryFromCode(code.ToString(), out var currency))
        {
            return ParseStatus.UnknownCurrency;
        }

        const NumberStyles Styles = NumberStyles.AllowLeadingSign | NumberStyles.AllowThousands | NumberStyles.AllowDecimalPoint;
        if (number.IsEmpty || !decimal.TryParse(number, Styles, numberFormat, out var major))
        {
            // decimal.TryParse also fails on values beyond decimal's range; report those as overflow.
            return number.Length > 0 && IsOnlyDigitsAndSeparators(number, numberFormat) ? ParseStatus.Overflow : ParseStatus.BadNumber;
        }

        if (negative)
        {
            if (number.StartsWith(numberFormat.NegativeSign, StringComparison.Ordinal) || number.StartsWith(numberFormat.PositiveSign, StringComparison.Ordinal))
            {
                return ParseStatus.BadNumber;
            }

            major = -major;
        }

        value = new Money(0, currency);
        if (major.Scale > currency.Exponent)
        {
            return ParseStatus.TooManyDigits;
        }

        try
        {
            value = new Money(ToMinorUnits(major, currency.Exponent), currency);
            return ParseStatus.Success;
        }
        catch (OverflowException)
        {
            value = default;
            return ParseStatus.Overflow;
        }
    }

    private static bool IsCodeAt(ReadOnlySpan<char> span, int start) =>
        char.IsAsciiLetter(span[start]) && char.IsAsciiLetter(span[start + 1]) && char.IsAsciiLetter(span[start + 2])
        && (start + 3 == span.Length || !char.IsAsciiLetter(span[start + 3]))
        && (start == 0 || !char.IsAsciiLetter(span[start - 1]));

    private static bool IsOnlyDigitsAndSeparators(ReadOnlySpan<char> number, NumberFormatInfo numberFormat)
    {
        var rest = number;
        if (rest.StartsWith(numberFormat.NegativeSign, StringComparison.Ordinal))
        {
            rest = rest[numberFormat.NegativeSign.Length..];
        }

        foreach (var c in rest)
        {
            if (!char.IsAsciiDigit(c)
                && numberFormat.NumberDecimalSeparator.IndexOf(c, StringComparison.Ordinal) < 0
                && numberFormat.NumberGroupSeparator.IndexOf(c, StringComparison.Ordinal) < 0)
            {
                return false;
            }
        }

        return rest.Length > 0;
    }

    private static bool TryGetPrecision(ReadOnlySpan<char> text, out int decimals)
    {
        decimals = -1;
        if (text.IsEmpty)
        {
            return true;
        }

        if (text.Length == 1 && char.IsAsciiDigit(text[0]))
        {
            decimals = text[0] - '0';
            return true;
        }

        return false;
    }

    /// <summary>Converts a major amount that is already a whole number of minor units.</summary>
    private static long ToMinorUnits(decimal major, int exponent) =>
        decimal.ToInt64(major * PowersOfTen[exponent]); // exact: major has at most `exponent` significant decimals

    private static (BigInteger Mantissa, int Scale) Decompose(decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var mantissa = new BigInteger(unchecked((uint)bits[0]))
            | (new BigInteger(unchecked((uint)bits[1])) << 32)
            | (new BigInteger(unchecked((uint)bits[2])) << 64);
        if (value < 0)
        {
            mantissa = -mantissa;
        }

        return (mantissa, value.Scale);
    }

    /// <summary>Divides exactly and rounds once; <paramref name="denominator"/> must be positive.</summary>
    private static BigInteger RoundDivide(BigInteger numerator, BigInteger denominator, MidpointRounding rounding)
    {
        var quotient = BigInteger.DivRem(numerator, denominator, out var remainder);
        if (remainder.IsZero)
        {
            return quotient;
        }

        var sign = numerator.Sign;
        var half = (BigInteger.Abs(remainder) * 2).CompareTo(denominator);
        var awayFromZero = rounding switch
        {
            MidpointRounding.ToEven => half > 0 || (half == 0 && !quotient.IsEven),
            MidpointRounding.AwayFromZero => half >= 0,
            MidpointRounding.ToZero => false,
            MidpointRounding.ToNegativeInfinity => sign < 0,
            MidpointRounding.ToPositiveInfinity => sign > 0,
            _ => throw new ArgumentOutOfRangeException(nameof(rounding), rounding, "Unknown rounding mode."),
        };

        return awayFromZero ? quotient + sign : quotient;
    }

    private static void ValidateRounding(MidpointRounding rounding)
    {
        if (rounding is < MidpointRounding.ToEven or > MidpointRounding.ToPositiveInfinity)
        {
            throw new ArgumentOutOfRangeException(nameof(rounding), rounding, "Unknown MidpointRounding value.");
        }
    }

    private static InvalidOperationException CurrencyMismatch(string operation, Currency left, Currency right) =>
        new($"Cannot {operation} {left.Code} and {right.Code} amounts: currencies must match.");

    private Money WithMinorUnits(BigInteger minorUnits) => new((long)minorUnits, Currency);

    /// <summary>Throws the standard mismatch error unless <paramref name="other"/> is in this amount's currency.</summary>
    internal void EnsureSameCurrency(Money other, string operation)
    {
        if (Currency != other.Currency)
        {
            throw CurrencyMismatch(operation, Currency, other.Currency);
        }
    }
}
