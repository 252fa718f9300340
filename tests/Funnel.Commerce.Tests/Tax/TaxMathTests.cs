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
}
