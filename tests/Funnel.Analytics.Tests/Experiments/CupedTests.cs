using Funnel.Analytics.Experiments;
using Funnel.Events;
using Funnel.Samples.EbookMasterclass;
using NodaTime;

namespace Funnel.Analytics.Tests.Experiments;

/// <summary>
/// CUPED against published values: GrowthBook's gbstats unit tests, <c>packages/stats/tests/frequentist/test_tests.py</c>
/// (github.com/growthbook/growthbook), TestSequentialTTest.test_sequential_test_runs_ra: RegressionAdjustedStatistic with
/// post (1396.87, 52377.9767, n 3000) / (2422.7, 134698.29, n 3461), pre (16.87, 527.9767) / (22.7, 1348.29),
/// post_pre_sum_of_products 1, θ pooled, default tuning 5,000 → expected 0.50338, ci (−0.50969, 1.51646),
/// uplift stddev 0.33341, p-value 1 (rounded there to 5 decimals).
/// </summary>
public class CupedTests
{
    private const double FourDecimals = 0.00005;

    [Fact]
    public void CompareWithCovariate_GrowthBookSequentialRegressionAdjusted_AgreesToFourDecimals()
    {
        var control = new CovariateSample(3000, 1396.87, 52377.9767, 16.87, 527.9767, 1);
        var treatment = new CovariateSample(3461, 2422.7, 134698.29, 22.7, 1348.29, 1);

        MeanTestResult r = ExperimentStatistics.CompareWithCovariate(control, treatment);

        r.RelativeLift.ShouldBe(0.50338, FourDecimals);
        r.SequentialRelativeLiftInterval.Lower.ShouldBe(-0.50969, FourDecimals);
        r.SequentialRelativeLiftInterval.Upper.ShouldBe(1.51646, FourDecimals);
        r.SequentialPValue.ShouldBe(1.0);
        r.Bayesian!.StandardDeviation.ShouldBe(0.33341, FourDecimals);
        r.Cuped!.Theta.ShouldBeLessThan(0);
    }

    [Theory]
    [InlineData(double.NaN, 527.9767, 1)]
    [InlineData(16.87, double.PositiveInfinity, 1)]
    [InlineData(16.87, 527.9767, double.NegativeInfinity)]
    public void CompareWithCovariate_CovariateSumNotFinite_ThrowsNamingTheSample(double sum, double sumOfSquares, double products)
    {
        var good = new CovariateSample(3000, 1396.87, 52377.9767, 16.87, 527.9767, 1);
        var bad = new CovariateSample(3461, 2422.7, 134698.29, sum, sumOfSquares, products);

        Should.Throw<ArgumentException>(() => ExperimentStatistics.CompareWithCovariate(good, bad)).ParamName.ShouldBe("treatment");
        Should.Throw<ArgumentException>(() => ExperimentStatistics.CompareWithCovariate(bad, good)).ParamName.ShouldBe("control");
    }

    [Fact]
    public void CompareWithCovariate_ConstantCovariate_EqualsCompareMeans()
    {
        var control = new CovariateSample(3407, 1396.87, 52377.9767, 3407, 3407, 1396.87);
        var treatment = new CovariateSample(3461, 2422.7, 134698.29, 3461, 3461, 2422.7);

        MeanTestResult adjusted = ExperimentStatistics.CompareWithCovariate(control, treatment);
        MeanTestResult plain = ExperimentStatistics.CompareMeans(control.Metric, treatment.Metric);

        adjusted.Cuped!.Theta.ShouldBe(0);
        adjusted.Cuped.VarianceReduction.ShouldBe(0, 1e-12);
        adjusted.RelativeLiftInterval.Lower.ShouldBe(plain.RelativeLiftInterval.Lower, 1e-12);
        adjusted.PValue.ShouldBe(plain.PValue, 1e-12);
    }

    [Fact]
    public void CompareWithCovariate_CorrelatedRevenue_CutsTheVarianceByAThirdOrMore()
    {
        // Simulated revenue (seed 7): a lead's spend before and after exposure share a per-lead level, so ρ ≈ 0.8.
        (CovariateSample control, CovariateSample treatment) = AnalyticsPrinter.SimulateRevenueWithHistory(seed: 7, visitors: 4000, lift: 0.05);

        MeanTestResult adjusted = ExperimentStatistics.CompareWithCovariate(control, treatment);
        MeanTestResult plain = ExperimentStatistics.CompareMeans(control.Metric, treatment.Metric);

        adjusted.Cuped!.VarianceReduction.ShouldBeGreaterThan(0.33);
        adjusted.RelativeLiftInterval.Width.ShouldBeLessThan(plain.RelativeLiftInterval.Width * 0.82);
        (adjusted.Cuped.AdjustedTreatmentMean - adjusted.Cuped.AdjustedControlMean).ShouldBe(adjusted.Difference, 1e-9);
    }

    [Fact]
    public void Revenue_FromEventHistory_SumsOrdersBeforeAndAfterExposure()
    {
        Instant t0 = Instant.FromUtc(2026, 3, 1, 12, 0);
        var a = LeadId.New();
        var b = LeadId.New();
        var c = LeadId.New();
        FunnelEvent[] events =
        [
            Order(a, t0 - Duration.FromDays(40), 99),        // before the 30-day pre-period: ignored
            Order(a, t0 - Duration.FromDays(3), 10),
            new ExperimentExposed { LeadId = a, OccurredAt = t0, Experiment = "x", Variant = "control" },
            new ExperimentExposed { LeadId = a, OccurredAt = t0 + Duration.FromDays(1), Experiment = "x", Variant = "control" },
            Order(a, t0 + Duration.FromHours(2), 20),
            Order(a, t0 + Duration.FromDays(5), 5),
            new ExperimentExposed { LeadId = b, OccurredAt = t0, Experiment = "x", Variant = "control" },
            new ExperimentExposed { LeadId = c, OccurredAt = t0, Experiment = "x", Variant = "treatment" },
            Order(c, t0 + Duration.FromHours(1), 7),
            new ExperimentExposed { LeadId = c, OccurredAt = t0, Experiment = "other", Variant = "control" },
        ];

        var samples = ExperimentCovariates.Revenue(events, "x", Duration.FromDays(30));

        samples["control"].ShouldBe(new CovariateSample(2, 25, 625, 10, 100, 250));
        samples["treatment"].ShouldBe(new CovariateSample(1, 7, 49, 0, 0, 0));
    }

    [Fact]
    public void Revenue_FromTheAnalyticsStore_SumsEachLeadsWindows()
    {
        // Lead i: exposed at t0, one order of 10 + i at (i mod 7) days and 1 hour before (inside the 5-day pre-period
        // when i mod 7 ≤ 4), one of 20 + i (0 when i mod 5 = 0) at i mod 3 days after.
        Instant t0 = Instant.FromUtc(2026, 3, 1, 12, 0);
        var events = new List<FunnelEvent>();
        var expected = new List<(double, double)>[] { [], [] };
        for (int i = 0; i < 40; i++)
        {
            var lead = LeadId.New();
            decimal after = i % 5 == 0 ? 0 : 20 + i;
            events.Add(new ExperimentExposed { LeadId = lead, OccurredAt = t0, Experiment = "x", Variant = i % 2 == 0 ? "control" : "treatment" });
            events.Add(Order(lead, t0 - Duration.FromDays(i % 7) - Duration.FromHours(1), 10 + i));
            events.Add(Order(lead, t0 + Duration.FromDays(i % 3), after));
            expected[i % 2].Add(((double)after, i % 7 <= 4 ? 10 + i : 0));
        }

        var samples = ExperimentCovariates.Revenue(AnalyticsEventStore.Load(events), "x", Duration.FromDays(5));

        samples["control"].ShouldBe(CovariateSample.FromValues(expected[0]));
        samples["treatment"].ShouldBe(CovariateSample.FromValues(expected[1]));
    }

    [Fact]
    public void Conversions_FromEventHistory_AreZeroOrOne()
    {
        Instant t0 = Instant.FromUtc(2026, 3, 1, 12, 0);
        var a = LeadId.New();
        FunnelEvent[] events =
        [
            Order(a, t0 - Duration.FromDays(1), 10),
            Order(a, t0 - Duration.FromDays(2), 10),
            new ExperimentExposed { LeadId = a, OccurredAt = t0, Experiment = "x", Variant = "control" },
            Order(a, t0 + Duration.FromHours(2), 20),
            Order(a, t0 + Duration.FromHours(3), 20),
        ];

        ExperimentCovariates.Conversions(events, "x", EventTypes.OrderPlaced, Duration.FromDays(30))["control"]
            .ShouldBe(new CovariateSample(1, 1, 1, 1, 1, 1));
    }

    [Fact]
    public void Revenue_MixedCurrencies_ThrowsNamingTheEvents()
    {
        Instant t0 = Instant.FromUtc(2026, 3, 1, 12, 0);
        var a = LeadId.New();
        FunnelEvent[] events =
        [
            new ExperimentExposed { LeadId = a, OccurredAt = t0, Experiment = "x", Variant = "control" },
            Order(a, t0 + Duration.FromHours(2), 20),
            Order(a, t0 + Duration.FromHours(3), 20) with { Total = Money.FromMajor(20m, Currency.EUR) },
        ];

        Should.Throw<ArgumentException>(() => ExperimentCovariates.Revenue(events, "x", Duration.FromDays(30))).ParamName.ShouldBe("events");
    }

    [Fact]
    public void Revenue_NonPositivePrePeriod_ThrowsNamingIt() =>
        Should.Throw<ArgumentOutOfRangeException>(() => ExperimentCovariates.Revenue([], "x", Duration.Zero)).ParamName.ShouldBe("prePeriod");

    private static OrderPlaced Order(LeadId lead, Instant at, decimal usd) => new()
    {
        LeadId = lead,
        OccurredAt = at,
        Order = OrderId.New(),
        Offer = new OfferId("ebook"),
        Total = Money.FromMajor(usd, Currency.USD),
    };
}
