using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Segments;
using Funnel.Webinars;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Webinars;

public class WebinarTests
{
    private static readonly DateTimeZone NewYork = DateTimeZoneProviders.Tzdb["America/New_York"];
    private static readonly DateTimeZone Berlin = DateTimeZoneProviders.Tzdb["Europe/Berlin"];
    private static readonly LeadId Lead1 = new(new Guid(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9));

    private static readonly Webinar Evergreen = new() { Key = "ebook-webinar", Length = Duration.FromMinutes(60), DailyTimes = [new LocalTime(19, 0)], ReplayFor = Duration.FromHours(48) };

    [Fact]
    public void NextSession_DailyTimeAlreadyPassedToday_IsTomorrowAt7pmInTheRegistrantsZone()
    {
        Instant now = Instant.FromUtc(2026, 10, 5, 23, 30); // 19:30 in New York

        WebinarSession session = WebinarScheduler.NextSession(Evergreen, now, NewYork).ShouldNotBeNull();

        session.LocalStart.LocalDateTime.ShouldBe(new LocalDateTime(2026, 10, 6, 19, 0));
        WebinarScheduler.Describe(session, now).ShouldBe("tomorrow at 7:00 PM");
    }

    [Fact]
    public void NextSession_SameInstantTwoZones_EachGets7pmLocal()
    {
        Instant now = Instant.FromUtc(2026, 10, 5, 12, 0);

        WebinarScheduler.NextSession(Evergreen, now, Berlin)!.StartsAt.ShouldBe(Instant.FromUtc(2026, 10, 5, 17, 0));
        WebinarScheduler.NextSession(Evergreen, now, NewYork)!.StartsAt.ShouldBe(Instant.FromUtc(2026, 10, 5, 23, 0));
    }

    [Fact]
    public void NextSession_AcrossTheAutumnDstChange_StaysAt7pmLocal()
    {
        Instant now = Instant.FromUtc(2026, 11, 1, 0, 30); // 20:30 EDT on Saturday; Sunday 1 November is the US change

        WebinarSession session = WebinarScheduler.NextSession(Evergreen, now, NewYork)!;

        session.LocalStart.LocalDateTime.ShouldBe(new LocalDateTime(2026, 11, 1, 19, 0));
        session.StartsAt.ShouldBe(Instant.FromUtc(2026, 11, 2, 0, 0)); // 19:00 EST = 00:00 UTC
    }

    [Fact]
    public void NextSession_EveryFifteenMinutes_IsInTheNextSlot()
    {
        var jit = new Webinar { Key = "jit", Length = Duration.FromMinutes(45), Every = Duration.FromMinutes(15) };
        Instant now = Instant.FromUtc(2026, 10, 5, 12, 1);

        WebinarSession session = WebinarScheduler.NextSession(jit, now, Berlin)!;

        session.StartsAt.ShouldBe(Instant.FromUtc(2026, 10, 5, 12, 15));
        WebinarScheduler.Describe(session, now).ShouldBe("in 14 minutes");
    }

    [Theory]
    [InlineData(2026, 10, 5, 12, 0, "today at 7:00 PM")]
    [InlineData(2026, 10, 3, 12, 0, "on Monday, 5 October at 7:00 PM")]
    [InlineData(2026, 10, 5, 22, 59, "in 1 minute")]
    [InlineData(2026, 10, 5, 23, 0, "now")]
    public void Describe_SessionAt7pmNewYork_SaysWhenInTheRegistrantsTime(int year, int month, int day, int hour, int minute, string expected)
    {
        var session = new WebinarSession("w", SessionKind.Evergreen, Instant.FromUtc(2026, 10, 5, 23, 0), Instant.FromUtc(2026, 10, 6, 0, 0),
            Instant.FromUtc(2026, 10, 5, 23, 0).InZone(NewYork));

        WebinarScheduler.Describe(session, Instant.FromUtc(year, month, day, hour, minute)).ShouldBe(expected);
    }

    [Fact]
    public void NextSession_LiveSessionsOnlyAllPast_IsNull()
    {
        var live = new Webinar { Key = "live", Length = Duration.FromHours(1), LiveSessions = [Instant.FromUtc(2026, 1, 1, 18, 0)] };

        WebinarScheduler.NextSession(live, Instant.FromUtc(2026, 2, 1, 0, 0), Berlin).ShouldBeNull();
        WebinarScheduler.NextSession(live, Instant.FromUtc(2025, 12, 30, 0, 0), Berlin)!.Kind.ShouldBe(SessionKind.Live);
    }

    [Fact]
    public void Register_EmitsWebinarRegisteredWithTheSessionStart()
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 10, 5, 12, 0));
        var registrar = InMemoryEngines.Webinars([Evergreen], clock);

        WebinarRegistrationResult result = registrar.Register("ebook-webinar", Lead1, NewYork);

        var registered = result.Events.ShouldHaveSingleItem().ShouldBeOfType<WebinarRegistered>();
        registered.Subject.ShouldBe("ebook-webinar");
        registered.Properties[WebinarRegistrar.SessionStartsAtProperty].ShouldBe("2026-10-05T23:00:00Z");
        result.Registration.Session.StartsAt.ShouldBe(Instant.FromUtc(2026, 10, 5, 23, 0));
        registrar.Register("ebook-webinar", Lead1, NewYork).Events.ShouldBeEmpty();
    }

    [Fact]
    public void Register_AfterAnUnattendedSessionNotYetReported_EmitsItsMissedFirstAndOnce()
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 10, 5, 12, 0));
        var registrar = InMemoryEngines.Webinars([Evergreen], clock);
        registrar.Register("ebook-webinar", Lead1, NewYork);
        clock.Reset(Instant.FromUtc(2026, 10, 6, 1, 0));             // the 7 pm session ended unattended

        WebinarRegistrationResult again = registrar.Register("ebook-webinar", Lead1, NewYork);

        again.Events.Select(e => e.EventType).ShouldBe([AdvocacyEventTypes.WebinarMissed, EventTypes.WebinarRegistered]);
        again.Events[0].ShouldBeOfType<WebinarMissed>().SessionStartedAt.ShouldBe(Instant.FromUtc(2026, 10, 5, 23, 0));
        again.Registration.Session.StartsAt.ShouldBe(Instant.FromUtc(2026, 10, 6, 23, 0));
        registrar.RecordNoShows().ShouldBeEmpty();
    }

    [Fact]
    public void RecordNoShows_AfterTheSession_EmitsMissedOnceAndOpensTheReplayUntilItsDeadline()
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 10, 5, 12, 0));
        var registrar = InMemoryEngines.Webinars([Evergreen], clock);
        var attendee = new LeadId(Guid.NewGuid());
        registrar.Register("ebook-webinar", Lead1, NewYork);
        registrar.Register("ebook-webinar", attendee, NewYork);

        clock.Reset(Instant.FromUtc(2026, 10, 5, 23, 5));
        registrar.RecordAttendance("ebook-webinar", attendee).ShouldHaveSingleItem().ShouldBeOfType<WebinarAttended>();
        registrar.RecordAttendance("ebook-webinar", attendee).ShouldBeEmpty();
        registrar.RecordNoShows().ShouldBeEmpty();
        registrar.ReplayAvailableUntil("ebook-webinar", Lead1).ShouldBeNull();

        clock.Reset(Instant.FromUtc(2026, 10, 6, 0, 0));
        var missed = registrar.RecordNoShows().ShouldHaveSingleItem().ShouldBeOfType<WebinarMissed>();
        missed.LeadId.ShouldBe(Lead1);
        registrar.RecordNoShows().ShouldBeEmpty();
        registrar.RecordAttendance("ebook-webinar", Lead1).ShouldBeEmpty();
        registrar.ReplayAvailableUntil("ebook-webinar", Lead1).ShouldBe(Instant.FromUtc(2026, 10, 8, 0, 0));

        clock.Reset(Instant.FromUtc(2026, 10, 8, 0, 0));
        registrar.ReplayAvailableUntil("ebook-webinar", Lead1).ShouldBeNull();
    }

    [Fact]
    public void WebinarSegments_Evaluated_SplitAttendedMissedAndNotBought()
    {
        LeadId missed = new(Guid.NewGuid()), bought = new(Guid.NewGuid()), notBought = new(Guid.NewGuid());
        Instant t = Instant.FromUtc(2026, 10, 5, 12, 0);
        FunnelEvent[] events =
        [
            new WebinarRegistered { LeadId = missed, OccurredAt = t, Webinar = "w" },
            new WebinarRegistered { LeadId = bought, OccurredAt = t, Webinar = "w" },
            new WebinarRegistered { LeadId = notBought, OccurredAt = t, Webinar = "w" },
            new WebinarAttended { LeadId = bought, OccurredAt = t, Webinar = "w" },
            new WebinarAttended { LeadId = notBought, OccurredAt = t, Webinar = "w" },
            new WebinarMissed { LeadId = missed, OccurredAt = t, Webinar = "w", SessionStartedAt = t },
            new OrderPlaced { LeadId = bought, OccurredAt = t, Order = OrderId.New(), Offer = "masterclass", Total = new Money(49700, Currency.USD) },
        ];

        Members(WebinarSegments.Attended("w"), events, t).ShouldBe([bought, notBought], ignoreOrder: true);
        Members(WebinarSegments.DidNotAttend("w"), events, t).ShouldBe([missed]);
        Members(WebinarSegments.AttendedDidNotBuy("w", "masterclass"), events, t).ShouldBe([notBought]);
    }

    [Fact]
    public void WebinarSegments_DidNotAttend_LeavesOutRegistrantsWhoseSessionIsStillToCome()
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 10, 5, 12, 0));
        var webinar = new Webinar { Key = "w", Length = Duration.FromHours(1), LiveSessions = [Instant.FromUtc(2026, 10, 5, 19, 0)] };
        var registrar = InMemoryEngines.Webinars([webinar], clock);
        LeadId upcoming = new(Guid.NewGuid()), noShow = new(Guid.NewGuid());
        var events = new List<FunnelEvent>();
        events.AddRange(registrar.Register("w", noShow, DateTimeZone.Utc).Events);
        clock.Reset(Instant.FromUtc(2026, 10, 5, 21, 0));
        events.AddRange(registrar.RecordNoShows());
        webinar = webinar with { LiveSessions = [Instant.FromUtc(2026, 10, 6, 19, 0)] };
        events.AddRange(InMemoryEngines.Webinars([webinar], clock).Register("w", upcoming, DateTimeZone.Utc).Events);

        Members(WebinarSegments.DidNotAttend("w"), [.. events], clock.GetCurrentInstant()).ShouldBe([noShow]);
    }

    private static LeadId[] Members(SegmentDefinition segment, FunnelEvent[] events, Instant now) =>
        [.. events.OfType<LeadEvent>().GroupBy(e => e.LeadId)
            .Where(g => new SegmentEvaluator(segment.Rule).Matches(null, g, now))
            .Select(g => g.Key)];
}
