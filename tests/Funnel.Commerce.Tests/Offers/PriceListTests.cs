using FluentValidation;
using Funnel.Currencies;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using NodaTime;
using static Funnel.Tests.Offers.OfferTestKit;
using static Funnel.Tests.Offers.PriceListKit;

namespace Funnel.Tests.Offers;

public class PriceListTests
{
    private static readonly PriceBook Prices = new(PriceListKit.Catalogue);

    private static Quote Price(string? country, Currency? picked, string[] coupons, params CartLine[] lines) =>
        Prices.Price(new Cart { Lines = [.. lines], CouponCodes = [.. coupons], Buyer = country is null ? null : From(country), Currency = picked }, T0, NewYork);

    [Fact]
    public void Price_GermanBuyer_QuotesEveryLineInEuros()
    {
        Quote quote = Price("DE", null, [], new CartLine(OfferPathCatalogue.Basic), new CartLine(OfferPathCatalogue.CoverPack));

        quote.Currency.ShouldBe(Currency.EUR);
        quote.Lines.Select(l => l.Total).ShouldBe([Eur(449m), Eur(25m)]);
        quote.Total.ShouldBe(new Money(47_400, Currency.EUR));
        quote.Schedule.ShouldBe([new ScheduledCharge(1, T0, Eur(474m))]);
    }

    [Fact]
    public void Price_BritishBuyer_QuotesInPounds()
    {
        Quote quote = Price("gb", null, [], new CartLine(OfferPathCatalogue.Basic, 2));

        quote.Currency.ShouldBe(Currency.GBP);
        quote.Lines[0].UnitPrice.ShouldBe(Gbp(397m));
        quote.Total.ShouldBe(new Money(79_400, Currency.GBP));
    }

    [Fact]
    public void Price_JapaneseBuyer_QuotesInWholeYen()
    {
        Quote quote = Price("JP", null, ["LAUNCH20"], new CartLine(OfferPathCatalogue.Basic), new CartLine(OfferPathCatalogue.CoverPack, 3));

        quote.Currency.ShouldBe(Currency.JPY);
        quote.Subtotal.ShouldBe(new Money(74_800 + 11_700, Currency.JPY));
        quote.Lines.Select(l => l.Discount.MinorUnits).ShouldBe([14_960L, 2_340L]);
        quote.Total.ShouldBe(new Money(69_200, Currency.JPY));
    }

    [Fact]
    public void Price_CountryWhoseCurrencyIsNotPriced_FallsBackToTheCatalogueCurrency()
    {
        Quote quote = Price("CH", null, [], new CartLine(OfferPathCatalogue.Basic));

        quote.Currency.ShouldBe(Currency.USD);
        quote.Total.ShouldBe(Usd(497m));
    }

    [Fact]
    public void Price_OneOfferWithoutTheCountrysCurrency_QuotesTheWholeCartInTheCatalogueCurrency()
    {
        Quote quote = Price("JP", null, [], new CartLine(OfferPathCatalogue.Basic), new CartLine(OfferPathCatalogue.LaunchPlanner));

        quote.Currency.ShouldBe(Currency.USD);
        quote.Lines.Select(l => l.Total).ShouldBe([Usd(497m), Usd(19m)]);
    }

    [Fact]
    public void Price_NoBuyerOrUnmappedCountry_QuotesInTheCatalogueCurrency()
    {
        Price(null, null, [], new CartLine(OfferPathCatalogue.Basic)).Currency.ShouldBe(Currency.USD);
        Price("BV", null, [], new CartLine(OfferPathCatalogue.Basic)).Currency.ShouldBe(Currency.USD);
    }

    [Fact]
    public void Price_PickedCurrency_OverridesTheCountry()
    {
        Quote quote = Price("DE", Currency.GBP, [], new CartLine(OfferPathCatalogue.Basic));

        quote.Currency.ShouldBe(Currency.GBP);
        quote.Total.ShouldBe(Gbp(397m));
        Price("DE", Currency.USD, [], new CartLine(OfferPathCatalogue.Basic)).Total.ShouldBe(Usd(497m));
    }

    [Fact]
    public void Price_PickedCurrencyAnOfferLacks_ThrowsNamingTheOfferAndTheCurrency()
    {
        var error = Should.Throw<ArgumentException>(() => Price("JP", Currency.JPY, [], new CartLine(OfferPathCatalogue.Basic), new CartLine(OfferPathCatalogue.LaunchPlanner)));

        error.Message.ShouldContain("Currency: offer 'launch-planner' has no price in JPY");
        error.Message.ShouldContain("USD, EUR, GBP");
        Should.Throw<ArgumentException>(() => Price(null, Currency.CHF, [], new CartLine(OfferPathCatalogue.Basic))).Message.ShouldContain("CHF");
        Should.Throw<ArgumentException>(() => Price(null, Currency.CHF, [], new CartLine("nope"))).Message.ShouldContain("no price in CHF; it sells in USD, EUR, GBP, JPY");
    }

    [Fact]
    public void ChooseCurrency_ConfiguredSelector_MapsTheCountryAsConfigured()
    {
        var prices = new PriceBook(PriceListKit.Catalogue, CurrencySelector.Default.With("CH", Currency.EUR).Without("GB"));
        Cart Cart(string country) => new() { Lines = [new CartLine(OfferPathCatalogue.Basic)], Buyer = From(country) };

        prices.ChooseCurrency(Cart("CH")).ShouldBe(Currency.EUR);
        prices.ChooseCurrency(Cart("GB")).ShouldBe(Currency.USD);
        new PriceBook(PriceListKit.Catalogue, CurrencySelector.Empty).ChooseCurrency(Cart("DE")).ShouldBe(Currency.USD);
    }

    [Fact]
    public void ChooseCurrency_EvidenceWithoutBillingCountry_UsesTheIpCountryThenTheCardCountry()
    {
        Cart Cart(string? ip, string? card) => new()
        {
            Lines = [new CartLine(OfferPathCatalogue.Basic)],
            Buyer = new Funnel.Tax.BuyerTaxDetails { Evidence = new Funnel.Tax.LocationEvidence { IpCountry = ip, CardCountry = card } },
        };

        Prices.ChooseCurrency(Cart("FR", "GB")).ShouldBe(Currency.EUR);
        Prices.ChooseCurrency(Cart(null, "GB")).ShouldBe(Currency.GBP);
    }

    [Fact]
    public void Currencies_ListsTheCatalogueCurrencyFirstThenTheOthersByCode()
    {
        Prices.Currencies.ShouldBe([Currency.USD, Currency.EUR, Currency.GBP, Currency.JPY]);
        new PriceBook(OfferPathCatalogue.Catalogue).Currencies.ShouldBe([Currency.USD]);
    }

    [Fact]
    public void Price_PlanInEuros_SchedulesTheEuroInstallments()
    {
        Quote quote = Price("AT", null, [], new CartLine(OfferPathCatalogue.Basic, 1, "3-monthly"));

        quote.Total.ShouldBe(Eur(489m));
        quote.Lines[0].UnitPrice.ShouldBe(Eur(489m));
        quote.Schedule.Select(c => c.Amount).ShouldBe([Eur(163m), Eur(163m), Eur(163m)]);
        quote.Schedule[1].DueAt.ShouldBe(Instant.FromUtc(2026, 11, 5, 15, 0));
    }

    [Fact]
    public void Price_PercentCoupon_AppliesInAnyCurrency()
    {
        Price("GB", null, ["LAUNCH20"], new CartLine(OfferPathCatalogue.Basic)).Total.ShouldBe(Gbp(317.60m));
        Price("DE", null, ["LAUNCH20"], new CartLine(OfferPathCatalogue.Basic)).Total.ShouldBe(Eur(359.20m));
    }

    [Fact]
    public void Price_FixedCouponWithAnAmountInTheCurrency_TakesThatAmount()
    {
        Quote euros = Price("DE", null, ["VIP100"], new CartLine(OfferPathCatalogue.Basic));
        Quote yen = Price("JP", null, ["VIP100"], new CartLine(OfferPathCatalogue.Basic));

        euros.Coupons.ShouldBe([new AppliedCoupon("VIP100", Eur(90m))]);
        euros.Total.ShouldBe(Eur(359m));
        yen.Total.ShouldBe(new Money(59_800, Currency.JPY));
    }

    [Fact]
    public void Price_FixedCouponWithoutAnAmountInTheCurrency_IsRejectedNotConverted()
    {
        Quote pounds = Price("GB", null, ["COVER5", "LAUNCH20"], new CartLine(OfferPathCatalogue.Basic), new CartLine(OfferPathCatalogue.CoverPack));

        pounds.RejectedCoupons.ShouldBe([new CouponRejection("COVER5", CouponRejectionReason.NotInCurrency)]);
        pounds.Coupons.ShouldBe([new AppliedCoupon("LAUNCH20", Gbp(83.80m))]);
        Price("FR", null, ["COVER5"], new CartLine(OfferPathCatalogue.CoverPack)).Total.ShouldBe(Eur(20m));
    }

    [Fact]
    public void PriceIn_ReturnsThePriceOfTheCurrencyOrNull()
    {
        Offer basic = PriceListKit.Catalogue.FindOffer(OfferPathCatalogue.Basic)!;

        basic.PriceIn(Currency.USD).ShouldBe(Usd(497m));
        basic.PriceIn(Currency.GBP).ShouldBe(Gbp(397m));
        basic.PriceIn(Currency.CHF).ShouldBeNull();
    }

    [Fact]
    public void Validate_PricesTwiceInACurrencyOrInTheCatalogueCurrencyOrNegative_NameTheOfferAndCurrency()
    {
        Catalogue catalogue = WithBasic(o => o with { Prices = [Eur(449m), Eur(450m), Usd(1m), Gbp(-1m)], PaymentPlans = [] });

        string[] errors = Errors(catalogue);

        errors.ShouldContain(e => e.Contains("Offers[0].Prices[1]") && e.Contains("'masterclass-basic'") && e.Contains("more than one price in EUR"));
        errors.ShouldContain(e => e.Contains("Offers[0].Prices[2]") && e.Contains("USD, the catalogue's currency"));
        errors.ShouldContain(e => e.Contains("Offers[0].Prices[3]") && e.Contains("GBP") && e.Contains("zero or more"));
    }

    [Fact]
    public void Validate_PlanMissingOrExtraCurrency_NamesThePlanOfferAndCurrency()
    {
        Catalogue catalogue = WithBasic(o => o with
        {
            Prices = [Eur(449m), Gbp(397m)],
            PaymentPlans = [o.PaymentPlans[0] with { InstallmentAmounts = [Eur(163m), Jpy(27_000m)] }],
        });

        string[] errors = Errors(catalogue);

        errors.ShouldContain(e => e.Contains("Offers[0].PaymentPlans[0].InstallmentAmounts") && e.Contains("'3-monthly' of offer 'masterclass-basic' has no installment amount in GBP"));
        errors.ShouldContain(e => e.Contains("installment amount in JPY, but the offer has no price in JPY"));
    }

    [Fact]
    public void Validate_CouponAmountsOff_AreCheckedLikeAmountOff()
    {
        Catalogue catalogue = PriceListKit.Catalogue with
        {
            Coupons =
            [
                new Coupon { Code = "PCT", PercentOff = 10m, AmountsOff = [Eur(5m)] },
                new Coupon { Code = "FIX", AmountOff = Usd(5m), AmountsOff = [Eur(0m), Gbp(4m), Gbp(3m)] },
            ],
        };

        string[] errors = Errors(catalogue);

        errors.ShouldContain(e => e.Contains("Coupons[0].AmountsOff") && e.Contains("no AmountOff"));
        errors.ShouldContain(e => e.Contains("Coupons[1].AmountsOff[0]") && e.Contains("EUR") && e.Contains("positive"));
        errors.ShouldContain(e => e.Contains("Coupons[1].AmountsOff[2]") && e.Contains("more than one amount off in GBP"));
        Should.Throw<ValidationException>(() => new PriceBook(catalogue));
    }

    [Fact]
    public void Validate_TheMultiCurrencyMasterclass_IsValid()
    {
        new CatalogueValidator().Validate(PriceListKit.Catalogue).Errors.ShouldBeEmpty();
    }

    private static Catalogue WithBasic(Func<Offer, Offer> change) => PriceListKit.Catalogue with
    {
        Offers = [.. PriceListKit.Catalogue.Offers.Select(o => o.Id == OfferPathCatalogue.Basic ? change(o) : o)],
    };

    private static string[] Errors(Catalogue catalogue) =>
        [.. new CatalogueValidator().Validate(catalogue).Errors.Select(e => $"{e.PropertyName}: {e.ErrorMessage}")];
}
