using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tax;

namespace Funnel.Tests.Offers;

/// <summary>The Masterclass catalogue priced in US dollars, euros, pounds and (partly) yen.</summary>
/// <remarks>The Launch Planner has no yen price, Premium none in yen, and the Launch Bundle sells only in dollars.</remarks>
internal static class PriceListKit
{
    public static Money Eur(decimal amount) => Money.FromMajor(amount, Currency.EUR);

    public static Money Gbp(decimal amount) => Money.FromMajor(amount, Currency.GBP);

    public static Money Jpy(decimal amount) => Money.FromMajor(amount, Currency.JPY);

    public static Catalogue Catalogue { get; } = OfferPathCatalogue.Catalogue with
    {
        Offers = [.. OfferPathCatalogue.Catalogue.Offers.Select(Priced)],
        Coupons =
        [
            new Coupon { Code = "LAUNCH20", PercentOff = 20m },
            new Coupon { Code = "COVER5", AmountOff = OfferTestKit.Usd(5m), AmountsOff = [Eur(5m)], AppliesTo = [OfferPathCatalogue.CoverPack] },
            new Coupon { Code = "VIP100", AmountOff = OfferTestKit.Usd(100m), AmountsOff = [Eur(90m), Gbp(80m), Jpy(15_000m)], Stacking = CouponStacking.Exclusive },
        ],
    };

    public static BuyerTaxDetails From(string country) => new() { Evidence = new LocationEvidence { BillingCountry = country, IpCountry = country, CardCountry = country } };

    private static (Money[] Prices, Money[] Installments) P(Money[] prices, Money[] installments) => (prices, installments);

    private static Offer Priced(Offer offer)
    {
        (Money[] prices, Money[] installments) =
            offer.Id == OfferPathCatalogue.Basic ? P([Eur(449m), Gbp(397m), Jpy(74_800m)], [Eur(163m), Gbp(143m), Jpy(27_000m)])
            : offer.Id == OfferPathCatalogue.Premium ? P([Eur(729m), Gbp(639m)], [Eur(247m), Gbp(216m)])
            : offer.Id == OfferPathCatalogue.MiniKit ? P([Eur(43m), Gbp(37m), Jpy(6_900m)], [])
            : offer.Id == OfferPathCatalogue.CoverPack ? P([Eur(25m), Gbp(22m), Jpy(3_900m)], [])
            : offer.Id == OfferPathCatalogue.LaunchPlanner ? P([Eur(17m), Gbp(15m)], [])
            : P([], []);
        return offer with
        {
            Prices = [.. prices],
            PaymentPlans = [.. offer.PaymentPlans.Select(p => p with { InstallmentAmounts = [.. installments] })],
        };
    }
}
