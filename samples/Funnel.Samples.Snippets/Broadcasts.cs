using Funnel.Email;
using Funnel.Events;
using Funnel.Segments;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/broadcasts.md.</summary>
internal static class BroadcastSnippets
{
    public static void Register(WebApplicationBuilder builder)
    {
        // <snippet:broadcasts-register>
        builder.Services.AddFunnel(o => o.TimeZoneId = "America/New_York");   // the zone of leads without one
        builder.Services.AddSingleton(new SegmentDefinition("newsletter", new TagRule("newsletter")));
        builder.Services.AddFunnelSmtp(o => { o.Host = "smtp.example.com"; o.DefaultFrom = "Jane <jane@example.com>"; });
        builder.Services.AddFunnelSequenceDispatcher();   // the dispatcher and the broadcast-queue job
        builder.Services.AddFunnelHosting();              // runs the jobs in this app
        // </snippet:broadcasts-register>
    }

    public static void Topics(WebApplicationBuilder builder)
    {
        // <snippet:broadcasts-topics>
        builder.Services.AddSingleton(new EmailTopic { Key = "newsletter", Title = "The weekly newsletter", Description = "One writing tip every Tuesday." });
        builder.Services.AddSingleton(new EmailTopic { Key = "webinars", Title = "Webinar invitations" });
        builder.Services.AddSingleton(GuideSequences.Nurture with { Topic = "newsletter" });   // a sequence's topic
        // </snippet:broadcasts-topics>
    }

    public static async Task<Broadcast> ScheduleLocalAsync(BroadcastService broadcasts, CancellationToken cancellationToken)
    {
        // <snippet:broadcasts-local-time>
        Broadcast promo = await broadcasts.ScheduleAsync(
            new BroadcastDefinition
            {
                Key = "webinar-promo-2026-12",
                Segment = "newsletter",
                Subject = "Live on Thursday: write your e-book in 30 days",
                TextBody = "Hi {{ first_name }}, save your seat: https://example.com/webinar\n\n"
                    + "Unsubscribe: {{ unsubscribe_url }}",
                HtmlBody = "<p>Hi {{ first_name }}, <a href=\"https://example.com/webinar\">save your seat</a>.</p>",
                Fields = System.Collections.Immutable.ImmutableDictionary<string, string>.Empty.Add("first_name", "there"),
                Topic = "webinars",                                    // leads who left it are not sent it
                LocalSendAt = new LocalDateTime(2026, 12, 8, 9, 0),   // 09:00 in each lead's own zone
                MaxSendsPerMinute = 2_000,
            },
            cancellationToken);
        // </snippet:broadcasts-local-time>
        return promo;
    }

    public static async Task<Broadcast> ScheduleInstantAsync(BroadcastService broadcasts, Instant doorsOpen, CancellationToken cancellationToken)
    {
        // <snippet:broadcasts-instant>
        Broadcast live = await broadcasts.ScheduleAsync(
            new BroadcastDefinition
            {
                Key = "webinar-live-now",
                Segment = "newsletter",
                Subject = "We are live",
                TextBody = "Join now: https://example.com/webinar/live",
                SendAt = doorsOpen,                                   // one instant for everyone
                Variants =
                [
                    new EmailVariant { Key = EmailVariant.ControlKey },
                    new EmailVariant { Key = "urgent", Subject = "Starting now: join us" },
                ],
            },
            cancellationToken);
        // </snippet:broadcasts-instant>
        return live;
    }

    public static async Task<Broadcast> ScheduleWinnerTestAsync(BroadcastService broadcasts, Instant tuesdayMorning, CancellationToken cancellationToken)
    {
        // <snippet:broadcasts-winner>
        Broadcast newsletter = await broadcasts.ScheduleAsync(
            new BroadcastDefinition
            {
                Key = "newsletter-2026-12-10",
                Segment = "newsletter",
                Subject = "Three outlines that write themselves",
                TextBody = "This week: https://example.com/blog/outlines",
                SendAt = tuesdayMorning,
                Variants =
                [
                    new EmailVariant { Key = EmailVariant.ControlKey },
                    new EmailVariant { Key = "question", Subject = "Stuck on chapter 1?" },
                ],
                WinnerTest = new BroadcastWinnerTest
                {
                    TestPercent = 20,                         // 20 % of the segment gets the test
                    Wait = Duration.FromHours(4),             // results read 4 hours after the last test send
                    Metric = VariantWinnerMetric.Opens,       // or Clicks, for a content test
                    MinimumSamplePerVariant = 200,            // below it, no winner: the control goes out
                },
            },
            cancellationToken);
        // </snippet:broadcasts-winner>
        return newsletter;
    }

    public static void Winner(WebApplicationBuilder builder)
    {
        // <snippet:broadcasts-winner-register>
        builder.Services.AddFunnelAnalytics();   // the experiment statistics judge the test
        // </snippet:broadcasts-winner-register>
    }

    public static async Task CancelAsync(BroadcastService broadcasts, CancellationToken cancellationToken)
    {
        // <snippet:broadcasts-cancel>
        bool cancelled = await broadcasts.CancelAsync("webinar-promo-2026-12", cancellationToken);
        // </snippet:broadcasts-cancel>
        _ = cancelled;
    }

    public static BroadcastMetrics Figures(IEnumerable<FunnelEvent> events)
    {
        // <snippet:broadcasts-metrics>
        BroadcastMetrics figures = BroadcastMetrics.Compute(events, "webinar-promo-2026-12");
        Console.WriteLine(
            $"{figures.Email.Sent} sent, {figures.Email.OpenRate} opened, {figures.Email.ClickRate} clicked, "
            + $"{figures.Email.UnsubscribeRate} unsubscribed; {figures.Suppressed} suppressed, {figures.Skipped} left the segment");
        // </snippet:broadcasts-metrics>
        return figures;
    }
}
