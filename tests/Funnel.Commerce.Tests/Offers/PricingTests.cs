using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using NodaTime;
using static Funnel.Tests.Offers.OfferTestKit;

namespace Funnel.Tests.Offers;

public class PricingTests
{
    private static readonly Catalogue Masterclass = OfferPathCatalogue.Catalogue;

    private static Quote Price(Catalogue catalogue, Instant at, string[] coupons, params CartLine[] lines) =>
        new PriceBook(catalogue).Price(new Cart { Lines = [.. lines], CouponCodes = [.. coupons] }, at, NewYork);

    [Fact]
    public void Price_UnknownOffer_NamesTheLine()
    {
        var prices = new PriceBook(Masterclass);

        var error = Should.Throw<ArgumentException>(() => prices.Price(new Cart { Lines = [new(OfferPathCatalogue.Basic), new("nope")] }, T0, NewYork));

        error.Message.ShouldContain("Lines[1].Offer");
        error.Message.ShouldContain("'nope'");
    }

    [Fact]
    public void Price_UnknownPlanOrZeroQuantityOrEmptyCart_NamesTheProblem()
    {
        var prices = new PriceBook(Masterclass);

        Should.Throw<ArgumentException>(() => prices.Price(new Cart { Lines = [new(OfferPathCatalogue.MiniKit, 1, "3-monthly")] }, T0, NewYork)).Message.ShouldContain("Lines[0].PaymentPlan");
        Should.Throw<ArgumentException>(() => prices.Price(new Cart { Lines = [new(OfferPathCatalogue.MiniKit, 0)] }, T0, NewYork)).Message.ShouldContain("Lines[0].Quantity");
        Should.Throw<ArgumentException>(() => prices.Price(new Cart { Lines = [] }, T0, NewYork)).Message.ShouldContain("Lines");
    }

    [Fact]
    public void Price_FixedCouponLargerThanTheCart_StopsAtZero()
    {
        Quote quote = Price(Masterclass, T0, ["VIP100"], new CartLine(OfferPathCatalogue.CoverPack, 2));

        quote.Subtotal.ShouldBe(Usd(54m));
        quote.Discount.ShouldBe(Usd(54m));
        quote.Total.ShouldBe(Usd(0m));
        quote.Coupons.ShouldBe([new AppliedCoupon("VIP100", Usd(54m))]);
        quote.Schedule.ShouldBe([new ScheduledCharge(1, T0, Usd(0m))]);
    }

    [Fact]
    public void Price_FixedCoupon_TakesFromEligibleLinesInCartOrder()
    {
        Quote quote = Price(Masterclass, T0, ["VIP100"], new CartLine(OfferPathCatalogue.CoverPack), new CartLine(OfferPathCatalogue.MiniKit));

        quote.Lines.Select(l => l.Discount).ShouldBe([Usd(27m), Usd(47m)]);
        quote.Total.ShouldBe(Usd(0m));
        quote.Discount.ShouldBe(Usd(74m));
    }

    [Fact]
    public void Price_RestrictedCoupon_OnlyTouchesItsOffers()
    {
        Quote quote = Price(Masterclass, T0, ["COVER5"], new CartLine(OfferPathCatalogue.Basic), new CartLine(OfferPathCatalogue.CoverPack));

        quote.Lines.Select(l => l.Discount).ShouldBe([Usd(0m), Usd(5m)]);
        Price(Masterclass, T0, ["COVER5"], new CartLine(OfferPathCatalogue.Basic))
            .RejectedCoupons.ShouldBe([new CouponRejection("COVER5", CouponRejectionReason.NotApplicable)]);
    }

    [Fact]
    public void Price_CouponOutsideItsWindow_IsRejectedWithTheReason()
    {
        Catalogue catalogue = Masterclass with
        {
            Coupons = [new Coupon { Code = "EARLY", PercentOff = 10m, StartsAt = T0, ExpiresAt = T0 + Duration.FromDays(3) }],
        };
        CartLine basic = new(OfferPathCatalogue.Basic);

        Price(catalogue, T0 - Duration.FromSeconds(1), ["EARLY"], basic).RejectedCoupons.ShouldBe([new CouponRejection("EARLY", CouponRejectionReason.NotStarted)]);
        Price(catalogue, T0, ["EARLY"], basic).Total.ShouldBe(Usd(447.30m));
        Price(catalogue, T0 + Duration.FromDays(3), ["EARLY"], basic).RejectedCoupons.ShouldBe([new CouponRejection("EARLY", CouponRejectionReason.Expired)]);
    }

    [Fact]
    public void Price_UnknownAndRepeatedCodes_AreRejectedNotThrown()
    {
        Quote quote = Price(Masterclass, T0, ["WHAT", "LAUNCH20", "launch20"], new CartLine(OfferPathCatalogue.Basic));

        quote.RejectedCoupons.ShouldBe([new CouponRejection("WHAT", CouponRejectionReason.Unknown), new CouponRejection("launch20", CouponRejectionReason.Duplicate)]);
        quote.Total.ShouldBe(Usd(397.60m));
    }

    [Fact]
    public void Price_ExclusiveCoupon_DoesNotStack()
    {
        CartLine basic = new(OfferPathCatalogue.Basic);

        Quote after = Price(Masterclass, T0, ["LAUNCH20", "VIP100"], basic);
        Quote first = Price(Masterclass, T0, ["VIP100", "LAUNCH20"], basic);

        after.Coupons.Select(c => c.Code).ShouldBe(["LAUNCH20"]);
        after.RejectedCoupons.ShouldBe([new CouponRejection("VIP100", CouponRejectionReason.NotCombinable)]);
        first.Coupons.Select(c => c.Code).ShouldBe(["VIP100"]);
        first.RejectedCoupons.ShouldBe([new CouponRejection("LAUNCH20", CouponRejectionReason.NotCombinable)]);
        first.Total.ShouldBe(Usd(397m));
    }

    [Fact]
    public void Price_PercentageRounding_IsHalfAwayFromZeroPerLine()
    {
        Catalogue catalogue = Masterclass with { Coupons = [new Coupon { Code = "HALF", PercentOff = 12.5m }] };

        // 12.5% of $0.04 is half a cent: rounds to 1 cent. 12.5% of $47 is $5.875: $5.88.
        Catalogue penny = catalogue with { Offers = catalogue.Offers.SetItem(2, catalogue.Offers[2] with { Price = Usd(0.04m) }) };
        Price(penny, T0, ["HALF"], new CartLine(OfferPathCatalogue.MiniKit)).Discount.ShouldBe(Usd(0.01m));
        Price(catalogue, T0, ["HALF"], new CartLine(OfferPathCatalogue.MiniKit)).Discount.ShouldBe(Usd(5.88m));
    }

    [Fact]
    public void Price_TwoPlansInOneCart_MergesChargesDueAtTheSameInstant()
    {
        Quote quote = Price(Masterclass, T0, [], new CartLine(OfferPathCatalogue.Basic, 1, "3-monthly"), new CartLine(OfferPathCatalogue.Premium, 1, "3-monthly"));

        quote.Schedule.Select(c => c.Amount).ShouldBe([Usd(450m), Usd(450m), Usd(450m)]);
        quote.Schedule.Select(c => c.Number).ShouldBe([1, 2, 3]);
    }

    [Fact]
    public void Schedule_Jan31PlusMonths_ClampsToMonthEndButCountsFromThePurchase()
    {
        var plan = new PaymentPlan { Key = "4-monthly", Installments = 4, InstallmentAmount = Usd(100m), Interval = Period.FromMonths(1) };
        Instant jan31 = new LocalDateTime(2026, 1, 31, 10, 0).InZoneLeniently(NewYork).ToInstant();

        var dates = plan.Schedule(jan31, NewYork).Select(c => c.DueAt.InZone(NewYork).LocalDateTime).ToList();

        dates.ShouldBe([
            new LocalDateTime(2026, 1, 31, 10, 0),
            new LocalDateTime(2026, 2, 28, 10, 0),
            new LocalDateTime(2026, 3, 31, 10, 0),
            new LocalDateTime(2026, 4, 30, 10, 0),
        ]);
    }

    [Fact]
    public void Schedule_AcrossSpringForwardGap_MovesTheSkippedTimeForward()
    {
        // 2026-03-08 02:30 does not exist in New York: clocks jump from 02:00 EST to 03:00 EDT.
        var plan = new PaymentPlan { Key = "2-monthly", Installments = 2, InstallmentAmount = Usd(100m), Interval = Period.FromMonths(1) };
        Instant purchased = new LocalDateTime(2026, 2, 8, 2, 30).InZoneStrictly(NewYork).ToInstant();

        var schedule = plan.Schedule(purchased, NewYork);

        schedule[0].DueAt.ShouldBe(Instant.FromUtc(2026, 2, 8, 7, 30));
        schedule[1].DueAt.ShouldBe(Instant.FromUtc(2026, 3, 8, 7, 30)); // 03:30 EDT
        schedule[1].DueAt.InZone(NewYork).LocalDateTime.ShouldBe(new LocalDateTime(2026, 3, 8, 3, 30));
    }

    [Fact]
    public void Schedule_AcrossFallBackOverlap_TakesTheEarlierOffset()
    {
        // 2026-11-01 01:30 happens twice in New York; the lenient resolver takes the first (EDT, UTC-4).
        var plan = new PaymentPlan { Key = "2-monthly", Installments = 2, InstallmentAmount = Usd(100m), Interval = Period.FromMonths(1) };
        Instant purchased = new LocalDateTime(2026, 10, 1, 1, 30).InZoneStrictly(NewYork).ToInstant();

        plan.Schedule(purchased, NewYork)[1].DueAt.ShouldBe(Instant.FromUtc(2026, 11, 1, 5, 30));
    }

    [Fact]
    public void Schedule_WeeklyPlanInTokyo_FollowsTheBuyersCalendar()
    {
        DateTimeZone tokyo = DateTimeZoneProviders.Tzdb["Asia/Tokyo"];
        var plan = new PaymentPlan { Key = "weekly", Installments = 3, InstallmentAmount = new Money(1000, Currency.JPY), Interval = Period.FromWeeks(1) };

        var schedule = plan.Schedule(Instant.FromUtc(2026, 12, 31, 16, 0), tokyo);

        schedule.Select(c => c.DueAt.InZone(tokyo).Date).ShouldBe([new LocalDate(2027, 1, 1), new LocalDate(2027, 1, 8), new LocalDate(2027, 1, 15)]);
    }
}
