using Funnel.Events;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using static Funnel.Tests.Offers.OfferTestKit;

namespace Funnel.Tests.Offers;

public class OfferPathReportTests
{
    [Fact]
    public async Task Create_FromOrderServiceEvents_SplitsRevenueByOfferAndCountsTakeRates()
    {
        var kit = new OfferTestKit();
        var events = new List<FunnelEvent>();
        async Task<Order> Buy(int lead, params CartLine[] lines)
        {
            Checkout checkout = await kit.Service.StartCheckoutAsync(Lead(lead), new Cart { Lines = [.. lines] }, NewYork);
            OrderResult placed = await kit.Service.PlaceOrderAsync(checkout, "pm");
            events.AddRange(checkout.Events);
            events.AddRange(placed.Events);
            return placed.Order!;
        }

        Order a = await Buy(1, new CartLine(OfferPathCatalogue.Basic), new CartLine(OfferPathCatalogue.CoverPack));
        Order b = await Buy(2, new CartLine(OfferPathCatalogue.Basic));
        Order c = await Buy(3, new CartLine(OfferPathCatalogue.Basic), new CartLine(OfferPathCatalogue.CoverPack), new CartLine(OfferPathCatalogue.LaunchPlanner));
        Order d = await Buy(4, new CartLine(OfferPathCatalogue.Basic));
        events.AddRange((await kit.Service.AcceptUpsellAsync(a.Id, OfferPathCatalogue.Premium, NewYork)).Events);
        events.AddRange((await kit.Service.DeclineUpsellAsync(b.Id, OfferPathCatalogue.Premium)).Events);
        events.AddRange((await kit.Service.AcceptUpsellAsync(b.Id, OfferPathCatalogue.MiniKit, NewYork)).Events);
        events.AddRange((await kit.Service.DeclineUpsellAsync(c.Id, OfferPathCatalogue.Premium)).Events);
        events.AddRange((await kit.Service.DeclineUpsellAsync(c.Id, OfferPathCatalogue.MiniKit)).Events);
        events.AddRange((await kit.Service.DeclineUpsellAsync(d.Id, OfferPathCatalogue.Premium)).Events);
        events.AddRange(events.Take(3).ToList()); // replays count once

        OfferPathReport report = OfferPathReport.Create(OfferPathCatalogue.Catalogue, events);

        report.ByOffer.Select(o => (o.Offer.Value, o.Orders, o.Revenue)).ShouldBe([
            ("masterclass-basic", 4L, Usd(4 * 497m)),
            ("masterclass-premium", 1L, Usd(797m)),
            ("mini-ebook-kit", 1L, Usd(47m)),
            ("cover-design-pack", 2L, Usd(54m)),
            ("launch-planner", 1L, Usd(19m)),
            ("masterclass-launch-bundle", 0L, Usd(0m)),
        ]);
        report.CheckoutOrders.ShouldBe(4);
        report.OrdersWithBump.ShouldBe(2);
        report.BumpTakeRate.ShouldBe(Ratio.Of(1, 2));
        report.UpsellTakeRate.ShouldBe(Ratio.Of(1, 4));
        report.DownsellTakeRate.ShouldBe(Ratio.Of(1, 2));
        report.Revenue.ShouldBe(Usd(4 * 497m + 797m + 47m + 54m + 19m));
    }

    [Fact]
    public void Create_NoEvents_HasUndefinedRates()
    {
        OfferPathReport report = OfferPathReport.Create(OfferPathCatalogue.Catalogue, []);

        report.BumpTakeRate.IsDefined.ShouldBeFalse();
        report.UpsellTakeRate.IsDefined.ShouldBeFalse();
        report.Revenue.ShouldBe(Usd(0m));
    }
}
