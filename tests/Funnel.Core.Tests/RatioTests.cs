using System.Globalization;
using FsCheck;
using FsCheck.Xunit;

namespace Funnel.Tests;

public class RatioTests
{
    [Fact]
    public void Default_IsUndefined()
    {
        Ratio ratio = default;

        ratio.IsDefined.ShouldBeFalse();
        ratio.ShouldBe(Ratio.Undefined);
        ratio.ToString().ShouldBe("n/a");
        ratio.Round(2, MidpointRounding.AwayFromZero).ShouldBeNull();
        ratio.TryGetValue(out _).ShouldBeFalse();
        Should.Throw<InvalidOperationException>(() => ratio.ToDecimal()).Message.ShouldContain("not defined");
    }

    [Fact]
    public void ZeroDenominator_IsUndefinedNotAnException()
    {
        Ratio.Of(5, 0).IsDefined.ShouldBeFalse();
        Ratio.Of(5, 0).ShouldBe(Ratio.Of(0, 0));
    }

    [Fact]
    public void Equality_ComparesValues()
    {
        Ratio.Of(1, 2).ShouldBe(Ratio.Of(2, 4));
        (Ratio.Of(1, 2) == Ratio.Of(-1, -2)).ShouldBeTrue();
        Ratio.Of(1, 2).GetHashCode().ShouldBe(Ratio.Of(50, 100).GetHashCode());
        (Ratio.Of(1, 3) != Ratio.Of(1, 2)).ShouldBeTrue();
    }

    [Fact]
    public void Ordering_UndefinedFirstThenByValue()
    {
        Ratio[] sorted = [.. new[] { Ratio.Of(1, 2), Ratio.Undefined, Ratio.Of(-1, 1), Ratio.Of(2, -1), Ratio.Of(1, 3) }.Order()];

        sorted.ShouldBe([Ratio.Undefined, Ratio.Of(2, -1), Ratio.Of(-1, 1), Ratio.Of(1, 3), Ratio.Of(1, 2)]);
        (Ratio.Of(1, 3) < Ratio.Of(1, 2)).ShouldBeTrue();
        (Ratio.Of(long.MaxValue, 1) > Ratio.Of(long.MaxValue - 1, 1)).ShouldBeTrue();
    }

    [Fact]
    public void Of_Money_UsesMinorUnits()
    {
        Ratio roas = Ratio.Of(new Money(2_485_000, Currency.USD), new Money(1_000_000, Currency.USD));

        roas.ToDecimal().ShouldBe(2.485m);
    }

    [Fact]
    public void Of_MoneyInTwoCurrencies_Throws()
    {
        Should.Throw<InvalidOperationException>(() => Ratio.Of(new Money(1, Currency.USD), new Money(1, Currency.EUR)))
            .Message.ShouldContain("USD and EUR");
    }

    [Theory]
    [InlineData(5_000, 50_000, "P", "10%")]
    [InlineData(1, 8, "P", "12.5%")]
    [InlineData(1, 8, "P0", "13%")]
    [InlineData(1, 3, "P2", "33.33%")]
    [InlineData(2_485, 1_000, "X3", "2.485x")]
    [InlineData(2_485, 1_000, "X", "2.49x")]
    [InlineData(1, 3, "F3", "0.333")]
    [InlineData(1, 3, null, "0.3333")]
    [InlineData(1, 0, "P", "n/a")]
    public void ToString_Formats(long numerator, long denominator, string? format, string expected)
    {
        Ratio.Of(numerator, denominator).ToString(format, CultureInfo.InvariantCulture).ShouldBe(expected);
    }

    [Fact]
    public void ToString_UnknownFormat_Throws()
    {
        Should.Throw<FormatException>(() => Ratio.Of(1, 2).ToString("Q", null));
    }

    [Property]
    public bool CompareTo_AgreesWithDecimalDivision(int a, int b, int c, int d)
    {
        if (b == 0 || d == 0)
        {
            return true;
        }

        int expected = ((decimal)a / b).CompareTo((decimal)c / d);
        return Math.Sign(Ratio.Of(a, b).CompareTo(Ratio.Of(c, d))) == Math.Sign(expected);
    }

    [Property]
    public bool EqualRatios_HaveEqualHashCodes(int a, PositiveInt b, PositiveInt k)
    {
        long scale = k.Get % 1000 + 1;
        return Ratio.Of(a, b.Get).GetHashCode() == Ratio.Of(a * scale, b.Get * scale).GetHashCode();
    }
}
