namespace Funnel.Analytics.Tests;

public class ForecastTests
{
    /// <summary>The guide's case study: 50,000 → 5,000 → 1,000 → 50 at $497, $10,000 ad spend.</summary>
    private static readonly ForecastBaseline CaseStudy = new()
    {
        StageCounts = [50_000, 5_000, 1_000, 50],
        Orders = 50,
        Revenue = Money.FromMajor(24_850m, Currency.USD),
        AdSpend = Money.FromMajor(10_000m, Currency.USD),
    };

    [Fact]
    public void Project_DoubleTheSpend_DoublesTheFunnelAtTheSameRates()
    {
        FunnelForecast f = FunnelForecaster.Project(CaseStudy, Money.FromMajor(20_000m, Currency.USD));

        f.StageCounts.ShouldBe([100_000m, 10_000m, 2_000m, 100m]);
        f.Revenue.ShouldBe(Money.FromMajor(49_700m, Currency.USD));
        f.CustomerAcquisitionCost.ShouldBe(Money.FromMajor(200m, Currency.USD));
        f.ReturnOnAdSpend.ToDecimal().ShouldBe(2.485m);
    }

    [Fact]
    public void Project_BreakEvenCosts_AreRevenuePerLeadAndPerClick()
    {
        FunnelForecast f = FunnelForecaster.Project(CaseStudy, CaseStudy.AdSpend);

        f.BreakEvenCostPerLead.ShouldBe(Money.FromMajor(4.97m, Currency.USD));
        f.BreakEvenCostPerClick.ShouldBe(Money.FromMajor(0.49m, Currency.USD)); // $0.497, rounded down
    }

    [Fact]
    public void Project_UnevenSpend_RoundsRevenueOnceToWholeCents()
    {
        FunnelForecast f = FunnelForecaster.Project(CaseStudy, Money.FromMajor(333.33m, Currency.USD));

        f.Revenue.ShouldBe(Money.FromMajor(828.33m, Currency.USD)); // 24,850 × 0.033333 = 828.325… → 828.33
    }

    [Fact]
    public void Simulate_SameSeed_GivesTheSameBands()
    {
        Money spend = Money.FromMajor(20_000m, Currency.USD);

        FunnelForecaster.Simulate(CaseStudy, spend, 2000, seed: 7).ShouldBe(FunnelForecaster.Simulate(CaseStudy, spend, 2000, seed: 7));
    }

    [Fact]
    public void Simulate_Bands_BracketTheDeterministicProjection()
    {
        Money spend = Money.FromMajor(20_000m, Currency.USD);
        FunnelSimulation s = FunnelForecaster.Simulate(CaseStudy, spend, 5000, seed: 1);

        s.Buyers.Low.ShouldBeLessThan(100);
        s.Buyers.High.ShouldBeGreaterThan(100);
        s.Buyers.Median.ShouldBe(100, 10);
        s.Revenue.Low.ShouldBeLessThan(s.Revenue.High);
        s.ChanceToBreakEven.ShouldBeGreaterThan(0.9);
    }

    [Fact]
    public void SampleBeta_Mean_MatchesTheBetaMean()
    {
        var random = new Random(3);
        double mean = Enumerable.Range(0, 20_000).Average(_ => FunnelForecaster.SampleBeta(random, 3, 7));

        mean.ShouldBe(0.3, 0.01);
    }

    [Fact]
    public void Project_IncreasingCounts_ThrowsNamingTheStage()
    {
        ForecastBaseline bad = CaseStudy with { StageCounts = [100, 200] };

        Should.Throw<ArgumentException>(() => FunnelForecaster.Project(bad, CaseStudy.AdSpend)).Message.ShouldContain("StageCounts[1]");
    }

    [Fact]
    public void Project_OtherCurrency_Throws() =>
        Should.Throw<ArgumentException>(() => FunnelForecaster.Project(CaseStudy, Money.FromMajor(1m, Currency.EUR)));
}
