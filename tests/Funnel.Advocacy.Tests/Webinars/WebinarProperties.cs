using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Webinars;
using NodaTime;

namespace Funnel.Tests.Webinars;

/// <summary>A daily evergreen schedule, a "now" and a registrant zone.</summary>
public sealed record EvergreenCase(LocalTime[] Times, Instant Now, DateTimeZone Zone, Duration Notice)
{
    public override string ToString() => $"times [{string.Join(", ", Times)}], now {Now}, zone {Zone.Id}, notice {Notice}";
}

/// <summary>FsCheck generators for webinars, kept out of the shared Arbitraries.</summary>
public static class WebinarArbitraries
{
    private static readonly string[] Zones = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "UTC", "America/Sao_Paulo", "Pacific/Chatham"];

    public static Arbitrary<EvergreenCase> EvergreenCaseArb()
    {
        Gen<LocalTime> time = from minute in Gen.Choose(0, (24 * 60) - 1) select LocalTime.Midnight.PlusMinutes(minute);
        Gen<EvergreenCase> gen =
            from count in Gen.Choose(1, 4)
            from times in Gen.ArrayOf(time, count)
            from seconds in Gen.Choose(0, 3 * 365 * 24 * 3600)
            from zone in Gen.Elements(Zones)
            from notice in Gen.Choose(0, 180)
            select new EvergreenCase([.. times.Distinct()], Instant.FromUtc(2026, 1, 1, 0, 0) + Duration.FromSeconds(seconds), DateTimeZoneProviders.Tzdb[zone], Duration.FromMinutes(notice));
        return gen.ToArbitrary();
    }
}

[Properties(Arbitrary = new[] { typeof(WebinarArbitraries) }, MaxTest = 500)]
public class WebinarProperties
{
    [Property]
    public Property NextSession_AnyEvergreenSchedule_IsNeverInThePastAndAtTheSchedulesLocalTime(EvergreenCase c)
    {
        var webinar = new Webinar { Key = "w", Length = Duration.FromHours(1), DailyTimes = [.. c.Times], MinimumNotice = c.Notice };

        WebinarSession? session = WebinarScheduler.NextSession(webinar, c.Now, c.Zone);
        if (session is null)
        {
            return false.Label("an evergreen schedule always has a next session");
        }

        LocalDateTime local = session.StartsAt.InZone(c.Zone).LocalDateTime;
        bool atScheduledTime = c.Times.Contains(local.TimeOfDay)
            || c.Times.Any(t => c.Zone.MapLocal(local.Date + t).Count == 0 && c.Zone.AtLeniently(local.Date + t).ToInstant() == session.StartsAt);
        Instant earliest = c.Now + c.Notice;
        bool noEarlierSlot = c.Times.All(t => Enumerable.Range(-1, 3)
            .Select(d => c.Zone.AtLeniently(earliest.InZone(c.Zone).Date.PlusDays(d) + t).ToInstant())
            .All(start => start < earliest || start >= session.StartsAt));

        return (session.StartsAt >= c.Now + c.Notice).Label("not in the past, respects the notice")
            .And(atScheduledTime.Label("at a scheduled local time (or moved forward out of a DST gap)"))
            .And(noEarlierSlot.Label("no scheduled slot between now and the session"))
            .And((session.StartsAt - c.Now <= Duration.FromDays(2) + c.Notice).Label("within two days"));
    }
}
