using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Funnel.Tests;

public class MoneyTests
{
    private static Money Usd(long cents) => new(cents, Currency.USD);

    // Construction and conversion

    [Fact]
    public void Constructor_MinorUnitsAndCurrency_StoresBoth()
    {
        var money = new Money(49700, Currency.USD);

        money.MinorUnits.ShouldBe(49700);
        money.Currency.ShouldBe(Currency.USD);
    }

    [Fact]
    public void Default_IsZeroInNoCurrency()
    {
        var money = default(Money);

        money.MinorUnits.ShouldBe(0);
        money.Currency.ShouldBe(default(Currency));
        money.Currency.Code.ShouldBe("XXX");
        money.IsZero.ShouldBeTrue();
        money.ToString().ShouldBe("XXX 0");
        money.ShouldBe(Money.Zero(Currency.FromCode("XXX")));
        money.ShouldNotBe(Money.Zero(Currency.USD));
        Money.Parse(money.ToString()).ShouldBe(money);
    }

    [Fact]
    public void Add_DefaultToRealCurrency_Throws()
    {
        Should.Throw<InvalidOperationException>(() => default(Money) + Usd(1)).Message.ShouldContain("XXX");
    }

    [Fact]
    public void Zero_Currency_IsZeroInThatCurrency()
    {
        var zero = Money.Zero(Currency.EUR);

        zero.MinorUnits.ShouldBe(0);
        zero.Currency.ShouldBe(Currency.EUR);
    }

    [Fact]
    public void FromMinorUnits_Value_EqualsConstructor()
    {
        Money.FromMinorUnits(-42, Currency.GBP).ShouldBe(new Money(-42, Currency.GBP));
    }

    [Theory]
    [InlineData("497", "USD", 49700)]
    [InlineData("497.5", "USD", 49750)]
    [InlineData("1.000", "USD", 100)]
    [InlineData("-0.01", "USD", -1)]
    [InlineData("500", "JPY", 500)]
    [InlineData("1.234", "KWD", 1234)]
    [InlineData("1.2345", "CLF", 12345)]
    public void FromMajor_ExactAmount_ConvertsToMinorUnits(string amount, string code, long expected)
    {
        var money = Money.FromMajor(decimal.Parse(amount, CultureInfo.InvariantCulture), Currency.FromCode(code));

        money.MinorUnits.ShouldBe(expected);
    }

    [Fact]
    public void FromMajor_TooManyFractionDigits_ThrowsArgumentException()
    {
        var exception = Should.Throw<ArgumentException>(() => Money.FromMajor(1.005m, Currency.USD));

        exception.ParamName.ShouldBe("amount");
        exception.Message.ShouldContain("USD");
    }

    [Fact]
    public void FromMajor_FractionOfYen_ThrowsArgumentException()
    {
        Should.Throw<ArgumentException>(() => Money.FromMajor(1.5m, Currency.JPY));
    }

    [Fact]
    public void FromMajor_TinyFractionAtDecimalPrecisionLimit_ThrowsArgumentException()
    {
        Should.Throw<ArgumentException>(() => Money.FromMajor(1.0000000000000000000000000001m, Currency.USD));
    }

    [Fact]
    public void FromMajor_BeyondLongRange_ThrowsOverflowException()
    {
        Should.Throw<OverflowException>(() => Money.FromMajor(100_000_000_000_000_000m, Currency.USD));
    }

    [Theory]
    [InlineData(MidpointRounding.AwayFromZero, 101)]
    [InlineData(MidpointRounding.ToEven, 100)]
    [InlineData(MidpointRounding.ToZero, 100)]
    [InlineData(MidpointRounding.ToPositiveInfinity, 101)]
    [InlineData(MidpointRounding.ToNegativeInfinity, 100)]
    public void FromMajor_WithRounding_RoundsWithThatRule(MidpointRounding rounding, long expected)
    {
        Money.FromMajor(1.005m, Currency.USD, rounding).MinorUnits.ShouldBe(expected);
    }

    [Fact]
    public void FromMajor_UndefinedRounding_ThrowsArgumentOutOfRangeException()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => Money.FromMajor(1m, Currency.USD, (MidpointRounding)42));
    }

    [Fact]
    public void ToMajor_Cents_ReturnsDecimalWithExponentPlaces()
    {
        var major = Usd(49700).ToMajor();

        major.ShouldBe(497.00m);
        major.Scale.ShouldBe((byte)2);
        major.ToString(CultureInfo.InvariantCulture).ShouldBe("497.00");
    }

    [Theory]
    [InlineData(long.MaxValue, "92233720368547758.07")]
    [InlineData(long.MinValue, "-92233720368547758.08")]
    [InlineData(-5, "-0.05")]
    public void ToMajor_ExtremeValues_IsExact(long cents, string expected)
    {
        Usd(cents).ToMajor().ToString(CultureInfo.InvariantCulture).ShouldBe(expected);
    }

    [Fact]
    public void ToMajor_Yen_HasNoDecimals()
    {
        new Money(500, Currency.JPY).ToMajor().ToString(CultureInfo.InvariantCulture).ShouldBe("500");
    }

    [Theory]
    [InlineData(0, true, false, false)]
    [InlineData(-1, false, true, false)]
    [InlineData(1, false, false, true)]
    public void SignProperties_Amount_ReflectSign(long cents, bool zero, bool negative, bool positive)
    {
        var money = Usd(cents);

        money.IsZero.ShouldBe(zero);
        money.IsNegative.ShouldBe(negative);
        money.IsPositive.ShouldBe(positive);
    }

    // Arithmetic

    [Fact]
    public void Add_SameCurrency_AddsMinorUnits()
    {
        (Usd(150) + Usd(250)).ShouldBe(Usd(400));
        Usd(150).Add(Usd(-250)).ShouldBe(Usd(-100));
    }

    [Fact]
    public void Subtract_SameCurrency_SubtractsMinorUnits()
    {
        (Usd(150) - Usd(250)).ShouldBe(Usd(-100));
        Usd(150).Subtract(Usd(50)).ShouldBe(Usd(100));
    }

    [Fact]
    public void Add_DifferentCurrencies_ThrowsNamingBothCodes()
    {
        var exception = Should.Throw<InvalidOperationException>(() => Usd(1) + new Money(1, Currency.EUR));

        exception.Message.ShouldBe("Cannot add USD and EUR amounts: currencies must match.");
    }

    [Fact]
    public void Subtract_DifferentCurrencies_ThrowsNamingBothCodes()
    {
        var exception = Should.Throw<InvalidOperationException>(() => Usd(1) - new Money(1, Currency.GBP));

        exception.Message.ShouldContain("USD");
        exception.Message.ShouldContain("GBP");
    }

    [Fact]
    public void CompareTo_DifferentCurrencies_Throws()
    {
        var exception = Should.Throw<InvalidOperationException>(() => Usd(1).CompareTo(new Money(1, Currency.JPY)));

        exception.Message.ShouldContain("USD");
        exception.Message.ShouldContain("JPY");
    }

    [Fact]
    public void ComparisonOperators_DifferentCurrencies_Throw()
    {
        var usd = Usd(1);
        var eur = new Money(1, Currency.EUR);

        Should.Throw<InvalidOperationException>(() => usd < eur);
        Should.Throw<InvalidOperationException>(() => usd <= eur);
        Should.Throw<InvalidOperationException>(() => usd > eur);
        Should.Throw<InvalidOperationException>(() => usd >= eur);
    }

    [Fact]
    public void Equals_DifferentCurrencies_ReturnsFalseWithoutThrowing()
    {
        var usd = Usd(100);
        var eur = new Money(100, Currency.EUR);

        usd.Equals(eur).ShouldBeFalse();
        (usd == eur).ShouldBeFalse();
        (usd != eur).ShouldBeTrue();
        usd.Equals((object)eur).ShouldBeFalse();
    }

    [Fact]
    public void Equals_SameValue_IsEqualWithSameHashCode()
    {
        Usd(100).Equals((object)Usd(100)).ShouldBeTrue();
        Usd(100).GetHashCode().ShouldBe(Usd(100).GetHashCode());
        Usd(100).Equals((object)100L).ShouldBeFalse();
    }

    [Fact]
    public void Add_PastLongMaxValue_ThrowsOverflowException()
    {
        Should.Throw<OverflowException>(() => Usd(long.MaxValue) + Usd(1));
    }

    [Fact]
    public void Subtract_PastLongMinValue_ThrowsOverflowException()
    {
        Should.Throw<OverflowException>(() => Usd(long.MinValue) - Usd(1));
    }

    [Fact]
    public void Multiply_ByLong_MultipliesMinorUnits()
    {
        (Usd(497) * 3).ShouldBe(Usd(1491));
        (3 * Usd(497)).ShouldBe(Usd(1491));
        Usd(497).Multiply(-2).ShouldBe(Usd(-994));
    }

    [Fact]
    public void Multiply_ByLongOverflowing_ThrowsOverflowException()
    {
        Should.Throw<OverflowException>(() => Usd(long.MaxValue / 2) * 3);
    }

    [Fact]
    public void Negate_Amount_ReversesSign()
    {
        (-Usd(500)).ShouldBe(Usd(-500));
        Usd(-500).Negate().ShouldBe(Usd(500));
    }

    [Fact]
    public void Negate_LongMinValue_ThrowsOverflowException()
    {
        Should.Throw<OverflowException>(() => -Usd(long.MinValue));
        Should.Throw<OverflowException>(() => Usd(long.MinValue).Abs());
    }

    [Fact]
    public void Abs_NegativeAndPositive_ReturnsMagnitude()
    {
        Usd(-500).Abs().ShouldBe(Usd(500));
        Usd(500).Abs().ShouldBe(Usd(500));
    }

    [Theory]
    [InlineData(1000, "1.19", MidpointRounding.AwayFromZero, 1190)]
    [InlineData(5, "0.5", MidpointRounding.AwayFromZero, 3)]
    [InlineData(5, "0.5", MidpointRounding.ToEven, 2)]
    [InlineData(-5, "0.5", MidpointRounding.AwayFromZero, -3)]
    [InlineData(-5, "0.5", MidpointRounding.ToEven, -2)]
    [InlineData(-5, "0.5", MidpointRounding.ToNegativeInfinity, -3)]
    [InlineData(-5, "0.5", MidpointRounding.ToPositiveInfinity, -2)]
    [InlineData(7, "0.5", MidpointRounding.ToZero, 3)]
    [InlineData(100, "-0.333", MidpointRounding.AwayFromZero, -33)]
    public void Multiply_ByDecimal_RoundsWithGivenRule(long cents, string factor, MidpointRounding rounding, long expected)
    {
        Usd(cents).Multiply(decimal.Parse(factor, CultureInfo.InvariantCulture), rounding).ShouldBe(Usd(expected));
    }

    [Fact]
    public void Multiply_ByDecimalNearMidpointOnLargeAmount_RoundsExactProductNotDecimalApproximation()
    {
        // Exact product: 8500000000000000002.5 + 0.00000000034..., just above the midpoint. A plain decimal
        // multiplication rounds that to ...002.5 and ToEven would then give ...002.
        var money = Usd(3_400_000_000_000_000_001);

        var product = money.Multiply(2.5000000000000000000000000001m, MidpointRounding.ToEven);

        product.MinorUnits.ShouldBe(8_500_000_000_000_000_003);
    }

    [Fact]
    public void Multiply_ByDecimalOverflowing_ThrowsOverflowException()
    {
        Should.Throw<OverflowException>(() => Usd(long.MaxValue).Multiply(1.5m, MidpointRounding.ToEven));
    }

    [Fact]
    public void Percentage_TenPercentOfPrice_RoundsAwayFromZero()
    {
        Usd(497).Percentage(10m, MidpointRounding.AwayFromZero).ShouldBe(Usd(50));
        Usd(497).Percentage(10m, MidpointRounding.ToZero).ShouldBe(Usd(49));
    }

    [Theory]
    [InlineData("100", 49700)]
    [InlineData("250", 124250)]
    [InlineData("-20", -9940)]
    [InlineData("0", 0)]
    [InlineData("33.333", 16567)] // 16566.501
    public void Percentage_AnyPercent_IsExactShareRounded(string percent, long expected)
    {
        Usd(49700).Percentage(decimal.Parse(percent, CultureInfo.InvariantCulture), MidpointRounding.AwayFromZero)
            .ShouldBe(Usd(expected));
    }

    [Fact]
    public void Percentage_Overflowing_ThrowsOverflowException()
    {
        Should.Throw<OverflowException>(() => Usd(long.MaxValue).Percentage(200m, MidpointRounding.ToEven));
    }

    [Theory]
    [InlineData(49700, 3, MidpointRounding.AwayFromZero, 16567)]
    [InlineData(49700, 3, MidpointRounding.ToZero, 16566)]
    [InlineData(5, 2, MidpointRounding.ToEven, 2)]
    [InlineData(5, 2, MidpointRounding.AwayFromZero, 3)]
    [InlineData(5, -2, MidpointRounding.AwayFromZero, -3)]
    [InlineData(-5, 2, MidpointRounding.ToNegativeInfinity, -3)]
    public void Divide_ByLong_RoundsWithGivenRule(long cents, long divisor, MidpointRounding rounding, long expected)
    {
        Usd(cents).Divide(divisor, rounding).ShouldBe(Usd(expected));
    }

    [Fact]
    public void Divide_ByZero_ThrowsArgumentOutOfRangeException()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => Usd(100).Divide(0, MidpointRounding.ToEven)).ParamName.ShouldBe("divisor");
    }

    [Fact]
    public void Divide_LongMinValueByMinusOne_ThrowsOverflowException()
    {
        Should.Throw<OverflowException>(() => Usd(long.MinValue).Divide(-1, MidpointRounding.ToEven));
    }

    [Fact]
    public void Divide_UndefinedRounding_ThrowsArgumentOutOfRangeException()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => Usd(100).Divide(3, (MidpointRounding)(-1))).ParamName.ShouldBe("rounding");
    }

    // Allocation

    [Fact]
    public void Allocate_ThreeWays_SumsToTotal()
    {
        var parts = Usd(49700).Allocate(3);

        parts.ShouldBe([Usd(16567), Usd(16567), Usd(16566)]);
        Money.Sum(parts, Currency.USD).ShouldBe(Usd(49700));
    }

    [Fact]
    public void Allocate_HundredIntoThree_PutsExtraUnitFirst()
    {
        Usd(100).Allocate(3).Select(m => m.MinorUnits).ShouldBe([34L, 33L, 33L]);
    }

    [Fact]
    public void Allocate_NegativeAmount_MirrorsPositiveAllocation()
    {
        Usd(-100).Allocate(3).Select(m => m.MinorUnits).ShouldBe([-34L, -33L, -33L]);
    }

    [Fact]
    public void Allocate_MorePartsThanUnits_GivesZeroToTheRest()
    {
        Usd(2).Allocate(4).Select(m => m.MinorUnits).ShouldBe([1L, 1L, 0L, 0L]);
    }

    [Fact]
    public void Allocate_OnePart_ReturnsWholeAmount()
    {
        Usd(long.MinValue).Allocate(1).ShouldBe([Usd(long.MinValue)]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Allocate_NonPositiveParts_ThrowsArgumentOutOfRangeException(int parts)
    {
        Should.Throw<ArgumentOutOfRangeException>(() => Usd(100).Allocate(parts)).ParamName.ShouldBe("parts");
    }

    [Fact]
    public void Allocate_Yen_KeepsWholeYen()
    {
        new Money(1000, Currency.JPY).Allocate(3).Select(m => m.MinorUnits).ShouldBe([334L, 333L, 333L]);
    }

    [Fact]
    public void AllocateWeighted_FortyThirtyThirty_SplitsExactly()
    {
        Usd(10000).Allocate([40, 30, 30]).ShouldBe([Usd(4000), Usd(3000), Usd(3000)]);
    }

    [Fact]
    public void AllocateWeighted_Remainder_GoesToLargestFractions()
    {
        // Exact shares of 0.05 by 1/2/2: 1, 2, 2.  Of 0.04: 0.8, 1.6, 1.6 -> 0, 1, 1 plus 2 left over,
        // which go to the largest fractions (0.8 first, then the earlier 0.6).
        Usd(4).Allocate([1, 2, 2]).Select(m => m.MinorUnits).ShouldBe([1L, 2L, 1L]);
    }

    [Fact]
    public void AllocateWeighted_OneCent_GoesToLargestRatio()
    {
        Usd(1).Allocate([30, 40, 30]).Select(m => m.MinorUnits).ShouldBe([0L, 1L, 0L]);
    }

    [Fact]
    public void AllocateWeighted_ZeroRatio_GetsNothing()
    {
        Usd(3).Allocate([0, 1, 1]).Select(m => m.MinorUnits).ShouldBe([0L, 2L, 1L]);
    }

    [Fact]
    public void AllocateWeighted_EqualRatios_MatchesAllocateByParts()
    {
        Usd(-49700).Allocate([7, 7, 7]).ShouldBe(Usd(-49700).Allocate(3));
    }

    [Fact]
    public void AllocateWeighted_HugeRatiosAndAmount_DoesNotOverflow()
    {
        var parts = Usd(long.MaxValue).Allocate([long.MaxValue, long.MaxValue, 1]);

        parts.Sum(m => (decimal)m.MinorUnits).ShouldBe(long.MaxValue);
        parts[2].MinorUnits.ShouldBe(1);
    }

    [Fact]
    public void AllocateWeighted_Null_ThrowsArgumentNullException()
    {
        Should.Throw<ArgumentNullException>(() => Usd(1).Allocate(null!)).ParamName.ShouldBe("ratios");
    }

    [Theory]
    [InlineData(new long[0])]
    [InlineData(new long[] { 0, 0 })]
    [InlineData(new long[] { 1, -1, 2 })]
    public void AllocateWeighted_InvalidRatios_ThrowsArgumentException(long[] ratios)
    {
        Should.Throw<ArgumentException>(() => Usd(100).Allocate(ratios)).ParamName.ShouldBe("ratios");
    }

    // Sum

    [Fact]
    public void Sum_Amounts_AddsThem()
    {
        Money.Sum([Usd(100), Usd(250), Usd(-50)], Currency.USD).ShouldBe(Usd(300));
    }

    [Fact]
    public void Sum_Empty_ReturnsZeroInCurrency()
    {
        Money.Sum([], Currency.EUR).ShouldBe(Money.Zero(Currency.EUR));
    }

    [Fact]
    public void Sum_MixedCurrencies_Throws()
    {
        var exception = Should.Throw<InvalidOperationException>(
            () => Money.Sum([Usd(100), new Money(1, Currency.EUR)], Currency.USD));

        exception.Message.ShouldContain("USD");
        exception.Message.ShouldContain("EUR");
    }

    [Fact]
    public void Sum_AmountsNotInRequestedCurrency_Throws()
    {
        Should.Throw<InvalidOperationException>(() => Money.Sum([Usd(100)], Currency.EUR));
    }

    [Fact]
    public void Sum_Overflowing_ThrowsOverflowException()
    {
        Should.Throw<OverflowException>(() => Money.Sum([Usd(long.MaxValue), Usd(1)], Currency.USD));
    }

    [Fact]
    public void Sum_Null_ThrowsArgumentNullException()
    {
        Should.Throw<ArgumentNullException>(() => Money.Sum(null!, Currency.USD)).ParamName.ShouldBe("values");
    }

    // Comparison

    [Fact]
    public void CompareTo_SameCurrency_OrdersByAmount()
    {
        Usd(1).CompareTo(Usd(2)).ShouldBeNegative();
        Usd(2).CompareTo(Usd(1)).ShouldBePositive();
        Usd(2).CompareTo(Usd(2)).ShouldBe(0);
        (Usd(1) < Usd(2)).ShouldBeTrue();
        (Usd(2) <= Usd(2)).ShouldBeTrue();
        (Usd(3) > Usd(2)).ShouldBeTrue();
        (Usd(2) >= Usd(3)).ShouldBeFalse();
    }

    [Fact]
    public void CompareToObject_NullOrOtherType_FollowsIComparableContract()
    {
        IComparable comparable = Usd(1);

        comparable.CompareTo(null).ShouldBePositive();
        comparable.CompareTo(Usd(1)).ShouldBe(0);
        Should.Throw<ArgumentException>(() => comparable.CompareTo(1L));
        Should.Throw<InvalidOperationException>(() => comparable.CompareTo(new Money(1, Currency.EUR)));
    }

    [Fact]
    public void Sort_SameCurrency_UsesCompareTo()
    {
        var sorted = new List<Money> { Usd(3), Usd(-1), Usd(2) }.Order().ToList();

        sorted.ShouldBe([Usd(-1), Usd(2), Usd(3)]);
    }

    // Formatting

    [Theory]
    [InlineData(2485000, "USD", "USD 24850.00")]
    [InlineData(-500, "USD", "USD -5.00")]
    [InlineData(5, "USD", "USD 0.05")]
    [InlineData(500, "JPY", "JPY 500")]
    [InlineData(1234, "KWD", "KWD 1.234")]
    [InlineData(12345, "CLF", "CLF 1.2345")]
    public void ToString_Amount_IsInvariantCodeAndNumber(long minor, string code, string expected)
    {
        new Money(minor, Currency.FromCode(code)).ToString().ShouldBe(expected);
    }

    [Theory]
    [InlineData(2485000, "USD", null, "USD 24850.00")]
    [InlineData(2485000, "USD", "G", "USD 24850.00")]
    [InlineData(2485000, "USD", "N", "24,850.00")]
    [InlineData(2485000, "USD", "N0", "24,850")]
    [InlineData(2485000, "USD", "N4", "24,850.0000")]
    [InlineData(2485000, "USD", "C", "$24,850.00")]
    [InlineData(2485000, "USD", "C0", "$24,850")]
    [InlineData(-500, "USD", "C", "-$5.00")]
    [InlineData(-500, "USD", "N", "-5.00")]
    [InlineData(2485000, "CHF", "C", "CHF 24,850.00")]
    [InlineData(-500, "CHF", "C", "-CHF 5.00")]
    [InlineData(2485000, "EUR", "C", "€24,850.00")]
    [InlineData(500, "JPY", "C", "¥500")]
    [InlineData(1234, "KWD", "N", "1.234")]
    [InlineData(1234, "KWD", "C2", "KWD 1.23")]
    public void ToStringFormat_SupportedFormats_FormatAsDocumented(long minor, string code, string? format, string expected)
    {
        new Money(minor, Currency.FromCode(code)).ToString(format, null).ShouldBe(expected);
    }

    [Theory]
    [InlineData(50, "C0", "$1")]
    [InlineData(-50, "C0", "-$1")]
    [InlineData(250, "N0", "3")]
    [InlineData(-250, "N0", "-3")]
    [InlineData(349, "N0", "3")]
    [InlineData(5, "N1", "0.1")]
    public void ToStringFormat_FewerDecimals_RoundsAwayFromZero(long cents, string format, string expected)
    {
        Usd(cents).ToString(format, CultureInfo.InvariantCulture).ShouldBe(expected);
    }

    [Fact]
    public void ToStringFormat_Provider_UsesItsSeparators()
    {
        var german = new NumberFormatInfo { NumberDecimalSeparator = ",", NumberGroupSeparator = "." };

        Usd(2485000).ToString("C", german).ShouldBe("$24.850,00");
        Usd(2485000).ToString("G", german).ShouldBe("USD 24850.00");
    }

    [Fact]
    public void StringInterpolation_Format_UsesIFormattable()
    {
        var money = Usd(2485000);

        string.Create(CultureInfo.InvariantCulture, $"{money:C0}").ShouldBe("$24,850");
    }

    [Theory]
    [InlineData("X")]
    [InlineData("C10")]
    [InlineData("N-1")]
    [InlineData("D")]
    public void ToStringFormat_UnknownFormat_ThrowsFormatException(string format)
    {
        Should.Throw<FormatException>(() => Usd(1).ToString(format, null)).Message.ShouldContain(format);
    }

    // Parsing

    [Theory]
    [InlineData("USD 1234.56", 123456)]
    [InlineData("USD 1,234.56", 123456)]
    [InlineData("1234.56 USD", 123456)]
    [InlineData("1,234.56 USD", 123456)]
    [InlineData("-USD 5.00", -500)]
    [InlineData("USD -5.00", -500)]
    [InlineData("-5.00 USD", -500)]
    [InlineData("  usd 5  ", 500)]
    [InlineData("USD5.5", 550)]
    [InlineData("USD 0.05", 5)]
    [InlineData("USD 92233720368547758.07", long.MaxValue)]
    [InlineData("USD -92233720368547758.08", long.MinValue)]
    public void Parse_SupportedForms_ReturnsAmount(string text, long expectedCents)
    {
        Money.Parse(text).ShouldBe(Usd(expectedCents));
    }

    [Fact]
    public void Parse_Yen_HasNoDecimals()
    {
        Money.Parse("JPY 500").ShouldBe(new Money(500, Currency.JPY));
    }

    [Theory]
    [InlineData("USD 24850.00")]
    [InlineData("JPY 500")]
    [InlineData("USD -5.00")]
    [InlineData("KWD 1.234")]
    [InlineData("XXX 0")]
    public void Parse_ToStringOutput_RoundTrips(string text)
    {
        Money.Parse(text).ToString().ShouldBe(text);
    }

    [Theory]
    [InlineData("USD 1.005")]
    [InlineData("USD 1.200")]
    [InlineData("JPY 500.0")]
    public void Parse_TooManyFractionDigits_ThrowsFormatExceptionNamingLimit(string text)
    {
        var exception = Should.Throw<FormatException>(() => Money.Parse(text));

        exception.Message.ShouldContain("fraction digits");
        exception.Message.ShouldContain(text);
    }

    [Fact]
    public void Parse_UnknownCode_ThrowsFormatExceptionNamingText()
    {
        var exception = Should.Throw<FormatException>(() => Money.Parse("ABC 1.00"));

        exception.Message.ShouldContain("ABC 1.00");
        exception.Message.ShouldContain("ISO 4217");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("USD")]
    [InlineData("1234.56")]
    [InlineData("$5.00")]
    [InlineData("USD 5.00 EUR")]
    [InlineData("USD 1e5")]
    [InlineData("-USD -5.00")]
    [InlineData("USD five")]
    [InlineData("USDX 5")]
    public void Parse_Malformed_ThrowsFormatException(string text)
    {
        Should.Throw<FormatException>(() => Money.Parse(text));
    }

    [Theory]
    [InlineData("USD 92233720368547758.08")]
    [InlineData("USD 99999999999999999999999999999999")]
    public void Parse_BeyondLongRange_ThrowsOverflowException(string text)
    {
        Should.Throw<OverflowException>(() => Money.Parse(text));
    }

    [Fact]
    public void Parse_Null_ThrowsArgumentNullException()
    {
        Should.Throw<ArgumentNullException>(() => Money.Parse(null!)).ParamName.ShouldBe("text");
    }

    [Fact]
    public void Parse_Provider_UsesItsSeparators()
    {
        var german = new NumberFormatInfo { NumberDecimalSeparator = ",", NumberGroupSeparator = "." };

        Money.Parse("EUR 1.234,56", german).ShouldBe(new Money(123456, Currency.EUR));
    }

    [Fact]
    public void TryParse_Valid_ReturnsTrueAndAmount()
    {
        Money.TryParse("GBP 12.34", out var value).ShouldBeTrue();

        value.ShouldBe(new Money(1234, Currency.GBP));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("USD 1.005")]
    [InlineData("ABC 1")]
    [InlineData("USD 99999999999999999999")]
    public void TryParse_Invalid_ReturnsFalseAndDefault(string? text)
    {
        Money.TryParse(text, out var value).ShouldBeFalse();

        value.ShouldBe(default);
    }

    [Fact]
    public void ParseGeneric_IParsable_UsesMoneyParse()
    {
        ParseWith<Money>("USD 1.00").ShouldBe(Usd(100));
        Money.TryParse("USD 1.00", CultureInfo.InvariantCulture, out var result).ShouldBeTrue();
        result.ShouldBe(Usd(100));
    }

    private static T ParseWith<T>(string text)
        where T : IParsable<T> => T.Parse(text, CultureInfo.InvariantCulture);
}
