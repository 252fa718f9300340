using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Analytics.Experiments;

namespace Funnel.Analytics.Tests.Experiments;

/// <summary>
/// Holm and Benjamini–Hochberg against published values: statsmodels' <c>statsmodels/stats/tests/test_multi.py</c>
/// (github.com/statsmodels/statsmodels), arrays <c>pval0</c> and <c>res_multtest1</c>, which it takes from R's multtest
/// package (<c>mt.rawp2adjp</c>; columns rawp, Bonferroni, Holm, Hochberg, SidakSS, SidakSD, BH, BY), given there to 15 digits.
/// </summary>
public class MultipleTestingTests
{
    // pval0 of test_multi.py, in its (unsorted) order.
    private static readonly double[] Raw =
    [
        0.838541367553, 0.642193923795, 0.680845947633, 0.967833824309, 0.71626938238,
        0.177096952723, 5.23656777208e-005, 0.0202732688798, 0.00028140506198, 0.0149877310796,
    ];

    // res_multtest1, rows sorted by raw p: (raw, Holm, BH).
    private static readonly (double Raw, double Holm, double BH)[] Expected =
    [
        (5.2365677720800003e-05, 5.2365677720800005e-04, 5.2365677720800005e-04),
        (2.8140506198000000e-04, 2.5326455578199999e-03, 1.4070253098999999e-03),
        (1.4987731079600001e-02, 1.1990184863680001e-01, 4.9959103598666670e-02),
        (2.0273268879800001e-02, 1.4191288215860001e-01, 5.0683172199499998e-02),
        (1.7709695272300000e-01, 1.0, 3.5419390544599999e-01),
        (6.4219392379499995e-01, 1.0, 8.9533672797500008e-01),
        (6.8084594763299999e-01, 1.0, 8.9533672797500008e-01),
        (7.1626938238000004e-01, 1.0, 8.9533672797500008e-01),
        (8.3854136755300002e-01, 1.0, 9.3171263061444454e-01),
        (9.6783382430900000e-01, 1.0, 9.6783382430900000e-01),
    ];

    [Theory]
    [InlineData(MultipleTestingCorrection.HolmBonferroni)]
    [InlineData(MultipleTestingCorrection.BenjaminiHochberg)]
    public void Adjust_RMulttestReference_AgreesTo12Digits(MultipleTestingCorrection correction)
    {
        double[] adjusted = [.. MultipleTesting.Adjust(Raw, correction)];

        foreach ((double raw, double holm, double bh) in Expected)
        {
            double got = adjusted[Array.IndexOf(Raw, Raw.Single(p => Math.Abs(p - raw) < 1e-15))];
            got.ShouldBe(correction == MultipleTestingCorrection.HolmBonferroni ? holm : bh, 1e-12);
        }
    }

    [Property(MaxTest = 200)]
    public Property Adjust_AnyPValues_StayBetweenRawAndOne_KeepTheirOrder_AndHolmIsStricterThanBH() => Prop.ForAll(
        Gen.Choose(0, 1_000_000).Select(i => i / 1e6).ArrayOf().Where(p => p.Length is >= 1 and <= 30).ToArbitrary(),
        raw =>
        {
            double[] holm = [.. MultipleTesting.Adjust(raw, MultipleTestingCorrection.HolmBonferroni)];
            double[] bh = [.. MultipleTesting.Adjust(raw, MultipleTestingCorrection.BenjaminiHochberg)];
            bool bounded = raw.Select((p, i) => holm[i] >= p && holm[i] <= 1 && bh[i] >= p && bh[i] <= 1 && holm[i] >= bh[i] - 1e-15).All(x => x);
            bool ordered = Enumerable.Range(0, raw.Length).All(i => Enumerable.Range(0, raw.Length)
                .All(j => raw[i] > raw[j] ? holm[i] >= holm[j] && bh[i] >= bh[j] : true));
            return bounded && ordered;
        });

    [Fact]
    public void Adjust_None_ReturnsTheRawValues() =>
        MultipleTesting.Adjust(Raw, MultipleTestingCorrection.None).ShouldBe(Raw);

    [Fact]
    public void Adjust_PValueOutOfRange_ThrowsNamingTheParameter() =>
        Should.Throw<ArgumentOutOfRangeException>(() => MultipleTesting.Adjust([0.2, 1.5], MultipleTestingCorrection.HolmBonferroni))
            .ParamName.ShouldBe("pValues");

    [Fact]
    public void Verdicts_WithCorrection_TurnMarginalWinsInconclusive()
    {
        // Six comparisons, one real (p = 0.001) and one marginal (p = 0.03): Holm keeps the real one only (0.006 and 0.15).
        MetricComparison[] comparisons =
        [
            new("purchase", "b", 0.12, 0.001),
            new("purchase", "c", 0.05, 0.03),
            new("revenue", "b", 0.10, 0.20),
            new("revenue", "c", -0.02, 0.60),
            new("refund", "b", 0.01, 0.90),
            new("refund", "c", -0.01, 0.70),
        ];

        var plain = ExperimentStatistics.Verdicts(comparisons);
        var holm = ExperimentStatistics.Verdicts(comparisons, new ExperimentStatisticsSettings { Correction = MultipleTestingCorrection.HolmBonferroni });

        plain.Count(v => v.IsSignificant).ShouldBe(2);
        holm.Select(v => v.Outcome).ShouldBe([VerdictOutcome.Better, .. Enumerable.Repeat(VerdictOutcome.Inconclusive, 5)]);
        holm[0].AdjustedPValue.ShouldBe(0.006, 1e-12);
        holm[1].AdjustedPValue.ShouldBe(0.15, 1e-12);
    }

    [Fact]
    public void Verdicts_SignificantLoss_IsWorse()
    {
        var verdicts = ExperimentStatistics.Verdicts([new MetricComparison("purchase", "b", -0.2, 0.001)]);

        verdicts[0].Outcome.ShouldBe(VerdictOutcome.Worse);
    }
}
