using BenchmarkDotNet.Attributes;
using Funnel.Offers;
using NodaTime;

namespace Funnel.Benchmarks;

/// <summary>The pricing engine's hot path: a 10-line cart with 3 stacking coupons (two percentages, one fixed) and one payment plan.</summary>
[MemoryDiagnoser]
public class OfferQuoteBenchmarks
{
    private static readonly Instant At = Instant.FromUtc(2026, 10, 5, 14, 0);
    private readonly DateTimeZone zone = DateTimeZoneProviders.Tzdb["America/New_York"];
    private PriceBook prices = null!;
    private Cart cart = null!;
    private Cart oneTimeCart = null!;

    [GlobalSetup]
    public void Setup()
    {
        Money Usd(decimal amount) => Money.FromMajor(amount, Currency.USD);
        Offer[] offers =
        [
            .. Enumerable.Range(0, 10).Select(i => new Offer
            {
                Id = "offer-" + i,
                Name = "Offer " + i,
                Role = i == 0 ? OfferRole.Main : OfferRole.OrderBump,
                Price = Usd(27m + (i * 47m)),
                Products = ["product"],
                PaymentPlans = [new PaymentPlan { Key = "3-monthly", Installments = 3, InstallmentAmount = Usd(180m), Interval = Period.FromMonths(1) }],
            }),
        ];
        prices = new PriceBook(new Catalogue
        {
            Currency = Currency.USD,
            Products = [new Product { Key = "product", Name = "Product" }],
            Offers = [.. offers],
            Coupons =
            [
                new Coupon { Code = "LAUNCH20", PercentOff = 20m },
                new Coupon { Code = "BUNDLE5", PercentOff = 5.5m, AppliesTo = ["offer-1", "offer-2", "offer-3"] },
                new Coupon { Code = "TENOFF", AmountOff = Usd(10m) },
            ],
        });
        cart = new Cart
        {
            Lines = [new CartLine("offer-0", 1, "3-monthly"), .. Enumerable.Range(1, 9).Select(i => new CartLine("offer-" + i, 1 + (i % 3)))],
            CouponCodes = ["LAUNCH20", "BUNDLE5", "TENOFF"],
        };
        oneTimeCart = cart with { Lines = [.. Enumerable.Range(0, 10).Select(i => new CartLine("offer-" + i, 1 + (i % 3)))] };
    }

    /// <summary>10 lines, 3 coupons, the main line on a 3-installment plan (the schedule needs time zone arithmetic).</summary>
    [Benchmark]
    public Quote TenLinesThreeCouponsWithPlan() => prices.Price(cart, At, zone);

    /// <summary>10 one-time lines, 3 coupons.</summary>
    [Benchmark]
    public Quote TenLinesThreeCoupons() => prices.Price(oneTimeCart, At, zone);
}
