using System.Collections.Immutable;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tax;
using NodaTime;

namespace Funnel.Tests.Tax;

/// <summary>The Masterclass catalogue with a stand-alone e-book, and buyers from several countries.</summary>
internal static class TaxTestKit
{
    public const string EBook = "ebook";

    public static readonly Instant At = Instant.FromUtc(2026, 12, 5, 10, 0);

    public static Catalogue Catalogue { get; } = OfferPathCatalogue.Catalogue with
    {
        Products = OfferPathCatalogue.Catalogue.Products.Add(new Product { Key = "ebook-pdf", Name = "The E-Book (PDF and EPUB)", Kind = ProductKind.EBook }),
        Offers = OfferPathCatalogue.Catalogue.Offers.Add(new Offer { Id = EBook, Name = "The E-Book", Price = Money.FromMajor(27m, Currency.USD), Products = ["ebook-pdf"] }),
    };

    public static PriceBook Prices { get; } = new(Catalogue);

    public static LocationEvidence In(string country) => new() { BillingCountry = country, IpCountry = country, CardCountry = country };

    public static VatCalculator Calculator(bool inclusive = false, string seller = "DE", IVatNumberVerifier? verifier = null) =>
        new(VatRateTable.Default, new TaxOptions { SellerCountry = seller, PricesIncludeTax = inclusive }, verifier);

    public static Quote Quote(params OfferId[] offers) =>
        Prices.Price(new Cart { Lines = [.. offers.Select(o => new CartLine(o))] }, At, DateTimeZone.Utc);

    public static TaxRequest Request(Quote quote, BuyerTaxDetails buyer) => new()
    {
        Quote = quote,
        Categories = [.. quote.Lines.Select(l => l.Offer == EBook ? TaxCategory.EBook : TaxCategory.Standard)],
        Buyer = buyer,
    };

    public static Task<TaxBreakdown> TaxAsync(VatCalculator calculator, BuyerTaxDetails buyer, params OfferId[] offers) =>
        calculator.CalculateAsync(Request(Quote(offers), buyer));
}

/// <summary>An online VAT-number check that answers as told and records what it was asked.</summary>
internal sealed class StubVerifier(VatNumberVerificationStatus answer) : IVatNumberVerifier
{
    public List<string> Asked { get; } = [];

    public Task<VatNumberVerification> VerifyAsync(VatNumberCheck number, CancellationToken cancellationToken = default)
    {
        Asked.Add(number.Normalized!);
        return Task.FromResult(new VatNumberVerification(answer, "WAPIAAAAW1234567"));
    }
}
