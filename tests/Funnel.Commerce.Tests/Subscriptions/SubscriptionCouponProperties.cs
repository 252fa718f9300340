using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Offers;
using Funnel.Subscriptions;
using NodaTime;

namespace Funnel.Tests.Subscriptions;

/// <summary>A plan price and coupons (percentages with up to 4 decimals, or fixed amounts) applied in order.</summary>
public sealed record SubscriptionCouponCase(long Price, Coupon[] Coupons)
{
    public override string ToString() =>
        $"{Price} minor units with {string.Join(", ", Coupons.Select(c => c.PercentOff is { } p ? p + "%" : c.AmountOff!.Value.ToString()))}";
}

/// <summary>FsCheck generators for coupons on subscriptions.</summary>
public static class SubscriptionCouponArbitraries
{
    private static Gen<Coupon> CouponGen { get; } = Gen.OneOf(
        from scaled in Gen.Choose(1, 1_000_000)
        select new Coupon { Code = "C", PercentOff = scaled / 10_000m, Duration = CouponDuration.Forever },
        from minor in Gen.Choose(1, 20_000_000)
        select new Coupon { Code = "C", AmountOff = Money.FromMinorUnits(minor, Currency.USD), Duration = CouponDuration.Forever });

    public static Arbitrary<SubscriptionCouponCase> SubscriptionCouponCaseArb() => Arb.From(
        from price in Gen.Choose(1, 10_000_000)
        from count in Gen.Choose(1, 4)
        from coupons in Gen.ArrayOf(CouponGen, count)
        select new SubscriptionCouponCase(price, [.. coupons.Select((x, i) => x with { Code = "C" + i })]));
}

[Properties(Arbitrary = new[] { typeof(SubscriptionCouponArbitraries) }, MaxTest = 300)]
public class SubscriptionCouponProperties
{
    [Property]
    public bool PricePeriod_AnyCoupons_DiscountedChargeIsNeverNegativeNorAboveThePrice(SubscriptionCouponCase c)
    {
        OfferId plan = "plan";
        var prices = new PriceBook(new Catalogue
        {
            Currency = Currency.USD,
            Products = [new Product { Key = "p", Name = "P", Kind = ProductKind.CommunityAccess }],
            Offers =
            [
                new Offer
                {
                    Id = plan, Name = "Plan", Price = Money.FromMinorUnits(c.Price, Currency.USD), Products = ["p"],
                    Recurring = new SubscriptionTerms { Interval = BillingInterval.Month },
                },
            ],
            Coupons = [.. c.Coupons],
        });

        (var applied, var rejected) = prices.PricePeriod(plan, [.. c.Coupons.Select(x => x.Code)], Instant.FromUtc(2026, 3, 1, 0, 0));
        var subscription = new Subscription
        {
            Id = SubscriptionId.New(), Lead = Funnel.Tests.Offers.OfferTestKit.Lead(1), Offer = plan, Status = SubscriptionStatus.Active,
            Price = Money.FromMinorUnits(c.Price, Currency.USD), Interval = BillingInterval.Month, TimeZoneId = "UTC",
            StartedAt = Instant.FromUtc(2026, 3, 1, 0, 0), BillingAnchor = Instant.FromUtc(2026, 3, 1, 0, 0),
            CurrentPeriodStart = Instant.FromUtc(2026, 3, 1, 0, 0), CurrentPeriodEnd = Instant.FromUtc(2026, 4, 1, 0, 0),
            Credit = Money.Zero(Currency.USD),
            Coupons = [.. applied.Select(a => new SubscriptionCoupon { Code = a.Code, AmountOff = a.Discount })],
        };
        long charged = subscription.NextPeriodPrice.MinorUnits;
        long discounts = applied.Sum(a => a.Discount.MinorUnits);
        return rejected.IsEmpty
            && charged >= 0 && charged <= c.Price
            && charged == c.Price - discounts
            && subscription.MonthlyAmount.MinorUnits >= 0 && subscription.MonthlyAmount.MinorUnits <= c.Price;
    }
}
