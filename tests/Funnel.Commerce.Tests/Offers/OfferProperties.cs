using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Offers;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Offers;

[Properties(Arbitrary = new[] { typeof(OfferArbitraries) }, MaxTest = 200)]
public class OfferProperties
{
    [Property]
    public Property Price_AnyCouponSet_IsExactAndNeverNegative(PricingCase c)
    {
        Quote quote = new PriceBook(c.Catalogue).Price(c.Cart, c.At, DateTimeZone.Utc);
        long lineTotals = quote.Lines.Sum(l => l.Total.MinorUnits);
        long lineDiscounts = quote.Lines.Sum(l => l.Discount.MinorUnits);
        long couponDiscounts = quote.Coupons.Sum(a => a.Discount.MinorUnits);
        long scheduled = quote.Schedule.Sum(s => s.Amount.MinorUnits);

        return quote.Lines.All(l => !l.Total.IsNegative && !l.Discount.IsNegative && l.Total == l.Subtotal - l.Discount).Label("each line: total = subtotal - discount, both >= 0")
            .And((!quote.Total.IsNegative).Label("total >= 0"))
            .And((quote.Total == quote.Subtotal - quote.Discount).Label("total = subtotal - discount"))
            .And((lineTotals == quote.Total.MinorUnits).Label("lines sum to total"))
            .And((lineDiscounts == quote.Discount.MinorUnits && couponDiscounts == lineDiscounts).Label("coupon discounts = line discounts"))
            .And((scheduled == quote.Total.MinorUnits).Label("schedule sums to total"))
            .And(quote.Schedule.Zip(quote.Schedule.Skip(1)).All(p => p.First.DueAt < p.Second.DueAt).Label("schedule strictly in time order"))
            .And((quote.Coupons.Length + quote.RejectedCoupons.Length == c.Cart.CouponCodes.Length).Label("every code applied or rejected"))
            .And((!quote.Coupons.Any(a => c.Catalogue.Coupons.Single(x => x.Code == a.Code).Stacking == CouponStacking.Exclusive) || quote.Coupons.Length == 1).Label("exclusive stands alone"));
    }

    [Property]
    public Property Schedule_AnyPlan_SumsToThePlanTotalInOrder(PlanCase c)
    {
        var own = c.Plan.Schedule(c.PurchasedAt, c.Zone);
        var discounted = c.Plan.Schedule(c.Total, c.PurchasedAt, c.Zone);
        long[] parts = [.. discounted.Select(s => s.Amount.MinorUnits)];

        return (Money.Sum(own.Select(s => s.Amount), Currency.EUR) == c.Plan.Total).Label("plan schedule sums to plan total")
            .And((parts.Sum() == c.Total.MinorUnits).Label("discounted schedule sums to its total"))
            .And((parts.Max() - parts.Min() <= 1).Label("installments differ by at most one minor unit"))
            .And((own.Length == c.Plan.Installments).Label("one charge per installment"))
            .And((own[0].DueAt == c.PurchasedAt).Label("first charge at purchase"))
            .And(own.Zip(own.Skip(1)).All(p => p.First.DueAt < p.Second.DueAt).Label("due dates strictly increase"));
    }

    [Property(MaxTest = 60)]
    public Property Reserve_ConcurrentBuyers_NeverExceedCapacity(SeatRace race)
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 10, 1, 0, 0));
        var seats = new InMemorySeatInventory(clock);
        var limit = new SeatLimit { Capacity = race.Capacity, HoldFor = Duration.FromMinutes(10) };
        OfferId offer = "cohort";

        SeatReservation?[] results = Task.WhenAll(Enumerable.Range(0, race.Buyers * race.Repeats).Select(i => Task.Run(() =>
            seats.TryReserveAsync(offer, new LeadId(new Guid(i % race.Buyers, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), limit)))).GetAwaiter().GetResult();
        int distinct = results.Where(r => r is not null).Select(r => r!.Value.Id).Distinct().Count();
        var (sold, held) = seats.Count(offer);

        return (distinct == Math.Min(race.Capacity, race.Buyers)).Label($"distinct holds {distinct}")
            .And((sold + held <= race.Capacity).Label("capacity respected"))
            .And((held == distinct).Label("held = granted"));
    }
}

/// <summary>The allocation-free lenient resolution used by pricing agrees with NodaTime's resolver.</summary>
public class ChargeCalendarProperties
{
    private static readonly string[] Zones =
    [
        "America/New_York", "Europe/London", "Europe/Berlin", "Australia/Lord_Howe", "Australia/Sydney", "America/Sao_Paulo",
        "Asia/Kolkata", "Pacific/Apia", "America/St_Johns", "Europe/Moscow", "Africa/Casablanca", "Pacific/Chatham", "UTC", "America/Santiago",
    ];

    [Property(MaxTest = 2000)]
    public Property ResolveLeniently_AnyLocalTime_MatchesNodaTimesLenientResolver(int zoneIndex, int minutes, byte nearTransition)
    {
        DateTimeZone zone = DateTimeZoneProviders.Tzdb[Zones[Math.Abs(zoneIndex % Zones.Length)]];
        Instant at = Instant.FromUtc(1990, 1, 1, 0, 0) + Duration.FromMinutes(Math.Abs((long)minutes) % (60L * 24 * 365 * 50));
        LocalDateTime local = at.InZone(zone).LocalDateTime;
        if (nearTransition % 2 == 0)
        {
            // Land on or next to a transition: the gaps and overlaps are where resolution differs.
            var interval = zone.GetZoneInterval(at);
            if (interval.HasEnd)
            {
                local = interval.IsoLocalEnd + Period.FromMinutes((nearTransition % 7) * 15 - 45);
            }
        }

        Instant expected = local.InZone(zone, NodaTime.TimeZones.Resolvers.LenientResolver).ToInstant();

        return (ChargeCalendar.ResolveLeniently(local, zone) == expected).Label($"{zone.Id} {local}: expected {expected}");
    }
}
