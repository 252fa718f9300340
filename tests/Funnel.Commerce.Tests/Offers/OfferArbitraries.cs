using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using Funnel.Offers;
using NodaTime;

namespace Funnel.Tests.Offers;

/// <summary>A random catalogue of offers and coupons, and a cart over it.</summary>
public sealed record PricingCase(Catalogue Catalogue, Cart Cart, Instant At)
{
    public override string ToString() =>
        $"offers [{string.Join(", ", Catalogue.Offers.Select(o => $"{o.Id}={o.Price.MinorUnits}"))}], coupons [{string.Join(", ", Catalogue.Coupons.Select(c => $"{c.Code}:{c.PercentOff}%/{c.AmountOff?.MinorUnits}/{c.Stacking}/[{string.Join(",", c.AppliesTo)}]"))}], " +
        $"lines [{string.Join(", ", Cart.Lines)}], codes [{string.Join(", ", Cart.CouponCodes)}]";
}

/// <summary>A payment plan and a purchase instant and zone.</summary>
public sealed record PlanCase(PaymentPlan Plan, Money Total, Instant PurchasedAt, DateTimeZone Zone)
{
    public override string ToString() => $"{Plan.Installments} x {Plan.Interval} of {Total.MinorUnits} at {PurchasedAt} in {Zone.Id}";
}

/// <summary>A seat capacity and a number of racing buyers.</summary>
public readonly record struct SeatRace(int Capacity, int Buyers, int Repeats);

/// <summary>FsCheck generators for offers, kept out of the shared Arbitraries.</summary>
public static class OfferArbitraries
{
    private static readonly string[] Zones = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "UTC", "America/Sao_Paulo"];

    public static Arbitrary<PricingCase> PricingCaseArb()
    {
        Gen<Offer[]> offers =
            from count in Gen.Choose(1, 6)
            from prices in Gen.ArrayOf(Gen.Choose(0, 2_000_000), count)
            from plans in Gen.ArrayOf(Gen.Choose(2, 12), count)
            from amounts in Gen.ArrayOf(Gen.Choose(1, 100_000), count)
            select prices.Select((p, i) => new Offer
            {
                Id = "offer-" + i,
                Name = "Offer " + i,
                Price = new Money(p, Currency.USD),
                Products = ["product"],
                PaymentPlans = [new PaymentPlan { Key = "plan", Installments = plans[i], InstallmentAmount = new Money(amounts[i], Currency.USD), Interval = Period.FromMonths(1) }],
            }).ToArray();

        Gen<Coupon> Coupon(int offerCount) =>
            from percent in Gen.Choose(1, 1_000_000).Select(p => p / 10_000m)
            from amount in Gen.Choose(1, 3_000_000)
            from isPercent in Gen.Elements(true, false)
            from exclusive in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
            from restricted in Gen.SubListOf(Enumerable.Range(0, offerCount).ToArray())
            select new Coupon
            {
                Code = "C",
                PercentOff = isPercent ? percent : null,
                AmountOff = isPercent ? null : new Money(amount, Currency.USD),
                Stacking = exclusive ? CouponStacking.Exclusive : CouponStacking.Stackable,
                AppliesTo = [.. restricted.Select(i => new OfferId("offer-" + i))],
                StartsAt = Instant.FromUtc(2026, 1, 1, 0, 0),
            };

        Gen<PricingCase> gen =
            from offerArray in offers
            from couponCount in Gen.Choose(0, 5)
            from couponArray in Gen.ArrayOf(Coupon(offerArray.Length), couponCount)
            let coupons = couponArray.Select((x, i) => x with { Code = "C" + i }).ToArray()
            from lineCount in Gen.Choose(1, 10)
            from lines in Gen.ArrayOf(
                from o in Gen.Choose(0, offerArray.Length - 1)
                from q in Gen.Choose(1, 5)
                from plan in Gen.Elements(true, false)
                select new CartLine("offer-" + o, q, plan ? "plan" : null), lineCount)
            from codes in Gen.ListOf(Gen.Choose(0, couponCount + 1).Select(i => "C" + i))
            from day in Gen.Choose(-5, 300)
            select new PricingCase(
                new Catalogue { Currency = Currency.USD, Products = [new Product { Key = "product", Name = "Product" }], Offers = [.. offerArray], Coupons = [.. coupons] },
                new Cart { Lines = [.. lines], CouponCodes = [.. codes] },
                Instant.FromUtc(2026, 1, 1, 0, 0) + Duration.FromDays(day));
        return Arb.From(gen);
    }

    public static Arbitrary<PlanCase> PlanCaseArb() => Arb.From(
        from installments in Gen.Choose(2, 36)
        from months in Gen.Choose(0, 3)
        from weeks in Gen.Choose(0, 2)
        from days in Gen.Choose(months + weeks == 0 ? 1 : 0, 10)
        from amount in Gen.Choose(1, 1_000_000)
        from total in Gen.Choose(0, 50_000_000)
        from seconds in Gen.Choose(0, 20 * 365 * 24 * 3600)
        from zone in Gen.Elements(Zones)
        select new PlanCase(
            new PaymentPlan
            {
                Key = "plan",
                Installments = installments,
                InstallmentAmount = new Money(amount, Currency.EUR),
                Interval = new PeriodBuilder { Months = months, Weeks = weeks, Days = days }.Build(),
            },
            new Money(total, Currency.EUR),
            Instant.FromUtc(2015, 1, 1, 0, 0) + Duration.FromSeconds(seconds),
            DateTimeZoneProviders.Tzdb[zone]));

    public static Arbitrary<SeatRace> SeatRaceArb() => Arb.From(
        from capacity in Gen.Choose(1, 40)
        from buyers in Gen.Choose(1, 120)
        from repeats in Gen.Choose(1, 3)
        select new SeatRace(capacity, buyers, repeats));
}
