using BenchmarkDotNet.Attributes;
using Funnel.Offers;
using Funnel.Tax;
using NodaTime;

namespace Funnel.Benchmarks;

/// <summary>A checkout's quote with VAT: the 10-line, 3-coupon cart of <see cref="OfferQuoteBenchmarks"/> priced, taxed for a German consumer and the tax applied.</summary>
[MemoryDiagnoser]
public class TaxedQuoteBenchmarks
{
    private static readonly Instant At = Instant.FromUtc(2026, 12, 5, 14, 0);
    private readonly OfferQuoteBenchmarks pricing = new();
    private readonly VatCalculator calculator = new(VatRateTable.Default, new TaxOptions { SellerCountry = "IE" });
    private readonly BuyerTaxDetails buyer = new() { Evidence = new LocationEvidence { BillingCountry = "DE", IpCountry = "DE", CardCountry = "DE" } };
    private TaxCategory[] categories = null!;

    [GlobalSetup]
    public void Setup()
    {
        pricing.Setup();
        categories = [.. Enumerable.Range(0, 10).Select(i => i % 2 == 0 ? TaxCategory.Standard : TaxCategory.EBook)];
    }

    /// <summary>Price, tax (two rates, per invoice) and apply: what <c>StartCheckoutAsync</c> does before holding seats.</summary>
    [Benchmark]
    public Quote TenLinesThreeCouponsTaxed()
    {
        Quote quote = pricing.TenLinesThreeCoupons();
        TaxBreakdown tax = calculator.CalculateAsync(new TaxRequest { Quote = quote, Categories = [.. categories], Buyer = buyer }).GetAwaiter().GetResult();
        return quote.WithTax(tax);
    }
}
