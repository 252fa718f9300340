using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tax;
using static Funnel.Tests.Tax.TaxTestKit;

namespace Funnel.Tests.Tax;

public class VatCalculatorTests
{
    private static Money Usd(long cents) => new(cents, Currency.USD);

    [Theory]
    [InlineData("DE", 19, 9_443)] // $497.00 x 19% = $94.43
    [InlineData("FR", 20, 9_940)]
    [InlineData("IE", 23, 11_431)]
    public async Task CalculateAsync_ConsumerBuysTheMasterclass_AddsTheirCountrysStandardRate(string country, double rate, long tax)
    {
        TaxBreakdown breakdown = await TaxAsync(Calculator(), new BuyerTaxDetails { Evidence = In(country) }, OfferPathCatalogue.Basic);

        breakdown.PlaceOfSupply.Country.ShouldBe(country);
        TaxLine line = breakdown.Lines.ShouldHaveSingleItem();
        (line.Rate, line.Category, line.Net, line.Tax, line.Gross).ShouldBe(((decimal)rate, TaxCategory.Standard, Usd(49_700), Usd(tax), Usd(49_700 + tax)));
        breakdown.Tax.ShouldBe(Usd(tax));
        breakdown.ReverseCharge.ShouldBeFalse();
        line.Note.ShouldBeNull();
    }

    [Theory]
    [InlineData("DE", 7, 189)] // $27.00 x 7% = $1.89
    [InlineData("FR", 5.5, 149)] // $1.485 rounds half away from zero to $1.49
    [InlineData("IE", 0, 0)] // Ireland zero-rates e-books since 2024
    public async Task CalculateAsync_ConsumerBuysTheEBook_AppliesTheEBookRate(string country, double rate, long tax)
    {
        TaxBreakdown breakdown = await TaxAsync(Calculator(), new BuyerTaxDetails { Evidence = In(country) }, EBook);

        TaxLine line = breakdown.Lines.ShouldHaveSingleItem();
        (line.Rate, line.Category, line.Tax, line.Gross).ShouldBe(((decimal)rate, TaxCategory.EBook, Usd(tax), Usd(2_700 + tax)));
    }

    [Fact]
    public async Task CalculateAsync_PricesIncludeTax_TakesTheTaxOutOfThePrice()
    {
        TaxBreakdown breakdown = await TaxAsync(Calculator(inclusive: true), new BuyerTaxDetails { Evidence = In("DE") }, OfferPathCatalogue.Basic, EBook);

        // 497.00 incl. 19% holds 79.35 (497 x 19/119 = 79.3529); 27.00 incl. 7% holds 1.77 (27 x 7/107 = 1.7664).
        breakdown.Lines[0].ShouldBe(new TaxLine(OfferPathCatalogue.Basic, TaxCategory.Standard, 19m, Usd(41_765), Usd(7_935), Usd(49_700)));
        breakdown.Lines[1].ShouldBe(new TaxLine(EBook, TaxCategory.EBook, 7m, Usd(2_523), Usd(177), Usd(2_700)));
        (breakdown.Net, breakdown.Tax, breakdown.Gross).ShouldBe((Usd(44_288), Usd(8_112), Usd(52_400)));
        breakdown.PricesIncludeTax.ShouldBeTrue();
    }

    [Fact]
    public async Task CalculateAsync_BusinessInAnotherCountry_IsReverseChargedWithTheNote()
    {
        var buyer = new BuyerTaxDetails { Evidence = In("FR"), VatNumber = "FR 40 303 265 045" };

        TaxBreakdown breakdown = await TaxAsync(Calculator(seller: "DE"), buyer, OfferPathCatalogue.Basic, EBook);

        breakdown.ReverseCharge.ShouldBeTrue();
        breakdown.VatNumber.ShouldBe("FR40303265045");
        breakdown.PlaceOfSupply.Country.ShouldBe("FR");
        breakdown.Tax.ShouldBe(Usd(0));
        breakdown.Lines.ShouldAllBe(l => l.Rate == 0m && l.Tax.MinorUnits == 0 && l.Note == VatCalculator.ReverseChargeNote);
        breakdown.Gross.ShouldBe(Usd(52_400));
    }

    [Fact]
    public async Task CalculateAsync_UkBusinessBuyingFromTheEu_GetsTheHmrcWording()
    {
        TaxBreakdown breakdown = await TaxAsync(Calculator(seller: "IE"), new BuyerTaxDetails { VatNumber = "GB980780684" }, OfferPathCatalogue.Basic);

        breakdown.ReverseCharge.ShouldBeTrue();
        breakdown.Lines[0].Note.ShouldBe(VatCalculator.UkReverseChargeNote);
    }

    [Fact]
    public async Task CalculateAsync_BusinessInTheSellersCountry_PaysDomesticVat()
    {
        TaxBreakdown breakdown = await TaxAsync(Calculator(seller: "DE"), new BuyerTaxDetails { VatNumber = "DE136308783" }, OfferPathCatalogue.Basic);

        breakdown.ReverseCharge.ShouldBeFalse();
        breakdown.VatNumber.ShouldBe("DE136308783");
        breakdown.Tax.ShouldBe(Usd(9_443));
    }

    [Fact]
    public async Task CalculateAsync_MistypedVatNumber_IsTaxedAsAConsumer()
    {
        var buyer = new BuyerTaxDetails { Evidence = In("FR"), VatNumber = "FR 21 326 565 603" };

        TaxBreakdown breakdown = await TaxAsync(Calculator(), buyer, OfferPathCatalogue.Basic);

        breakdown.ReverseCharge.ShouldBeFalse();
        breakdown.VatNumber.ShouldBeNull();
        breakdown.Tax.ShouldBe(Usd(9_940));
    }

    [Theory]
    [InlineData(VatNumberVerificationStatus.Confirmed, true)]
    [InlineData(VatNumberVerificationStatus.Rejected, false)]
    [InlineData(VatNumberVerificationStatus.Unavailable, false)]
    public async Task CalculateAsync_WithAnOnlineCheck_ReverseChargesOnlyConfirmedNumbers(VatNumberVerificationStatus answer, bool reverse)
    {
        var verifier = new StubVerifier(answer);
        var buyer = new BuyerTaxDetails { Evidence = In("FR"), VatNumber = "FR40303265045" };

        TaxBreakdown breakdown = await TaxAsync(Calculator(verifier: verifier), buyer, OfferPathCatalogue.Basic);

        verifier.Asked.ShouldBe(["FR40303265045"]);
        breakdown.ReverseCharge.ShouldBe(reverse);
        breakdown.Tax.ShouldBe(Usd(reverse ? 0 : 9_940));
    }

    [Fact]
    public async Task CalculateAsync_ConflictingEvidence_ReturnsAnUnresolvedBreakdownWithoutLines()
    {
        var buyer = new BuyerTaxDetails { Evidence = new LocationEvidence { BillingCountry = "DE", IpCountry = "FR", CardCountry = "IE" } };

        TaxBreakdown breakdown = await TaxAsync(Calculator(), buyer, OfferPathCatalogue.Basic);

        breakdown.IsResolved.ShouldBeFalse();
        breakdown.PlaceOfSupply.Status.ShouldBe(PlaceOfSupplyStatus.Conflict);
        breakdown.Lines.ShouldBeEmpty();
        Should.Throw<ArgumentException>(() => Quote(OfferPathCatalogue.Basic).WithTax(breakdown)).Message.ShouldContain("PlaceOfSupply");
    }

    [Fact]
    public async Task CalculateAsync_BuyerOutsideTheEuAndUk_IsOutsideTheScope()
    {
        TaxBreakdown breakdown = await TaxAsync(Calculator(), new BuyerTaxDetails { Evidence = In("US") }, OfferPathCatalogue.Basic);

        breakdown.Tax.ShouldBe(Usd(0));
        breakdown.Lines[0].Note.ShouldBe(VatCalculator.OutsideScopeNote);
    }

    [Fact]
    public async Task CalculateAsync_CategoriesDoNotMatchTheLines_Throws()
    {
        var request = Request(Quote(OfferPathCatalogue.Basic), new BuyerTaxDetails()) with { Categories = [] };

        (await Should.ThrowAsync<ArgumentException>(() => Calculator().CalculateAsync(request))).Message.ShouldContain("Categories");
        await Should.ThrowAsync<ArgumentNullException>(() => Calculator().CalculateAsync(null!));
    }

    [Fact]
    public void Constructor_SellerOutsideTheTable_FailsNamingTheProperty()
    {
        Should.Throw<FluentValidation.ValidationException>(() => Calculator(seller: "US")).Message.ShouldContain("SellerCountry");
        Should.Throw<FluentValidation.ValidationException>(() => Calculator(seller: "de")).Message.ShouldContain("SellerCountry");
    }

    [Fact]
    public async Task WithTax_ExclusivePrices_AddsTheTaxToTheTotalAndSpreadsItOverTheSchedule()
    {
        Quote quote = Prices.Price(new Cart { Lines = [new CartLine(OfferPathCatalogue.Premium, 1, "3-monthly")] }, At, NodaTime.DateTimeZone.Utc);
        TaxBreakdown breakdown = await Calculator().CalculateAsync(Request(quote, new BuyerTaxDetails { Evidence = In("DE") }));

        Quote taxed = quote.WithTax(breakdown);

        taxed.Total.ShouldBe(quote.Total + breakdown.Tax);
        Money.Sum(taxed.Schedule.Select(c => c.Amount), Currency.USD).ShouldBe(taxed.Total);
        taxed.Schedule.Select(c => c.DueAt).ShouldBe(quote.Schedule.Select(c => c.DueAt));
        taxed.Tax.ShouldBe(breakdown);
        Should.Throw<ArgumentException>(() => taxed.WithTax(breakdown)).Message.ShouldContain("already");
    }
}
