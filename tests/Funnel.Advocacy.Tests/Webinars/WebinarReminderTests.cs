using System.Collections.Immutable;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Sequences;
using Funnel.Tests.Advocacy;
using Funnel.Webinars;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Webinars;

/// <summary>The registrar's <c>webinar_registered</c> anchors the guide's reminder sequence (24 h, 1 h, starting now) on the registrant's own session.</summary>
public class WebinarReminderTests
{
    private static readonly Webinar Live = new()
    {
        Key = GuideSequences.Webinar, Length = Duration.FromMinutes(90), DailyTimes = [new LocalTime(19, 0)], ReplayFor = Duration.FromHours(48),
    };

    private sealed class World
    {
        public World(Instant start)
        {
            Clock = new FakeClock(start);
            Sender = new CapturingSender(Clock);
            Registrar = InMemoryEngines.Webinars([Live], Clock);
            Engine = new SequenceEngine(new SequenceEngineSettings
            {
                Definitions = [GuideSequences.WebinarReminders, GuideSequences.WebinarReplay],
                Enrolments = new InMemoryEnrolmentStore(),
                Outbox = new InMemorySendOutbox(),
                Leads = Leads,
                Sender = Sender,
                EventLog = new Funnel.Pipeline.InMemoryFunnelEventLog(),
                Clock = Clock,
                Options = new SequenceOptions { From = "The E-Book Masterclass <live@example.com>" },
            });
        }

        public FakeClock Clock { get; }

        public InMemoryLeadStore Leads { get; } = new();

        public CapturingSender Sender { get; }

        public WebinarRegistrar Registrar { get; }

        public SequenceEngine Engine { get; }

        public async Task<(EmailAddress Email, WebinarRegistration Registration)> RegisterAsync(int n, DateTimeZone zone, Instant at)
        {
            Clock.Reset(at);
            var email = EmailAddress.Parse($"registrant{n}@example.com");
            LeadProfile lead = new()
            {
                Id = new LeadId(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10)), Email = email, CreatedAt = at, TimeZoneId = zone.Id,
            };
            await Leads.TryAddAsync(lead);
            WebinarRegistrationResult result = Registrar.Register(Live.Key, lead.Id, zone);
            foreach (FunnelEvent e in result.Events)
            {
                await Engine.HandleAsync(e);
            }

            return (email, result.Registration);
        }

        public async Task RunUntilAsync(Instant end)
        {
            while (Clock.GetCurrentInstant() < end)
            {
                Clock.Advance(Duration.FromMinutes(1));
                while ((await Engine.DispatchDueAsync()).Claimed > 0)
                {
                }
            }
        }

        public ImmutableArray<(string Step, Instant At)> To(EmailAddress email) =>
            [.. Sender.Sent.Where(s => s.Message.To == email).Select(s => (CapturingSender.StepOf(s.Message), s.At))];
    }

    [Fact]
    public void Register_NextSession_SetsStartsAtOnTheEventForTheReminderAnchor()
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 10, 5, 12, 0));
        var registrar = InMemoryEngines.Webinars([Live], clock);

        WebinarRegistrationResult result = registrar.Register(Live.Key, new LeadId(Guid.CreateVersion7()), DateTimeZoneProviders.Tzdb["Europe/Berlin"]);

        WebinarRegistered registered = result.Events.OfType<WebinarRegistered>().ShouldHaveSingleItem();
        registered.StartsAt.ShouldBe(Instant.FromUtc(2026, 10, 5, 17, 0)); // 19:00 in Berlin (CEST)
        registered.StartsAt.ShouldBe(result.Registration.Session.StartsAt);
    }

    [Fact]
    public async Task Reminders_SessionsAfterTheDstChangeInNewYorkAndBerlin_GoOut24HoursAnd1HourBeforeAndAtTheStart()
    {
        // Europe falls back on 25 October 2026, the United States on 1 November: each registrant's next 19:00 session is
        // the first evening after their change, so "24 hours before" is 20:00 summer time the evening before.
        DateTimeZone newYork = DateTimeZoneProviders.Tzdb["America/New_York"], berlin = DateTimeZoneProviders.Tzdb["Europe/Berlin"];
        var world = new World(Instant.FromUtc(2026, 10, 20, 0, 0));
        var (berliner, berlinRegistration) = await world.RegisterAsync(1, berlin, new LocalDateTime(2026, 10, 24, 19, 30).InZoneStrictly(berlin).ToInstant());
        Instant newYorkRegisters = new LocalDateTime(2026, 10, 31, 19, 30).InZoneStrictly(newYork).ToInstant();
        await world.RunUntilAsync(newYorkRegisters);
        var (newYorker, newYorkRegistration) = await world.RegisterAsync(2, newYork, newYorkRegisters);
        await world.RunUntilAsync(Instant.FromUtc(2026, 11, 3, 0, 0));

        berlinRegistration.Session.StartsAt.ShouldBe(Instant.FromUtc(2026, 10, 25, 18, 0)); // 19:00 CET
        world.To(berliner).ShouldBe(
        [
            ("webinar-24h", Instant.FromUtc(2026, 10, 24, 18, 0)), // 20:00 CEST on the 24th
            ("webinar-1h", Instant.FromUtc(2026, 10, 25, 17, 0)),
            ("webinar-now", Instant.FromUtc(2026, 10, 25, 18, 0)),
        ]);
        newYorkRegistration.Session.StartsAt.ShouldBe(Instant.FromUtc(2026, 11, 2, 0, 0)); // 19:00 EST on 1 November
        world.To(newYorker).ShouldBe(
        [
            ("webinar-24h", Instant.FromUtc(2026, 11, 1, 0, 0)), // 20:00 EDT on 31 October
            ("webinar-1h", Instant.FromUtc(2026, 11, 1, 23, 0)),
            ("webinar-now", Instant.FromUtc(2026, 11, 2, 0, 0)),
        ]);
    }

    [Fact]
    public async Task Reminders_RegistrantFifteenMinutesBefore_GetsOnlyStartingNow()
    {
        DateTimeZone berlin = DateTimeZoneProviders.Tzdb["Europe/Berlin"];
        Instant registeredAt = new LocalDateTime(2026, 10, 25, 18, 45).InZoneStrictly(berlin).ToInstant();
        var world = new World(registeredAt);
        var (late, registration) = await world.RegisterAsync(3, berlin, registeredAt);

        await world.RunUntilAsync(registeredAt + Duration.FromHours(3));

        registration.Session.StartsAt.ShouldBe(registeredAt + Duration.FromMinutes(15));
        world.To(late).ShouldBe([("webinar-now", registration.Session.StartsAt)]);
    }

    [Fact]
    public async Task Replay_MissedSession_SendsTheReplayAtOnceAndALastCall12HoursBeforeTheRealDeadline()
    {
        DateTimeZone newYork = DateTimeZoneProviders.Tzdb["America/New_York"];
        Instant registeredAt = Instant.FromUtc(2026, 10, 5, 12, 0);
        var world = new World(registeredAt);
        var (email, registration) = await world.RegisterAsync(4, newYork, registeredAt);
        await world.RunUntilAsync(registration.Session.EndsAt + Duration.FromMinutes(5));

        WebinarMissed missed = world.Registrar.RecordNoShows().OfType<WebinarMissed>().ShouldHaveSingleItem();
        missed.ReplayEndsAt.ShouldBe(registration.Session.EndsAt + Live.ReplayFor);
        await world.Engine.EnrolAsync(missed.LeadId, GuideSequences.WebinarReplay.Key, missed.OccurredAt, missed.ReplayEndsAt);
        await world.RunUntilAsync(missed.ReplayEndsAt!.Value + Duration.FromHours(1));

        world.To(email).Where(s => s.Step.StartsWith("replay-", StringComparison.Ordinal)).ShouldBe(
        [
            ("replay-available", missed.OccurredAt + Duration.FromMinutes(1)),
            ("replay-last-call", missed.ReplayEndsAt.Value - Duration.FromHours(12)),
        ]);
        world.Clock.Reset(missed.ReplayEndsAt.Value - Duration.FromHours(12));
        world.Registrar.ReplayAvailableUntil(Live.Key, missed.LeadId).ShouldBe(missed.ReplayEndsAt);
    }
}
