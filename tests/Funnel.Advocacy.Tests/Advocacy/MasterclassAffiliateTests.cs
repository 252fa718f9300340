using Funnel.Events;
using Funnel.Samples.EbookMasterclass;

namespace Funnel.Tests.Advocacy;

public class MasterclassAffiliateTests
{
    [Fact]
    public async Task RunAsync_CaseStudyLaunch_AffiliateRevenueIsTheAttributedSalesAndCommissionIsThirtyPercent()
    {
        IReadOnlyList<FunnelEvent> events = MasterclassScenario.GenerateEvents(new ScenarioOptions());

        AffiliateOutcome outcome = await AffiliateSimulation.RunAsync(events, seed: 1);

        long sales = outcome.Affiliates.Sum(a => a.Conversions);
        sales.ShouldBeGreaterThan(0);
        sales.ShouldBeLessThanOrEqualTo(50 - AffiliateSimulation.AffiliateCount);
        outcome.Metrics.NetRevenue.ShouldBe(Money.FromMajor(24_850m, Currency.USD));
        outcome.Metrics.AffiliateRevenue.ShouldBe(Money.FromMajor(497m, Currency.USD) * sales);
        outcome.Metrics.AffiliateCommission.ShouldBe(outcome.Metrics.AffiliateRevenue.Percentage(30m, MidpointRounding.AwayFromZero));
        outcome.Paid.ShouldBe(outcome.Metrics.AffiliateCommission);
    }

    [Fact]
    public void Program_Default_PrintsAffiliateRevenue()
    {
        var output = new StringWriter();

        EbookMasterclassProgram.Run([], output, TextWriter.Null).ShouldBe(0);

        output.ToString().ShouldContain("Affiliate revenue:");
        output.ToString().ShouldContain("(50 sales @ $497)     | $24,850");
    }
}
