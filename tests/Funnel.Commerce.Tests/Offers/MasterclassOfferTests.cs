using Funnel.Events;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using NodaTime;
using static Funnel.Tests.Offers.OfferTestKit;

namespace Funnel.Tests.Offers;

/// <summary>The guide's Masterclass offer table, end to end.</summary>
public class MasterclassOfferTests
{
    [Fact]
    public void PremiumPlan_Schedule_ThreeMonthlyChargesOf270Totalling810()
    {
        PaymentPlan plan = OfferPathCatalogue.Catalogue.FindOffer(OfferPathCatalogue.Premium)!.PaymentPlans[0];
        Instant purchased = Instant.FromUtc(2026, 10, 5, 14, 0); // 10:00 in New York (EDT)

        var schedule = plan.Schedule(purchased, NewYork);

        schedule.Select(c => c.Amount).ShouldBe([Usd(270m), Usd(270m), Usd(270m)]);
        Money.Sum(schedule.Select(c => c.Amount), Currency.USD).ShouldBe(Usd(810m));
        // 10:00 local every month: after the November DST change that is 15:00 UTC, not 14:00.
        schedule.Select(c => c.DueAt).ShouldBe([
            Instant.FromUtc(2026, 10, 5, 14, 0),
            Instant.FromUtc(2026, 11, 5, 15, 0),
            Instant.FromUtc(2026, 12, 5, 15, 0),
        ]);
        plan.Total.ShouldBe(Usd(810m));
        plan.PremiumOver(Usd(797m)).ShouldBe(Usd(13m));
    }

    [Fact]
    public void Price_PremiumOnThePlan_QuotesTheSameThreeCharges()
    {
        var prices = new PriceBook(OfferPathCatalogue.Catalogue);

        Quote quote = prices.Price(new Cart { Lines = [new CartLine(OfferPathCatalogue.Premium, 1, "3-monthly")] }, T0, NewYork);

        quote.Total.ShouldBe(Usd(810m));
        quote.Schedule.Select(c => (c.Number, c.DueAt, c.Amount)).ShouldBe([
            (1, T0, Usd(270m)),
            (2, Instant.FromUtc(2026, 11, 5, 15, 0), Usd(270m)),
            (3, Instant.FromUtc(2026, 12, 5, 15, 0), Usd(270m)),
        ]);
    }

    [Fact]
    public void BasicPlan_PremiumOverOneTime_Is43()
    {
        PaymentPlan plan = OfferPathCatalogue.Catalogue.FindOffer(OfferPathCatalogue.Basic)!.PaymentPlans[0];

        plan.Total.ShouldBe(Usd(540m));
        plan.PremiumOver(Usd(497m)).ShouldBe(Usd(43m));
    }

    [Fact]
    public void Price_BasicWithBumpAnd20PercentCoupon_IsExact()
    {
        var prices = new PriceBook(OfferPathCatalogue.Catalogue);
        var cart = new Cart { Lines = [new(OfferPathCatalogue.Basic), new(OfferPathCatalogue.CoverPack)], CouponCodes = ["launch20"] };

        Quote quote = prices.Price(cart, T0, NewYork);

        quote.Lines.Select(l => (l.Offer, l.Role, l.Subtotal, l.Discount, l.Total)).ShouldBe([
            (OfferPathCatalogue.Basic, OfferRole.Main, Usd(497m), Usd(99.40m), Usd(397.60m)),
            (OfferPathCatalogue.CoverPack, OfferRole.OrderBump, Usd(27m), Usd(5.40m), Usd(21.60m)),
        ]);
        quote.Subtotal.ShouldBe(Usd(524m));
        quote.Discount.ShouldBe(Usd(104.80m));
        quote.Total.ShouldBe(Usd(419.20m));
        quote.Coupons.ShouldBe([new AppliedCoupon("LAUNCH20", Usd(104.80m))]);
        quote.RejectedCoupons.ShouldBeEmpty();
        quote.Schedule.ShouldBe([new ScheduledCharge(1, T0, Usd(419.20m))]);
    }

    [Fact]
    public void Price_BumpOnlyCouponAfterPercentage_AppliesToTheRemainingBumpAmount()
    {
        var prices = new PriceBook(OfferPathCatalogue.Catalogue);
        var cart = new Cart { Lines = [new(OfferPathCatalogue.Basic), new(OfferPathCatalogue.CoverPack)], CouponCodes = ["LAUNCH20", "COVER5"] };

        Quote quote = prices.Price(cart, T0, NewYork);

        quote.Lines[1].Total.ShouldBe(Usd(16.60m));
        quote.Lines[0].Total.ShouldBe(Usd(397.60m));
        quote.Coupons.Select(c => c.Discount).ShouldBe([Usd(104.80m), Usd(5m)]);
        quote.Total.ShouldBe(Usd(414.20m));
    }

    [Fact]
    public void Price_BasicPlanWith20PercentCoupon_SplitsTheDiscountedTotalIntoInstallments()
    {
        var prices = new PriceBook(OfferPathCatalogue.Catalogue);
        var cart = new Cart { Lines = [new(OfferPathCatalogue.Basic, 1, "3-monthly"), new(OfferPathCatalogue.CoverPack)], CouponCodes = ["LAUNCH20"] };

        Quote quote = prices.Price(cart, T0, NewYork);

        // $540 plan - 20% = $432 = 3 x $144; the $21.60 bump is paid with the first installment.
        quote.Total.ShouldBe(Usd(453.60m));
        quote.Schedule.Select(c => c.Amount).ShouldBe([Usd(165.60m), Usd(144m), Usd(144m)]);
    }

    [Fact]
    public void Price_Bundle_IsOneLineAtTheBundlePrice()
    {
        var prices = new PriceBook(OfferPathCatalogue.Catalogue);

        Quote quote = prices.Price(new Cart { Lines = [new(OfferPathCatalogue.LaunchBundle)] }, T0, NewYork);

        quote.Total.ShouldBe(Usd(537m));
        prices.GetOffer(OfferPathCatalogue.LaunchBundle).Products.Length.ShouldBe(5);
    }

    [Fact]
    public async Task DeclineUpsell_AfterBasic_ReachesThe47DollarMiniKit()
    {
        var kit = new OfferTestKit();
        Order basic = await kit.BuyAsync(1, new CartLine(OfferPathCatalogue.Basic));
        OfferId upsell = kit.Service.Path.Next(OfferPathCatalogue.Basic, OfferTransition.Purchased)!.Value;

        UpsellDecision decision = await kit.Service.DeclineUpsellAsync(basic.Id, upsell);

        upsell.ShouldBe(OfferPathCatalogue.Premium);
        decision.Next.ShouldBe(OfferPathCatalogue.MiniKit);
        kit.Prices.GetOffer(decision.Next!.Value).Price.ShouldBe(Usd(47m));
        decision.Events.ShouldHaveSingleItem().ShouldBeOfType<UpsellDeclined>().Offer.ShouldBe(OfferPathCatalogue.Premium);

        OrderResult mini = await kit.Service.AcceptUpsellAsync(basic.Id, decision.Next.Value, NewYork);
        mini.Order!.Total.ShouldBe(Usd(47m));
        mini.Order.PaymentMethod.ShouldBe("pm_card_on_file");
        mini.Order.UpsellOf.ShouldBe(basic.Id);
    }

    [Fact]
    public void LeftSalesPage_WithoutBuying_LeadsToTheMiniKit()
    {
        OfferPathCatalogue.Path.Next(OfferPathCatalogue.Basic, OfferTransition.LeftSalesPage).ShouldBe(OfferPathCatalogue.MiniKit);
        OfferPathCatalogue.Path.All(OfferPathCatalogue.Basic, OfferTransition.OnCheckoutForm).ShouldBe([OfferPathCatalogue.CoverPack]);
        OfferPathCatalogue.Path.All(OfferPathCatalogue.Basic, OfferTransition.AtCheckout).ShouldBe([OfferPathCatalogue.LaunchPlanner]);
    }

    [Fact]
    public void Validators_MasterclassCatalogueAndPath_AreValid()
    {
        new CatalogueValidator().Validate(OfferPathCatalogue.Catalogue).Errors.ShouldBeEmpty();
        new OfferPathValidator(OfferPathCatalogue.Catalogue).Validate(OfferPathCatalogue.Path).Errors.ShouldBeEmpty();
    }
}
