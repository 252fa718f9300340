using Funnel.Analytics.Experiments;

namespace Funnel.Analytics.Tests.Experiments;

/// <summary>
/// The A/B statistics against published values. Sources: GrowthBook's gbstats unit tests
/// (<c>gbstats/tests/frequentist/test_tests.py</c>: TestTwoSidedTTest and TestSequentialTTest, rounded there to 5 decimals);
/// Evan Miller's sample size calculator (evanmiller.org/ab-testing/sample-size.html, defaults: baseline 20 %,
/// minimum detectable effect 5 % absolute, power 80 %, significance 5 % → 1,030 per variation); Evan Miller,
/// "Formulas for Bayesian A/B Testing" (closed form, checked on a case solvable by hand); Newcombe (1998),
/// "Two-sided confidence intervals for the single proportion", Statistics in Medicine 17:857–872, Table I (Wilson).
/// </summary>
public class ExperimentStatisticsTests
{
    private const double FourDecimals = 0.00005;

    // gbstats: stat_a = SampleMeanStatistic(sum=1396.87, sum_squares=52377.9767, n=3407), stat_b = (2422.7, 134698.29, 3461).
    private static readonly MeanSample GbA = new(3407, 1396.87, 52377.9767);
    private static readonly MeanSample GbB = new(3461, 2422.7, 134698.29);

    [Fact]
    public void CompareMeans_GrowthBookTwoSidedTTest_AgreesToFourDecimals()
    {
        MeanTestResult r = ExperimentStatistics.CompareMeans(GbA, GbB);

        // Relative: expected=0.70732, ci=(-0.03526, 1.44989), pValue=0.06191.
        r.RelativeLift.ShouldBe(0.70732, FourDecimals);
        r.RelativeLiftInterval.Lower.ShouldBe(-0.03526, FourDecimals);
        r.RelativeLiftInterval.Upper.ShouldBe(1.44989, FourDecimals);
        r.RelativeLiftPValue.ShouldBe(0.06191, FourDecimals);

        // Absolute: expected=0.29, ci=(0.04538, 0.53462), pValue=0.02016.
        r.Difference.ShouldBe(0.29, FourDecimals);
        r.DifferenceInterval.Lower.ShouldBe(0.04538, FourDecimals);
        r.DifferenceInterval.Upper.ShouldBe(0.53462, FourDecimals);
        r.PValue.ShouldBe(0.02016, FourDecimals);
        r.IsSignificant.ShouldBeTrue();
    }

    [Fact]
    public void CompareConversions_GrowthBookBinomialTTest_AgreesToFourDecimals()
    {
        // gbstats test_two_sided_ttest_binom: ProportionStatistic(sum=14, n=28) vs (16, 30): ci=(-0.47767, 0.61101), pValue=0.80707.
        ConversionTestResult r = ExperimentStatistics.CompareConversions(new ConversionSample(14, 28), new ConversionSample(16, 30));

        r.RelativeLift.ShouldBe(0.06667, FourDecimals);
        r.RelativeLiftInterval.Lower.ShouldBe(-0.47767, FourDecimals);
        r.RelativeLiftInterval.Upper.ShouldBe(0.61101, FourDecimals);
        r.RelativeLiftPValue.ShouldBe(0.80707, FourDecimals);
    }

    [Fact]
    public void CompareMeans_GrowthBookSequentialTest_AgreesToFourDecimals()
    {
        // gbstats test_sequential_test_runs: n_a=3000, tuning 1000: expected=0.50336, ci=(-0.55844, 1.56516), pValue=1.
        var a = new MeanSample(3000, 1396.87, 52377.9767);
        MeanTestResult r = ExperimentStatistics.CompareMeans(a, GbB, new ExperimentStatisticsSettings { SequentialTuningParameter = 1000 });

        r.RelativeLift.ShouldBe(0.50336, FourDecimals);
        r.SequentialRelativeLiftInterval.Lower.ShouldBe(-0.55844, FourDecimals);
        r.SequentialRelativeLiftInterval.Upper.ShouldBe(1.56516, FourDecimals);
        r.SequentialPValue.ShouldBe(1.0);
    }

    [Fact]
    public void CompareConversions_GrowthBookSequentialProportions_AgreesToFourDecimals()
    {
        // gbstats test_sequential_test_runs_prop (default tuning 5000): 1396/3000 vs 2422/3461: expected=0.50386, ci=(0.40098, 0.60675), pValue=0.0.
        ConversionTestResult r = ExperimentStatistics.CompareConversions(new ConversionSample(1396, 3000), new ConversionSample(2422, 3461));

        r.RelativeLift.ShouldBe(0.50386, FourDecimals);
        r.SequentialRelativeLiftInterval.Lower.ShouldBe(0.40098, FourDecimals);
        r.SequentialRelativeLiftInterval.Upper.ShouldBe(0.60675, FourDecimals);
        r.SequentialPValue.ShouldBe(0.0, FourDecimals);
        r.IsSequentiallySignificant.ShouldBeTrue();
    }

    [Fact]
    public void SequentialInterval_AnyData_IsWiderThanTheFixedHorizonInterval()
    {
        ConversionTestResult r = ExperimentStatistics.CompareConversions(new ConversionSample(100, 1000), new ConversionSample(130, 1000));

        r.SequentialRelativeLiftInterval.Lower.ShouldBeLessThan(r.RelativeLiftInterval.Lower);
        r.SequentialRelativeLiftInterval.Upper.ShouldBeGreaterThan(r.RelativeLiftInterval.Upper);
        r.SequentialPValue.ShouldBeGreaterThan(r.RelativeLiftPValue);
    }

    [Fact]
    public void SampleSizePerVariant_EvanMillerCalculatorDefaults_Is1030()
    {
        double n = ExperimentStatistics.SampleSizePerVariant(0.20, 0.05);

        Math.Round(n).ShouldBe(1030);
        ExperimentStatistics.Power(0.20, 0.05, n).ShouldBe(0.80, 1e-9);
    }

    [Fact]
    public void SampleSizePerVariant_FivePercentRelative_NeedsFarMoreVisitors()
    {
        // 5 % relative on a 20 % baseline is 1 point absolute: by the same formula ≈ 25,255 per variant.
        Math.Round(ExperimentStatistics.SampleSizePerVariant(0.20, 0.20 * 0.05)).ShouldBe(25255);
    }

    [Fact]
    public void TwoProportionZTest_PublishedExample_Agrees()
    {
        // stat-tests (PyPI) README: x1=20, n1=300, x2=21, n2=298 → z=-0.18400991456652802, p=0.85400567703455788 (sign is 1 − 2).
        ConversionTestResult r = ExperimentStatistics.CompareConversions(new ConversionSample(20, 300), new ConversionSample(21, 298));

        r.Z.ShouldBe(0.18400991456652802, 1e-12);
        r.PValue.ShouldBe(0.85400567703455788, 1e-10);
        r.IsSignificant.ShouldBeFalse();
    }

    [Theory]
    [InlineData(81, 263, 0.2553, 0.3662)]
    [InlineData(15, 148, 0.0624, 0.1605)]
    [InlineData(0, 20, 0.0, 0.1611)]
    [InlineData(1, 29, 0.0061, 0.1718)]
    public void WilsonInterval_NewcombeTable_AgreesToFourDecimals(long x, long n, double lower, double upper)
    {
        ConfidenceInterval ci = ExperimentStatistics.WilsonInterval(x, n);

        ci.Lower.ShouldBe(lower, FourDecimals);
        ci.Upper.ShouldBe(upper, FourDecimals);
    }

    [Fact]
    public void ChanceToBeatControl_CaseSolvableByHand_IsTwoThirds()
    {
        // A ~ Beta(1, 1) (0 of 0), B ~ Beta(2, 1) (1 of 1): P(B > A) = ∫ 2x · x dx = 2/3.
        ExperimentStatistics.ChanceToBeatControl(new ConversionSample(0, 0), new ConversionSample(1, 1)).ShouldBe(2.0 / 3, 1e-12);
    }

    [Fact]
    public void ChanceToBeatControl_AgreesWithNumericalIntegration()
    {
        var a = new ConversionSample(40, 400);
        var b = new ConversionSample(55, 410);
        double exact = ExperimentStatistics.ChanceToBeatControl(a, b);

        // ∫ f_B(x) F_A(x) dx with the midpoint rule on 20,000 cells; F_A from the incomplete beta.
        double sum = 0;
        const int Cells = 20_000;
        double logBetaB = SpecialFunctions.LogBeta(56, 356);
        for (int i = 0; i < Cells; i++)
        {
            double x = (i + 0.5) / Cells;
            double densityB = Math.Exp((55 * Math.Log(x)) + (355 * Math.Log(1 - x)) - logBetaB);
            sum += densityB * SpecialFunctions.IncompleteBeta(41, 361, x) / Cells;
        }

        exact.ShouldBe(sum, 1e-6);
        exact.ShouldBeGreaterThan(0.5);
    }

    [Fact]
    public void ChanceToBeatControl_IdenticalData_IsOneHalf() =>
        ExperimentStatistics.ChanceToBeatControl(new ConversionSample(30, 300), new ConversionSample(30, 300)).ShouldBe(0.5, 1e-9);

    [Fact]
    public void SampleRatioMismatch_BalancedSplit_IsNoMismatch()
    {
        SampleRatioCheck check = ExperimentStatistics.SampleRatioMismatch([5012, 4988], [1, 1]);

        check.ChiSquare.ShouldBe(0.0576, 1e-9);
        check.IsMismatch.ShouldBeFalse();
    }

    [Fact]
    public void SampleRatioMismatch_SkewedSplit_IsFlagged()
    {
        // 5,200 vs 4,800 on 50/50: chi-square 16, p ≈ 6.3e-5 < 0.001.
        SampleRatioCheck check = ExperimentStatistics.SampleRatioMismatch([5200, 4800], [1, 1]);

        check.ChiSquare.ShouldBe(16.0, 1e-9);
        check.PValue.ShouldBe(6.334248366623996e-05, 1e-12);
        check.IsMismatch.ShouldBeTrue();
    }

    [Fact]
    public void CompareConversions_ControlWithoutConversions_ThrowsNamingTheControl()
    {
        ArgumentException e = Should.Throw<ArgumentException>(() => ExperimentStatistics.CompareConversions(new ConversionSample(0, 10), new ConversionSample(1, 10)));

        e.ParamName.ShouldBe("control");
    }

    [Fact]
    public void CompareConversions_MoreConversionsThanVisitors_Throws() =>
        Should.Throw<ArgumentException>(() => ExperimentStatistics.CompareConversions(new ConversionSample(11, 10), new ConversionSample(1, 10))).ParamName.ShouldBe("control");
}
