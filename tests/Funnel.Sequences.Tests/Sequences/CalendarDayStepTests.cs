using System.Collections.Immutable;
using FluentValidation.Results;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Sequences;
using NodaTime;
using NodaTime.Text;
using NodaTime.TimeZones;

namespace Funnel.Tests.Sequences;

public class CalendarDayStepTests
{
    private static readonly LocalTime Nine = new(9, 0);
    private static readonly DateTimeZone Berlin = DateTimeZoneProviders.Tzdb["Europe/Berlin"];
    private static readonly DateTimeZone NewYork = DateTimeZoneProviders.Tzdb["America/New_York"];
    private static readonly ImmutableArray<DateTimeZone> AllZones = [.. DateTimeZoneProviders.Tzdb.Ids.Select(id => DateTimeZoneProviders.Tzdb[id])];

    private static SequenceStep OnDay(int day, LocalTime at, string key = "day") =>
        new() { Key = key, Timing = StepTiming.OnDay, Day = day, SendAt = at, Subject = "Day", TextBody = "Body" };

    private static Instant Due(SequenceStep step, DateTimeZone zone, Instant enrolledAt, Instant? previousDone = null, QuietHours? quiet = null)
    {
        SequenceDefinition definition = new() { Key = "d", Steps = [step], QuietHours = quiet };
        Enrolment enrolment = new() { Id = EnrolmentId.New(), LeadId = LeadId.New(), Sequence = "d", EnrolledAt = enrolledAt };
        return SequenceEngine.DueOf(step, definition, enrolment, enrolledAt, previousDone ?? enrolledAt, zone)!.Value;
    }

    private static Instant Local(DateTimeZone zone, string local) =>
        LocalDateTimePattern.GeneralIso.Parse(local).Value.InZoneStrictly(zone).ToInstant();

    [Property(MaxTest = 100)]
    public Property DueOf_EveryTzdbZoneAnyEnrolmentAndDay_IsDayNAtNineOrTheEndOfItsGap() => Prop.ForAll(
        Arb.From(from days in Gen.Choose(0, (130 * 365) + 31)
                 from seconds in Gen.Choose(0, 86_399)
                 from day in Gen.Choose(1, 60)
                 select (enrolledAt: Instant.FromUtc(1970, 1, 1, 0, 0) + Duration.FromDays(days) + Duration.FromSeconds(seconds), day)),
        t =>
        {
            List<string> failures = [];
            foreach (DateTimeZone zone in AllZones)
            {
                Instant due = Due(OnDay(t.day, Nine), zone, t.enrolledAt);
                LocalDate expectedDate = t.enrolledAt.InZone(zone).Date.PlusDays(t.day);
                ZoneLocalMapping mapping = zone.MapLocal(expectedDate + Nine);
                LocalDateTime local = due.InZone(zone).LocalDateTime;
                bool ok = due > t.enrolledAt && mapping.Count switch
                {
                    // 09:00 does not exist that day: the first instant after the gap, still on that date unless the
                    // gap swallows the rest of it (Pacific/Apia skipped 30 December 2011).
                    0 => due == mapping.LateInterval.Start && (local.Date == expectedDate || local.TimeOfDay == LocalTime.Midnight),
                    1 => local.Date == expectedDate && local.TimeOfDay == Nine,
                    _ => local.Date == expectedDate && local.TimeOfDay == Nine && due == mapping.First().ToInstant(),
                };
                if (!ok)
                {
                    failures.Add($"{zone.Id}: {due} ({local})");
                }
            }

            return (failures.Count == 0).Label($"enrolled {t.enrolledAt}, day {t.day}: {string.Join("; ", failures.Take(5))}");
        });

    [Property(MaxTest = 500)]
    public Property DueOf_AnyZoneRulesAndLatePreviousStep_IsNeverEarlyAndKeepsEveryRule() => Prop.ForAll(
        Arb.From(from zone in SequenceArbitraries.Zone
                 from enrolledAt in SequenceArbitraries.Instant
                 from day in Gen.Choose(0, 60)
                 from time in SequenceArbitraries.Time
                 from days in SequenceArbitraries.Days
                 from quiet in SequenceArbitraries.Quiet
                 from lateBy in Gen.Choose(0, 90 * 24 * 60)
                 where quiet is null || !quiet.Contains(time)
                 select (zone, enrolledAt, day, time, days, quiet, previousDone: enrolledAt + Duration.FromMinutes(lateBy))),
        t =>
        {
            Instant due = Due(OnDay(t.day, t.time) with { Days = t.days }, t.zone, t.enrolledAt, t.previousDone, t.quiet);
            LocalDateTime local = due.InZone(t.zone).LocalDateTime;
            bool notEarly = due >= t.previousDone && due >= t.enrolledAt && local.Date >= t.enrolledAt.InZone(t.zone).Date.PlusDays(t.day);
            bool dayOk = t.days.IsEmpty || t.days.Contains(local.DayOfWeek);
            bool quietOk = t.quiet is null || !t.quiet.Contains(local.TimeOfDay);
            return (notEarly && dayOk && quietOk)
                .Label($"{t.zone.Id} enrolled {t.enrolledAt} day {t.day} at {t.time:HH:mm} days=[{string.Join(",", t.days)}] quiet={t.quiet} previous {t.previousDone} -> {due} ({local})");
        });

    [Theory]
    [InlineData("08:00")]
    [InlineData("10:00")]
    [InlineData("23:59")]
    public void DueOf_EnrolledAnyTimeOfDay_Day1IsNineTheNextLocalDay(string time)
    {
        Instant enrolledAt = Local(Berlin, "2026-06-10T" + time + ":00");

        Instant due = Due(OnDay(1, Nine), Berlin, enrolledAt);

        due.InZone(Berlin).LocalDateTime.ShouldBe(new LocalDateTime(2026, 6, 11, 9, 0));
    }

    [Theory]
    [InlineData("Europe/Berlin", "2026-03-28T10:00:00", "09:00", "2026-03-29T07:00:00Z")] // spring forward: 22 hours later, CEST.
    [InlineData("Europe/Berlin", "2026-03-28T10:00:00", "02:30", "2026-03-29T01:00:00Z")] // 02:30 is in the gap: 03:00 CEST, the gap's end.
    [InlineData("Europe/Berlin", "2026-10-24T10:00:00", "09:00", "2026-10-25T08:00:00Z")] // fall back: 24 local hours, 25 real, CET.
    [InlineData("Europe/Berlin", "2026-10-24T10:00:00", "02:30", "2026-10-25T00:30:00Z")] // 02:30 happens twice: the earlier, CEST.
    [InlineData("America/New_York", "2026-03-07T22:00:00", "09:00", "2026-03-08T13:00:00Z")] // spring forward: 09:00 EDT.
    [InlineData("America/New_York", "2026-03-07T22:00:00", "02:30", "2026-03-08T07:00:00Z")] // in the gap: 03:00 EDT.
    [InlineData("America/New_York", "2026-10-31T22:00:00", "09:00", "2026-11-01T14:00:00Z")] // fall back: 09:00 EST.
    [InlineData("America/New_York", "2026-10-31T22:00:00", "01:30", "2026-11-01T05:30:00Z")] // twice: the earlier, EDT.
    public void DueOf_Day1AcrossADaylightSavingNight_FollowsTheResolver(string zoneId, string enrolledLocal, string at, string expected)
    {
        DateTimeZone zone = DateTimeZoneProviders.Tzdb[zoneId];
        LocalTime time = LocalTimePattern.CreateWithInvariantCulture("HH:mm").Parse(at).Value;

        Instant due = Due(OnDay(1, time), zone, Local(zone, enrolledLocal));

        due.ShouldBe(InstantPattern.General.Parse(expected).Value);
    }

    [Fact]
    public void DueOf_Day0BeforeTheSendTime_IsThatSameDay()
    {
        Instant due = Due(OnDay(0, Nine), Berlin, Local(Berlin, "2026-06-10T08:00:00"));

        due.ShouldBe(Local(Berlin, "2026-06-10T09:00:00"));
    }

    [Fact]
    public void DueOf_Day0AfterTheSendTime_IsTheNextDaysSendTime()
    {
        Instant due = Due(OnDay(0, Nine), Berlin, Local(Berlin, "2026-06-10T10:00:00"));

        due.ShouldBe(Local(Berlin, "2026-06-11T09:00:00"));
    }

    [Fact]
    public void DueOf_PreviousStepDoneAfterTheDay_IsTheNextSendTimeAfterIt()
    {
        Instant enrolledAt = Local(Berlin, "2026-06-10T10:00:00");

        Instant due = Due(OnDay(1, Nine), Berlin, enrolledAt, previousDone: Local(Berlin, "2026-06-11T09:30:00"));

        due.ShouldBe(Local(Berlin, "2026-06-12T09:00:00"));
    }

    [Fact]
    public void DueOf_DayNotAllowed_RollsToTheNextAllowedDayAtTheSendTime()
    {
        SequenceStep step = OnDay(1, Nine) with { Days = [IsoDayOfWeek.Monday, IsoDayOfWeek.Tuesday, IsoDayOfWeek.Wednesday, IsoDayOfWeek.Thursday, IsoDayOfWeek.Friday] };

        Instant due = Due(step, Berlin, Local(Berlin, "2026-06-12T10:00:00")); // a Friday: day 1 is Saturday.

        due.ShouldBe(Local(Berlin, "2026-06-15T09:00:00"));
    }

    [Fact]
    public void DueOf_GapEndInsideQuietHours_MovesToTheirEnd()
    {
        // 02:30 is in Berlin's spring-forward gap, so it resolves to 03:00, inside quiet hours 03:00-07:00.
        Instant due = Due(OnDay(1, new LocalTime(2, 30)), Berlin, Local(Berlin, "2026-03-28T10:00:00"), quiet: new QuietHours(new LocalTime(3, 0), new LocalTime(7, 0)));

        due.ShouldBe(Local(Berlin, "2026-03-29T07:00:00"));
    }

    [Theory]
    [InlineData("08:00")]
    [InlineData("10:00")]
    public async Task DispatchDueAsync_GuideNurtureEnrolledMorningOrLater_SendsDay1AtNineTheNextMorning(string time)
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture]);
        LeadProfile lead = await world.AddLeadAsync(1, "Europe/Berlin");
        Instant optIn = Local(Berlin, "2026-06-10T" + time + ":00");
        world.Clock.Reset(optIn);

        await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, optIn));
        await world.RunUntilAsync(engine, Local(Berlin, "2026-06-12T12:00:00"), Duration.FromMinutes(5));

        sender.Sent.Select(s => (s.Message.IdempotencyKey[(s.Message.IdempotencyKey.IndexOf(':', StringComparison.Ordinal) + 1)..], s.At.InZone(Berlin).LocalDateTime))
            .ShouldBe(
            [
                ("nurture-1", optIn.Plus(Duration.FromMinutes(5)).InZone(Berlin).LocalDateTime),
                ("nurture-2", new LocalDateTime(2026, 6, 11, 9, 0)),
                ("nurture-3", new LocalDateTime(2026, 6, 12, 9, 0)),
            ]);
    }

    [Fact]
    public async Task DispatchDueAsync_LeadWithNoZone_CountsDaysInTheDefaultZone()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceEngine engine = new(new SequenceEngineSettings
        {
            Definitions = [GuideSequences.Nurture],
            Enrolments = world.Enrolments,
            Outbox = world.Outbox,
            Leads = world.Leads,
            Sender = sender,
            EventLog = world.EventLog,
            Clock = world.Clock,
            DefaultZone = NewYork,
        });
        LeadProfile lead = await world.AddLeadAsync(1, zone: null);
        Instant optIn = Instant.FromUtc(2026, 6, 11, 2, 0); // 22:00 on 10 June in New York, already 11 June in UTC.
        world.Clock.Reset(optIn);

        await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, optIn));
        await world.RunUntilAsync(engine, Instant.FromUtc(2026, 6, 11, 20, 0), Duration.FromMinutes(5));

        sender.Sent.Count.ShouldBe(2);
        sender.Sent[1].At.ShouldBe(Local(NewYork, "2026-06-11T09:00:00"));
    }

    [Fact]
    public async Task DispatchDueAsync_TwoMarketingDay1Steps_TheFrequencyCapDefersTheSecondToTheNextDaysSendTime()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceDefinition First(string key) => new()
        {
            Key = key, Triggers = [EventMatch.For(EventTypes.OptedIn)], Steps = [OnDay(1, Nine, key + "-1")],
        };
        SequenceEngine engine = world.Engine(sender, [First("first"), First("second")]);
        LeadProfile lead = await world.AddLeadAsync(1, "Europe/Berlin");
        Instant optIn = Local(Berlin, "2026-06-10T10:00:00");
        world.Clock.Reset(optIn);

        await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, optIn));
        await world.RunUntilAsync(engine, Local(Berlin, "2026-06-13T00:00:00"), Duration.FromMinutes(5));

        sender.Sent.Select(s => s.At.InZone(Berlin).LocalDateTime).ShouldBe([new LocalDateTime(2026, 6, 11, 9, 0), new LocalDateTime(2026, 6, 12, 9, 0)]);
    }

    [Fact]
    public void Validate_CalendarDaySteps_RejectsBadDaysAndTimings()
    {
        SequenceDefinition definition = new()
        {
            Key = "days",
            Steps =
            [
                OnDay(-1, Nine, "a"),
                OnDay(3, Nine, "b"),
                OnDay(2, Nine, "c"),
                OnDay(4, Nine, "d") with { SendAt = null },
                OnDay(5, Nine, "e") with { Delay = Period.FromDays(1) },
                OnDay(0, Nine, "f") with { Timing = StepTiming.AfterPreviousStep, Day = 2 },
            ],
        };

        ValidationResult result = new SequenceDefinitionValidator().Validate(definition);

        result.Errors.Select(e => e.PropertyName).ShouldBe(["Steps[0].Day", "Steps[2].Day", "Steps[3].SendAt", "Steps[4].Delay", "Steps[5].Day"], ignoreOrder: true);
    }

    [Fact]
    public void Validate_CalendarDayStepsOnTheSameOrLaterDays_AreValid()
    {
        SequenceDefinition definition = new() { Key = "days", Steps = [OnDay(0, Nine, "a"), OnDay(1, Nine, "b"), OnDay(1, new LocalTime(18, 0), "c"), OnDay(7, Nine, "d")] };

        new SequenceDefinitionValidator().Validate(definition).IsValid.ShouldBeTrue();
    }

    [Fact]
    public void GuideSequences_NurtureAndWelcome_SendDailyEmailsOnCalendarDaysAtNine()
    {
        GuideSequences.Nurture.Steps.Skip(1).Select(s => (s.Timing, s.Day, s.SendAt)).ShouldBe(Enumerable.Range(1, 6).Select(d => (StepTiming.OnDay, d, (LocalTime?)Nine)));
        GuideSequences.Welcome.Steps.Skip(1).Select(s => (s.Timing, s.Day, s.SendAt)).ShouldBe(Enumerable.Range(1, 4).Select(d => (StepTiming.OnDay, d, (LocalTime?)Nine)));
    }
}
