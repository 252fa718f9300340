using Funnel.Analytics.Experiments;

namespace Funnel.Analytics.Tests.Experiments;

/// <summary>
/// The Bayesian results against published values. Source: GrowthBook's gbstats unit tests,
/// <c>packages/stats/tests/bayesian/test_tests.py</c> in github.com/growthbook/growthbook (TestBinom.test_bayesian_binomial_ab_test
/// and TestNorm.test_bayesian_gaussian_ab_test of <c>GaussianEffectABTest</c> with its default flat prior, rounded there to
/// 5 decimals; risk is relative). The exact Beta-binomial results are checked on a case solvable by hand
/// (both posteriors Beta(2, 1): P(pB/pA ≤ r) = r²/2 for r ≤ 1 and 1 − 1/(2r²) above) and against seeded Monte Carlo.
/// </summary>
public class BayesianStatisticsTests
{
    private const double FourDecimals = 0.00005;

    [Fact]
    public void CompareConversions_GrowthBookBayesianBinomial_AgreesToFourDecimals()
    {
        // gbstats: ProportionStatistic(sum=49, n=100) vs (51, 100): expected=0.04082, ci=[-0.24779, 0.32943],
        // uplift stddev=0.14725, chance_to_win=0.60918, risk=[0.0814, 0.04058].
        BayesianLiftResult r = ExperimentStatistics.CompareConversions(new ConversionSample(49, 100), new ConversionSample(51, 100)).Bayesian!;

        ShouldMatchGbstats(r, [0.04082, 0.14725, -0.24779, 0.32943, 0.60918, 0.0814, 0.04058]);
    }

    [Fact]
    public void CompareMeans_GrowthBookBayesianGaussian_AgreesToFourDecimals()
    {
        // gbstats: SampleMeanStatistic(sum=100, sum_squares=1002.25, n=10) vs (105, 1111.5, 10): expected=0.05, ci=[-0.02, 0.12],
        // uplift stddev=0.03572, chance_to_win=0.91923, risk=[0.05131, 0.00131].
        BayesianLiftResult r = ExperimentStatistics.CompareMeans(new MeanSample(10, 100, 1002.25), new MeanSample(10, 105, 1111.5)).Bayesian!;

        ShouldMatchGbstats(r, [0.05, 0.03572, -0.02, 0.12, 0.91923, 0.05131, 0.00131]);
    }

    [Fact]
    public void CompareMeans_ProperPrior_ShrinksTowardsThePriorMean()
    {
        // Conjugate normal update: data N(0.05, 0.001275625), prior N(0, 0.3²) → precision 1/0.09 + 1/0.001275625,
        // posterior mean 0.0493012, sd 0.0354654 (computed by hand from those two lines).
        var settings = new ExperimentStatisticsSettings { Prior = new BayesianPrior { Mean = 0, StandardDeviation = 0.3, IsProper = true } };

        BayesianLiftResult r = ExperimentStatistics.CompareMeans(new MeanSample(10, 100, 1002.25), new MeanSample(10, 105, 1111.5), settings).Bayesian!;

        r.ExpectedLift.ShouldBe(0.0493012, 1e-6);
        r.StandardDeviation.ShouldBe(0.0354654, 1e-6);
        r.CredibleInterval.Lower.ShouldBe(-0.0202098, 1e-6);
        r.ChanceToWin.ShouldBe(0.9177538, 1e-6);
    }

    [Fact]
    public void BetaBinomial_CaseSolvableByHand_AgreesToFourDecimals()
    {
        // 1 of 1 in each arm: pA, pB ~ Beta(2, 1), density 2x. R = pB/pA has P(R ≤ r) = r²/2 (r ≤ 1), 1 − 1/(2r²) (r ≥ 1):
        // 95 % interval of R − 1 is [√0.05 − 1, √20 − 1]; E[R] = (2/3)·2 = 4/3; P(R > 1) = 1/2;
        // E[max(1 − R, 0)] = 4∫∫_{b<a} (ab − b²) = 1/6, E[max(R − 1, 0)] = 1/6 + 1/3 = 1/2.
        BayesianLiftResult r = ExperimentStatistics.CompareConversions(new ConversionSample(1, 1), new ConversionSample(1, 1)).BetaBinomial!;

        r.ExpectedLift.ShouldBe(1.0 / 3, 1e-12);
        r.CredibleInterval.Lower.ShouldBe(Math.Sqrt(0.05) - 1, FourDecimals);
        r.CredibleInterval.Upper.ShouldBe(Math.Sqrt(20) - 1, FourDecimals);
        r.ChanceToWin.ShouldBe(0.5, 1e-9);
        r.TreatmentRisk.ShouldBe(1.0 / 6, FourDecimals);
        r.ControlRisk.ShouldBe(0.5, FourDecimals);
        r.StandardDeviation.ShouldBe(double.PositiveInfinity);
    }

    [Fact]
    public void BetaBinomial_AgreesWithSeededMonteCarlo()
    {
        var control = new ConversionSample(30, 400);
        var treatment = new ConversionSample(45, 410);
        BayesianLiftResult r = ExperimentStatistics.CompareConversions(control, treatment).BetaBinomial!;

        // 400,000 draws (seed 21) from Beta(31, 371) and Beta(46, 366): Monte Carlo error about 0.001 on these figures.
        var random = new Random(21);
        const int Draws = 400_000;
        double[] lifts = new double[Draws];
        double controlRisk = 0, treatmentRisk = 0;
        for (int i = 0; i < Draws; i++)
        {
            double lift = (FunnelForecaster.SampleBeta(random, 46, 366) / FunnelForecaster.SampleBeta(random, 31, 371)) - 1;
            lifts[i] = lift;
            controlRisk += Math.Max(lift, 0) / Draws;
            treatmentRisk += Math.Max(-lift, 0) / Draws;
        }

        Array.Sort(lifts);
        r.CredibleInterval.Lower.ShouldBe(lifts[(int)(Draws * 0.025)], 0.005);
        r.CredibleInterval.Upper.ShouldBe(lifts[(int)(Draws * 0.975)], 0.01);
        r.ExpectedLift.ShouldBe(lifts.Average(), 0.003);
        r.ControlRisk.ShouldBe(controlRisk, 0.003);
        r.TreatmentRisk.ShouldBe(treatmentRisk, 0.001);
    }

    [Fact]
    public void BetaBinomial_LargeSamples_AgreesWithTheNormalApproximation()
    {
        ConversionTestResult r = ExperimentStatistics.CompareConversions(new ConversionSample(1396, 3000), new ConversionSample(2422, 3461));

        r.BetaBinomial!.CredibleInterval.Lower.ShouldBe(r.Bayesian!.CredibleInterval.Lower, 0.005);
        r.BetaBinomial.CredibleInterval.Upper.ShouldBe(r.Bayesian.CredibleInterval.Upper, 0.005);
        r.BetaBinomial.ChanceToWin.ShouldBe(1, 1e-9);
        r.BetaBinomial.TreatmentRisk.ShouldBe(0, 1e-9);
    }

    [Fact]
    public void Risks_DifferByTheExpectedLift()
    {
        ConversionTestResult r = ExperimentStatistics.CompareConversions(new ConversionSample(80, 1000), new ConversionSample(88, 1000));

        (r.Bayesian!.ControlRisk - r.Bayesian.TreatmentRisk).ShouldBe(r.Bayesian.ExpectedLift, 1e-12);
        (r.BetaBinomial!.ControlRisk - r.BetaBinomial.TreatmentRisk).ShouldBe(r.BetaBinomial.ExpectedLift, 1e-12);
        r.BetaBinomial.ChanceToWin.ShouldBe(r.ChanceToBeatControl);
    }

    [Fact]
    public void CompareMeans_ProperPriorWithoutSpread_ThrowsNamingTheSettings()
    {
        var settings = new ExperimentStatisticsSettings { Prior = new BayesianPrior { StandardDeviation = 0, IsProper = true } };

        Should.Throw<ArgumentOutOfRangeException>(() => ExperimentStatistics.CompareMeans(new MeanSample(10, 100, 1002.25), new MeanSample(10, 105, 1111.5), settings))
            .ParamName.ShouldBe("settings");
    }

    /// <summary>gbstats' fields in its order: expected, uplift stddev, ci lower, ci upper, chance_to_win, risk[0], risk[1].</summary>
    private static void ShouldMatchGbstats(BayesianLiftResult r, double[] expected)
    {
        double[] actual = [r.ExpectedLift, r.StandardDeviation, r.CredibleInterval.Lower, r.CredibleInterval.Upper, r.ChanceToWin, r.ControlRisk, r.TreatmentRisk];
        for (int i = 0; i < expected.Length; i++)
        {
            actual[i].ShouldBe(expected[i], FourDecimals, $"field {i}");
        }
    }
}
