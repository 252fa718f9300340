using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Tests.Sequences;

public class SendTimesTests
{
    private static readonly DateTimeZone NewYork = DateTimeZoneProviders.Tzdb["America/New_York"];

    [Property(MaxTest = 300)]
    public Property Next_EarliestOutsideTheSupportedRange_ThrowsNamingEarliest() => Prop.ForAll(
        Arb.From(from zone in SequenceArbitraries.Zone
                 from earliest in Gen.OneOf(
                     Gen.Elements(Instant.MinValue, Instant.MaxValue, SendTimes.MaxEarliest + Duration.Epsilon, SendTimes.MinEarliest - Duration.Epsilon),
                     // At most 700 days and a day past MaxEarliest: Instant.MaxValue is 730 days past it, so the instant exists.
                     Gen.Choose(1, 3_000_000).Select(d => SendTimes.MaxEarliest + Duration.FromDays(d % 700) + Duration.FromSeconds(d % 86_400)),
                     Gen.Choose(1, 3_000_000).Select(d => SendTimes.MinEarliest - Duration.FromDays(d)))
                 select (zone, earliest)),
        t =>
        {
            ArgumentOutOfRangeException? e = Record.Exception(() => { SendTimes.Next(t.earliest, t.zone, new LocalTime(9, 0)); }) as ArgumentOutOfRangeException;
            return (e?.ParamName == "earliest").Label($"{t.zone.Id} {t.earliest}: {e?.ParamName}");
        });

    [Fact]
    public void Next_AtTheLatestSupportedInstant_FindsASendTimeInEveryZone()
    {
        foreach (string id in new[] { "Pacific/Kiritimati", "Etc/GMT+12", "America/New_York" })
        {
            Instant next = SendTimes.Next(SendTimes.MaxEarliest, DateTimeZoneProviders.Tzdb[id], new LocalTime(9, 0), [IsoDayOfWeek.Sunday], new QuietHours(new LocalTime(22, 0), new LocalTime(8, 0)));

            next.ShouldBeGreaterThanOrEqualTo(SendTimes.MaxEarliest);
        }
    }

    [Fact]
    public void Next_UndefinedDayOfWeek_ThrowsNamingDays() =>
        Should.Throw<ArgumentOutOfRangeException>(() => SendTimes.Next(Instant.FromUtc(2026, 3, 1, 0, 0), NewYork, days: [(IsoDayOfWeek)9]))
            .ParamName.ShouldBe("days");

    [Property(MaxTest = 500)]
    public Property Next_AnyZoneDateAndRules_IsNeverEarlierAndKeepsEveryRule() => Prop.ForAll(
        Arb.From(from zone in SequenceArbitraries.Zone
                 from earliest in SequenceArbitraries.Instant
                 from useTime in Gen.Elements(false, true)
                 from time in SequenceArbitraries.Time
                 from days in SequenceArbitraries.Days
                 from quiet in SequenceArbitraries.Quiet
                 where !(useTime && quiet is not null && quiet.Contains(time))
                 select (zone, earliest, sendAt: useTime ? time : (LocalTime?)null, days, quiet)),
        t =>
        {
            Instant next = SendTimes.Next(t.earliest, t.zone, t.sendAt, t.days, t.quiet);
            LocalDateTime local = next.InZone(t.zone).LocalDateTime;
            bool dayOk = t.days.IsEmpty || t.days.Contains(local.DayOfWeek);
            bool quietOk = t.quiet is null || !t.quiet.Contains(local.TimeOfDay);
            // The local send time is kept unless that local time did not exist on that date (a gap): then it is shifted forward.
            bool timeOk = t.sendAt is not { } at || local.TimeOfDay == at || t.zone.MapLocal(local.Date + at).Count == 0;
            bool soonEnough = next - t.earliest <= Duration.FromDays(9);
            return (next >= t.earliest && dayOk && quietOk && timeOk && soonEnough)
                .Label($"{t.zone.Id} {t.earliest} at={t.sendAt} days=[{string.Join(",", t.days)}] quiet={t.quiet} -> {next} ({local})");
        });

    [Property(MaxTest = 300)]
    public Property Next_AnyZoneAndDelay_OneDayLaterKeepsTheLocalSendTime() => Prop.ForAll(
        Arb.From(from zone in SequenceArbitraries.Zone
                 from earliest in SequenceArbitraries.Instant
                 from time in SequenceArbitraries.Time
                 from delay in SequenceArbitraries.Delay
                 select (zone, earliest, time, delay)),
        t =>
        {
            Instant first = SendTimes.Next(t.earliest, t.zone, t.time);
            Instant later = (first.InZone(t.zone).LocalDateTime + t.delay).InZoneLeniently(t.zone).ToInstant();
            Instant second = SendTimes.Next(later > first ? later : first, t.zone, t.time);
            return (second >= first && (second.InZone(t.zone).TimeOfDay == t.time || t.zone.MapLocal(second.InZone(t.zone).Date + t.time).Count == 0))
                .Label($"{t.zone.Id} {first} + {t.delay} -> {second}");
        });

    [Property(MaxTest = 500)]
    public Property DueOf_AnyStepZoneAndHistory_IsNeverBeforeTheEventThatCausedIt() => Prop.ForAll(
        Arb.From(from zone in SequenceArbitraries.Zone
                 from enrolledAt in SequenceArbitraries.Instant
                 from sinceEnrolment in Gen.Choose(0, 40 * 24 * 60)
                 from lateBy in Gen.Choose(0, 3 * 24 * 60)
                 from timing in Gen.Elements(StepTiming.AfterPreviousStep, StepTiming.AfterEnrolment)
                 from delay in SequenceArbitraries.Delay
                 from useTime in Gen.Elements(false, true)
                 from time in SequenceArbitraries.Time
                 from days in SequenceArbitraries.Days
                 select (zone, enrolledAt, sinceEnrolment, lateBy, timing, delay, sendAt: useTime ? time : (LocalTime?)null, days)),
        t =>
        {
            SequenceStep step = new() { Key = "s", Timing = t.timing, Delay = t.delay, SendAt = t.sendAt, Days = t.days, Subject = "s", TextBody = "t" };
            SequenceDefinition definition = new() { Key = "d", Steps = [step] };
            Enrolment enrolment = new() { Id = EnrolmentId.New(), LeadId = LeadId.New(), Sequence = "d", EnrolledAt = t.enrolledAt };
            Instant previousScheduled = t.enrolledAt + Duration.FromMinutes(t.sinceEnrolment);
            Instant previousDone = previousScheduled + Duration.FromMinutes(t.lateBy);

            Instant due = SequenceEngine.DueOf(step, definition, enrolment, previousScheduled, previousDone, t.zone)!.Value;

            return (due >= previousDone && due >= t.enrolledAt).Label($"{t.zone.Id} {t.timing} +{t.delay} after {previousDone}: {due}");
        });

    [Fact]
    public void Next_SendTimeInASpringForwardGap_ShiftsForwardByTheGap()
    {
        Instant earliest = Instant.FromUtc(2026, 3, 8, 5, 0); // 00:00 EST on the day clocks go 02:00 -> 03:00.

        Instant next = SendTimes.Next(earliest, NewYork, new LocalTime(2, 30));

        next.InZone(NewYork).LocalDateTime.ShouldBe(new LocalDateTime(2026, 3, 8, 3, 30));
    }

    [Fact]
    public void Next_SendTimeInAFallBackOverlap_TakesTheEarlierInstant()
    {
        Instant earliest = Instant.FromUtc(2026, 11, 1, 4, 0); // 00:00 EDT on the day clocks go 02:00 -> 01:00.

        Instant next = SendTimes.Next(earliest, NewYork, new LocalTime(1, 30));

        next.ShouldBe(Instant.FromUtc(2026, 11, 1, 5, 30)); // 01:30 EDT, not 01:30 EST.
    }

    [Fact]
    public void Next_EarliestInTheSecondHalfOfAnOverlap_TakesTheLaterInstantNotAnEarlierOne()
    {
        Instant earliest = Instant.FromUtc(2026, 11, 1, 6, 15); // 01:15 EST, the second 01:15 of the night.

        Instant next = SendTimes.Next(earliest, NewYork, new LocalTime(1, 30));

        next.ShouldBe(Instant.FromUtc(2026, 11, 1, 6, 30));
    }

    [Fact]
    public void Next_InsideQuietHoursAcrossMidnight_MovesToTheirEnd()
    {
        Instant earliest = Instant.FromUtc(2026, 6, 1, 3, 0); // 23:00 EDT on 31 May.

        Instant next = SendTimes.Next(earliest, NewYork, quietHours: new QuietHours(new LocalTime(21, 0), new LocalTime(8, 0)));

        next.InZone(NewYork).LocalDateTime.ShouldBe(new LocalDateTime(2026, 6, 1, 8, 0));
    }

    [Fact]
    public void Next_OnADayThatIsNotAllowed_RollsForwardToTheNextAllowedDay()
    {
        Instant saturday = Instant.FromUtc(2026, 6, 6, 16, 0);

        Instant next = SendTimes.Next(saturday, NewYork, new LocalTime(9, 0), [IsoDayOfWeek.Monday, IsoDayOfWeek.Wednesday]);

        next.InZone(NewYork).LocalDateTime.ShouldBe(new LocalDateTime(2026, 6, 8, 9, 0));
    }

    [Fact]
    public void Next_SendTimeInsideQuietHours_Throws()
    {
        Should.Throw<ArgumentException>(() => SendTimes.Next(Instant.FromUtc(2026, 6, 1, 0, 0), NewYork, new LocalTime(22, 0), [], new QuietHours(new LocalTime(21, 0), new LocalTime(8, 0))))
            .ParamName.ShouldBe("sendAt");
    }

    [Fact]
    public void DueOf_OneDayAfterAcrossSpringForward_KeepsNineLocal()
    {
        DateTimeZone berlin = DateTimeZoneProviders.Tzdb["Europe/Berlin"];
        SequenceStep step = new() { Key = "s", Delay = Period.FromDays(1), SendAt = new LocalTime(9, 0), Subject = "s", TextBody = "t" };
        SequenceDefinition definition = new() { Key = "d", Steps = [step] };
        Instant previous = Instant.FromUtc(2026, 3, 28, 8, 0); // 09:00 CET, the day before the change.
        Enrolment enrolment = new() { Id = EnrolmentId.New(), LeadId = LeadId.New(), Sequence = "d", EnrolledAt = previous };

        Instant? due = SequenceEngine.DueOf(step, definition, enrolment, previous, previous, berlin);

        due.ShouldBe(Instant.FromUtc(2026, 3, 29, 7, 0)); // 09:00 CEST: 23 hours later.
    }
}
