using Funnel.Kpis;

namespace Funnel.Tests.Kpis;

public class KpiTests
{
    private static Money Usd(decimal amount) => Money.FromMajor(amount, Currency.USD);

    [Fact]
    public void CaseStudy_FormulasGiveTheGuidesFigures()
    {
        Kpi.ConversionRate(5_000, 50_000).ShouldBe(Ratio.Of(1, 10));
        Kpi.CustomerAcquisitionCost(Usd(10_000), 50).ShouldBe(Usd(200));
        Kpi.ReturnOnAdSpend(Usd(24_850), Usd(10_000)).ToDecimal().ShouldBe(2.485m);
        Kpi.ReturnOnInvestment(Usd(24_850), Usd(10_000)).ToDecimal().ShouldBe(1.485m);
        Kpi.AverageOrderValue(Usd(24_850), 50).ShouldBe(Usd(497));
        Kpi.RevenuePerVisitor(Usd(24_850), 50_000).ShouldBe(Usd(0.50m));
    }

    [Fact]
    public void ZeroDenominators_AreNotDefined()
    {
        Kpi.ConversionRate(0, 0).IsDefined.ShouldBeFalse();
        Kpi.ReturnOnAdSpend(Usd(100), Usd(0)).IsDefined.ShouldBeFalse();
        Kpi.ReturnOnInvestment(Usd(100), Usd(0)).IsDefined.ShouldBeFalse();
        Kpi.CustomerAcquisitionCost(Usd(100), 0).ShouldBeNull();
        Kpi.AverageOrderValue(Usd(0), 0).ShouldBeNull();
        Kpi.RevenuePerVisitor(Usd(0), 0).ShouldBeNull();
        Kpi.OpenRate(0, 0).IsDefined.ShouldBeFalse();
        Kpi.ClickToOpenRate(0, 0).IsDefined.ShouldBeFalse();
        Kpi.CartAbandonmentRate(0, 0).IsDefined.ShouldBeFalse();
        Kpi.RefundRate(0, 0).IsDefined.ShouldBeFalse();
    }

    [Fact]
    public void PerCustomerAmounts_RoundHalfAwayFromZero()
    {
        Kpi.CustomerAcquisitionCost(new Money(1_000, Currency.USD), 3).ShouldBe(new Money(333, Currency.USD));
        Kpi.CustomerAcquisitionCost(new Money(5, Currency.USD), 2).ShouldBe(new Money(3, Currency.USD));
    }

    [Fact]
    public void NegativeCounts_Throw()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => Kpi.CustomerAcquisitionCost(Usd(1), -1)).ParamName.ShouldBe("newCustomers");
    }

    [Fact]
    public void MixedCurrencies_Throw()
    {
        Should.Throw<InvalidOperationException>(() => Kpi.ReturnOnAdSpend(Usd(1), Money.FromMajor(1, Currency.EUR)));
    }

    [Fact]
    public void SimpleCltv_IsAovTimesFrequencyTimesLifespan()
    {
        var model = new SimpleCustomerLifetimeValueModel(3m);

        // AOV $497 × 1 purchase per customer × 3 periods.
        model.Estimate(new CustomerHistory(Usd(24_850), 50, 50)).ShouldBe(Usd(1_491));
        // AOV $100 × 2 purchases per customer × 3 periods.
        model.Estimate(new CustomerHistory(Usd(2_000), 20, 10)).ShouldBe(Usd(600));
        model.Estimate(new CustomerHistory(Usd(0), 0, 0)).ShouldBeNull();
    }

    [Fact]
    public void MarginChurnCltv_IsRevenuePerCustomerTimesMarginOverChurn()
    {
        var model = new MarginChurnCustomerLifetimeValueModel(0.9m, 0.05m);

        model.Estimate(new CustomerHistory(Usd(4_970), 100, 100)).ShouldBe(Usd(894.60m));
        model.Estimate(new CustomerHistory(Usd(0), 0, 0)).ShouldBeNull();
    }

    [Theory]
    [InlineData(-0.1, 0.1)]
    [InlineData(1.1, 0.1)]
    [InlineData(0.5, 0)]
    [InlineData(0.5, 1.5)]
    public void MarginChurnCltv_RejectsOutOfRangeAssumptions(double margin, double churn)
    {
        Should.Throw<ArgumentOutOfRangeException>(() => new MarginChurnCustomerLifetimeValueModel((decimal)margin, (decimal)churn));
    }

    [Fact]
    public void SimpleCltv_RejectsNonPositiveLifespan()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => new SimpleCustomerLifetimeValueModel(0m));
    }

    [Fact]
    public void EmailMetrics_DeriveDeliveredAndRates()
    {
        var email = new EmailMetrics(Sent: 1_000, Bounced: 20, UniqueOpens: 490, UniqueClicks: 98, Unsubscribes: 5, Complaints: 1);

        email.Delivered.ShouldBe(980);
        email.OpenRate.ShouldBe(Ratio.Of(1, 2));
        email.ClickRate.ShouldBe(Ratio.Of(1, 10));
        email.ClickToOpenRate.ShouldBe(Ratio.Of(1, 5));
        email.BounceRate.ShouldBe(Ratio.Of(2, 100));
        email.UnsubscribeRate.ShouldBe(Ratio.Of(5, 980));
        email.ComplaintRate.ShouldBe(Ratio.Of(1, 980));
    }
}
