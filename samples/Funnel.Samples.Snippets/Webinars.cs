using Funnel.Events;
using Funnel.Sequences;
using Funnel.Webinars;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/webinars.md.</summary>
internal static class WebinarSnippets
{
    public static Webinar Define(IClock clock, DateTimeZone registrantZone)
    {
        // <snippet:webinars-define>
        var webinar = new Webinar
        {
            Key = "ebook-masterclass-webinar",
            Length = Duration.FromMinutes(60),
            LiveSessions = [Instant.FromUtc(2026, 10, 8, 23, 0)],   // live, at fixed instants
            DailyTimes = [new LocalTime(19, 0)],                    // evergreen: 7 pm in the registrant's zone
            Every = Duration.FromMinutes(15),                       // evergreen just-in-time: every 15 minutes
            MinimumNotice = Duration.FromMinutes(5),                // skip sessions starting sooner
            ReplayFor = Duration.FromHours(48),                     // replay deadline after the session ends
        };
        WebinarSession? next = WebinarScheduler.NextSession(webinar, clock.GetCurrentInstant(), registrantZone);
        string when = WebinarScheduler.Describe(next!, clock.GetCurrentInstant());
        // "in 14 minutes", "today at 7:00 PM", "tomorrow at 7:00 PM", "on Friday, 9 October at 7:00 PM"
        // </snippet:webinars-define>
        return webinar;
    }

    public static async Task RegisterAsync(
        IServiceCollection services, WebApplication app, Webinar webinar, LeadId lead, DateTimeZone registrantZone)
    {
        // <snippet:webinars-register>
        services.AddSingleton(webinar);
        services.AddFunnelAdvocacy();       // WebinarRegistrar over every registered Webinar, and the webinar-no-shows job
        services.AddFunnelHosting();        // runs the pipeline and the jobs

        var registrar = app.Services.GetRequiredService<WebinarRegistrar>(); // or new WebinarRegistrar([webinar], store, clock, log)
        WebinarRegistrationResult r = await registrar.RegisterAsync("ebook-masterclass-webinar", lead, registrantZone);
        // r.Registration.Session.StartsAt / .LocalStart; recorded: webinar_registered (subject = webinar key)
        await registrar.RecordAttendanceAsync("ebook-masterclass-webinar", lead); // recorded: webinar_attended
        // webinar_missed: the webinar-no-shows job calls RecordNoShowsAsync every minute
        Instant? until = await registrar.ReplayAvailableUntilAsync("ebook-masterclass-webinar", lead);
        // </snippet:webinars-register>
    }

    public static async Task OnEventAsync(FunnelEvent e, SequenceEngine sequences)
    {
        // <snippet:webinars-missed>
        if (e is WebinarMissed missed)
            await sequences.EnrolAsync(missed.LeadId, GuideSequences.WebinarReplay.Key, missed.OccurredAt, missed.ReplayEndsAt);
        // </snippet:webinars-missed>
    }
}
