using Funnel.Events;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;

namespace Funnel.Tests.Offers;

/// <summary>The sample's offer-path section: computed by the library, separate from the case-study figures.</summary>
public class OfferPathSampleTests
{
    [Fact]
    public async Task Simulation_DefaultRun_WalksEveryBuyerThroughTheOfferPath()
    {
        IReadOnlyList<FunnelEvent> caseStudy = MasterclassScenario.GenerateEvents(new ScenarioOptions());

        IReadOnlyList<FunnelEvent> events = await OfferPathSimulation.RunAsync(caseStudy, seed: 1);
        OfferPathReport report = OfferPathReport.Create(OfferPathCatalogue.Catalogue, events);

        report.CheckoutOrders.ShouldBe(50);
        report.ByOffer[0].Revenue.ShouldBe(Money.FromMajor(24_850m, Currency.USD));
        (report.UpsellsAccepted + report.UpsellsDeclined).ShouldBe(50);
        report.BumpTakeRate.IsDefined.ShouldBeTrue();
        report.ByOffer.Single(o => o.Offer == OfferPathCatalogue.CoverPack).Revenue
            .ShouldBe(Money.FromMajor(27m, Currency.USD) * report.OrdersWithBump);
    }

    [Fact]
    public async Task Simulation_NobodyTakesAnything_HasZeroTakeRates()
    {
        IReadOnlyList<FunnelEvent> caseStudy = MasterclassScenario.GenerateEvents(new ScenarioOptions { Visitors = 2_000 });
        var none = new OfferPathOptions { BumpPercent = 0m, CrossSellPercent = 0m, UpsellPercent = 0m, DownsellPercent = 0m };

        OfferPathReport report = OfferPathReport.Create(OfferPathCatalogue.Catalogue, await OfferPathSimulation.RunAsync(caseStudy, 3, none));

        report.CheckoutOrders.ShouldBe(2);
        report.BumpTakeRate.ShouldBe(Ratio.Of(0, 2));
        report.UpsellTakeRate.ShouldBe(Ratio.Of(0, 2));
        report.DownsellTakeRate.ShouldBe(Ratio.Of(0, 2));
        report.Revenue.ShouldBe(Money.FromMajor(994m, Currency.USD));
    }

    [Fact]
    public void Program_PrintsTheOfferPathSectionAfterTheUnchangedCaseStudy()
    {
        var output = new StringWriter();

        EbookMasterclassProgram.Run([], output, TextWriter.Null).ShouldBe(0);

        string text = output.ToString();
        text.ShouldContain("(50 sales @ $497)     | $24,850");
        text.ShouldContain("2.485x");
        int section = text.IndexOf("Offer path of the buyers above (simulated separately; not part of the case-study revenue)", StringComparison.Ordinal);
        section.ShouldBeGreaterThan(text.IndexOf("2.485x", StringComparison.Ordinal));
        text.ShouldContain("| Basic Masterclass         | Main      |     50 | $24,850 |");
        text.ShouldContain("Bump take rate");
        text.ShouldContain("Upsell take rate");
    }
}
