using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Sequences;
using Funnel.Tests.Advocacy;
using Funnel.Webinars;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Webinars;

/// <summary>A registration for a daily evergreen webinar at a local time, at an instant, in a zone.</summary>
public sealed record ReminderCase(LocalTime Time, Instant RegisteredAt, DateTimeZone Zone)
{
    public override string ToString() => $"daily at {Time}, registered {RegisteredAt} in {Zone.Id}";
}

/// <summary>FsCheck generators for the reminder properties, kept out of the shared Arbitraries.</summary>
public static class ReminderArbitraries
{
    private static readonly string[] Zones = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Australia/Sydney", "Pacific/Chatham", "Asia/Kolkata", "America/Sao_Paulo", "UTC"];

    public static Arbitrary<ReminderCase> ReminderCaseArb()
    {
        Gen<ReminderCase> gen =
            from minute in Gen.Choose(0, (24 * 4) - 1)
            from seconds in Gen.Choose(0, 2 * 365 * 24 * 3600)
            from zone in Gen.Elements(Zones)
            select new ReminderCase(LocalTime.Midnight.PlusMinutes(minute * 15), Instant.FromUtc(2026, 1, 1, 0, 0) + Duration.FromSeconds(seconds), DateTimeZoneProviders.Tzdb[zone]);
        return gen.ToArbitrary();
    }
}

[Properties(Arbitrary = new[] { typeof(ReminderArbitraries) }, MaxTest = 200)]
public class WebinarReminderProperties
{
    private static readonly (string Step, Duration Before)[] Reminders = [("webinar-24h", Duration.FromHours(24)), ("webinar-1h", Duration.FromHours(1)), ("webinar-now", Duration.Zero)];

    [Property]
    public Property Reminders_AnyZoneAndRegistrationTime_ExactlyThoseStillAheadGoOutAtTheirInstantAndNotASecondEarlier(ReminderCase c)
    {
        var clock = new FakeClock(c.RegisteredAt);
        var leads = new InMemoryLeadStore();
        var sender = new CapturingSender(clock);
        var engine = new SequenceEngine(new SequenceEngineSettings
        {
            Definitions = [GuideSequences.WebinarReminders],
            Enrolments = new InMemoryEnrolmentStore(),
            Outbox = new InMemorySendOutbox(),
            Leads = leads,
            Sender = sender,
            EventLog = new Funnel.Pipeline.InMemoryFunnelEventLog(),
            Clock = clock,
        });
        var webinar = new Webinar { Key = GuideSequences.Webinar, Length = Duration.FromHours(1), DailyTimes = [c.Time] };
        var registrar = InMemoryEngines.Webinars([webinar], clock);
        var email = EmailAddress.Parse("registrant@example.com");
        LeadProfile lead = new() { Id = new LeadId(Guid.CreateVersion7()), Email = email, CreatedAt = c.RegisteredAt, TimeZoneId = c.Zone.Id };
        leads.TryAddAsync(lead).GetAwaiter().GetResult();

        WebinarRegistrationResult registered = registrar.Register(webinar.Key, lead.Id, c.Zone);
        foreach (FunnelEvent e in registered.Events)
        {
            engine.HandleAsync(e).GetAwaiter().GetResult();
        }

        Instant start = registered.Registration.Session.StartsAt;
        (string Step, Instant At)[] expected = [.. Reminders.Select(r => (r.Step, At: start - r.Before)).Where(r => r.At >= c.RegisteredAt)];
        bool neverEarly = true;
        foreach ((string _, Instant at) in expected)
        {
            int before = sender.Sent.Count;
            if (at - Duration.FromSeconds(1) >= c.RegisteredAt)
            {
                clock.Reset(at - Duration.FromSeconds(1));
                DispatchAll(engine);
                neverEarly &= sender.Sent.Count == before;
            }

            clock.Reset(at);
            DispatchAll(engine);
        }

        clock.Reset(start + Duration.FromDays(2));
        DispatchAll(engine);
        (string, Instant)[] sent = [.. sender.Sent.Select(s => (CapturingSender.StepOf(s.Message), s.At))];

        return neverEarly.Label("no reminder one second before its instant")
            .And(sent.SequenceEqual(expected).Label($"sent [{string.Join(", ", sent)}], expected [{string.Join(", ", expected)}]"))
            .And(sent.Any(s => s.Item1 == "webinar-now").Label("\"starting now\" always goes out"));
    }

    private static void DispatchAll(SequenceEngine engine)
    {
        while (engine.DispatchDueAsync().GetAwaiter().GetResult().Claimed > 0)
        {
        }
    }
}
