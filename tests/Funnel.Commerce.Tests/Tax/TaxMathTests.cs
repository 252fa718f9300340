using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Tax;

namespace Funnel.Tests.Tax;

public class TaxMathTests
{
    private static readonly long TwentyFive = TaxMath.Scaled(25m);

    [Fact]
    public void Taxes_TwoSmallLinesPerInvoice_RoundOnceAndSpreadTheRemainder()
    {
        // 0.02 + 0.02 at 25%: per invoice 0.04 x 25% = 0.01 in all; per line 0.005 rounds up to 0.01 each.
        TaxMath.Taxes([2, 2], [TwentyFive, TwentyFive], inclusive: false, TaxRounding.PerInvoice, Currency.EUR).ShouldBe([1, 0]);
        TaxMath.Taxes([2, 2], [TwentyFive, TwentyFive], inclusive: false, TaxRounding.PerLine, Currency.EUR).ShouldBe([1, 1]);
    }

    [Fact]
    public void Taxes_PerInvoice_GroupsLinesByRate()
    {
        long seven = TaxMath.Scaled(7m);

        // 10.05 + 0.05 at 25% = 2.525 -> 2.53 spread 2.52 / 0.01; 1.00 at 7% = 0.07 on its own.
        TaxMath.Taxes([1_005, 100, 5], [TwentyFive, seven, TwentyFive], inclusive: false, TaxRounding.PerInvoice, Currency.EUR).ShouldBe([252, 7, 1]);
    }

    [Theory]
    [InlineData(49_700, 19, false, 9_443)]
    [InlineData(49_700, 19, true, 7_935)]
    [InlineData(2_700, 5.5, false, 149)]
    [InlineData(1, 25.5, true, 0)]
    [InlineData(0, 21, false, 0)]
    public void TaxOf_Amount_RoundsHalfAwayFromZero(long amount, double rate, bool inclusive, long tax)
    {
        TaxMath.TaxOf(amount, TaxMath.Scaled((decimal)rate), inclusive).ShouldBe(tax);
    }

    /// <summary>The 64-bit path of <see cref="TaxMath.TaxOf"/> gives what the exact 128-bit division gives, on both sides of its 2^31 limit.</summary>
    [Property(MaxTest = 2_000)]
    public Property TaxOf_EqualsThe128BitDivision()
    {
        Gen<long> amounts = Gen.OneOf(
            Gen.Choose(0, int.MaxValue).Select(a => (long)a),
            Gen.Choose(-1_000, 1_000).Select(d => (long)int.MaxValue + d).Where(a => a >= 0),
            Gen.Choose(0, 1_000_000).Select(a => (long)a * 1_000_003));
        Gen<long> rates = Gen.Choose(0, 999_999).Select(r => (long)r);
        return Prop.ForAll(amounts.ToArbitrary(), rates.ToArbitrary(), ArbMap.Default.ArbFor<bool>(), (amount, rate, inclusive) =>
        {
            long denominator = (100 * TaxMath.Scale) + (inclusive ? rate : 0);
            TaxMath.TaxOf(amount, rate, inclusive).ShouldBe(TaxMath.DivideRounded((Int128)amount * rate, denominator));
        });
    }
}
