using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Subscriptions;
using NodaTime;
using NodaTime.TimeZones;

namespace Funnel.Tests.Subscriptions;

/// <summary>Two prices and a period with an instant of change in or around it.</summary>
public sealed record ProrationCase(Money OldPrice, Money NewPrice, Instant Start, Instant End, Instant At)
{
    public override string ToString() => $"{OldPrice} -> {NewPrice} over [{Start}, {End}) at {At}";
}

/// <summary>An anchor in a zone, a billing interval and a period number.</summary>
public sealed record CalendarCase(string Zone, Instant Anchor, BillingInterval Interval, int Cycle)
{
    public override string ToString() => $"{Interval} from {Anchor} in {Zone}, period {Cycle}";
}

/// <summary>FsCheck generators for subscriptions.</summary>
public static class SubscriptionEngineArbitraries
{
    private static readonly Instant Base = Instant.FromUtc(2020, 1, 1, 0, 0);

    private static Gen<long> MinorUnits { get; } =
        from high in Gen.Choose(0, int.MaxValue)
        from low in Gen.Choose(0, 999_999)
        from small in Gen.Choose(0, 100_000)
        from pick in Gen.Choose(0, 2)
        select pick == 0 ? small : (long)high * 1_000_000 + low;

    public static Arbitrary<ProrationCase> ProrationCaseArb() => Arb.From(
        from oldPrice in MinorUnits
        from newPrice in MinorUnits
        from startSeconds in Gen.Choose(0, 400_000_000)
        from lengthSeconds in Gen.Choose(0, 370 * 86_400)
        from atSeconds in Gen.Choose(-86_400, 371 * 86_400)
        let start = Base + Duration.FromSeconds(startSeconds)
        select new ProrationCase(Money.FromMinorUnits(oldPrice, Currency.USD), Money.FromMinorUnits(newPrice, Currency.USD), start,
            start + Duration.FromSeconds(lengthSeconds), start + Duration.FromSeconds(atSeconds)));

    public static Arbitrary<CalendarCase> CalendarCaseArb() => Arb.From(
        from zone in Gen.Elements("UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata")
        from minutes in Gen.Choose(0, 8_000_000)
        from interval in Gen.Elements(BillingInterval.Month, BillingInterval.Year)
        from cycle in Gen.Choose(0, 40)
        select new CalendarCase(zone, Base + Duration.FromMinutes(minutes), interval, cycle));
}

[Properties(Arbitrary = new[] { typeof(SubscriptionEngineArbitraries) }, MaxTest = 500)]
public class SubscriptionProperties
{
    [Property]
    public bool Change_AnyPricesAndInstant_CreditAndChargeAreAtMostTheirPrices(ProrationCase c)
    {
        ProrationQuote quote = Proration.Change(c.OldPrice, c.NewPrice, c.Start, c.End, c.At);
        return quote.Credit.MinorUnits >= 0 && quote.Credit <= c.OldPrice
            && quote.Charge.MinorUnits >= 0 && quote.Charge <= c.NewPrice;
    }

    [Property]
    public bool Change_AToBThenBackToAAtTheSameInstant_NetsZero(ProrationCase c)
    {
        ProrationQuote there = Proration.Change(c.OldPrice, c.NewPrice, c.Start, c.End, c.At);
        ProrationQuote back = Proration.Change(c.NewPrice, c.OldPrice, c.Start, c.End, c.At);
        return (there.Net + back.Net).MinorUnits == 0;
    }

    [Property]
    public bool Unused_AnyCase_IsWithinHalfAMinorUnitOfTheExactShare(ProrationCase c)
    {
        Money unused = Proration.Unused(c.OldPrice, c.Start, c.End, c.At);
        Instant at = c.At < c.Start ? c.Start : c.At > c.End ? c.End : c.At;
        Int128 length = (c.End - c.Start).ToInt64Nanoseconds();
        if (length == 0)
        {
            return unused.MinorUnits == 0;
        }

        Int128 exactTimesLength = (Int128)c.OldPrice.MinorUnits * (c.End - at).ToInt64Nanoseconds();
        Int128 error = (Int128)unused.MinorUnits * length - exactTimesLength;
        return Int128.Abs(error) * 2 <= length;
    }

    [Property]
    public bool Change_ToAPricierPlan_NeverCredits(ProrationCase c)
    {
        (Money low, Money high) = c.OldPrice <= c.NewPrice ? (c.OldPrice, c.NewPrice) : (c.NewPrice, c.OldPrice);
        return Proration.Change(low, high, c.Start, c.End, c.At).Net.MinorUnits >= 0;
    }

    [Property]
    public bool StartOf_AnyAnchorAndPeriod_IsCountedFromTheAnchorOnTheBuyersCalendar(CalendarCase c)
    {
        DateTimeZone zone = DateTimeZoneProviders.Tzdb[c.Zone];
        LocalDateTime anchor = c.Anchor.InZone(zone).LocalDateTime;
        Period step = c.Interval == BillingInterval.Month ? Period.FromMonths(c.Cycle) : Period.FromYears(c.Cycle);
        Instant expected = c.Cycle == 0 ? c.Anchor : (anchor + step).InZone(zone, Resolvers.LenientResolver).ToInstant();
        return SubscriptionCalendar.StartOf(c.Anchor, c.Cycle, c.Interval, zone) == expected;
    }

    [Property]
    public bool StartOf_NextPeriod_StartsAfterThisOneBetween28And366Days(CalendarCase c)
    {
        DateTimeZone zone = DateTimeZoneProviders.Tzdb[c.Zone];
        Instant start = SubscriptionCalendar.StartOf(c.Anchor, c.Cycle, c.Interval, zone);
        Duration length = SubscriptionCalendar.StartOf(c.Anchor, c.Cycle + 1, c.Interval, zone) - start;
        (int min, int max) = c.Interval == BillingInterval.Month ? (27, 32) : (364, 367);
        return length > Duration.FromDays(min) && length < Duration.FromDays(max);
    }
}
