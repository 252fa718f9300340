using System.Globalization;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Segments;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>What the guide's webinar promotion did: the broadcast's audience and figures, as <see cref="BroadcastMetrics"/> computed them from the events.</summary>
/// <param name="Audience">Members of the email list when the broadcast started (opted in to the guide, not bought).</param>
/// <param name="Metrics">The broadcast's figures.</param>
/// <param name="FirstSend">The first send, in UTC.</param>
/// <param name="LastSend">The last send, in UTC.</param>
public sealed record WebinarPromotionSummary(int Audience, BroadcastMetrics Metrics, Instant FirstSend, Instant LastSend);

/// <summary>
/// The guide's "live webinar, promoted to our entire email list": a broadcast to the leads who downloaded the guide and
/// have not bought, at 10:00 in each lead's zone the day after the launch.
/// </summary>
/// <remarks>
/// The launch's opt-ins and orders go through the pipeline once; the segments handler keeps the <c>email-list</c>
/// segment, the broadcast service queues a send per member and the dispatcher sends them through an in-memory mail
/// server on a simulated clock. A share of the leads unsubscribed during the launch (they are suppressed); the opens,
/// clicks and unsubscribes of the promotion are simulated with fixed rates and a seeded random, recorded as events, and
/// the figures are what <see cref="BroadcastMetrics.Compute"/> reads back from the event log.
/// </remarks>
public static class WebinarPromotion
{
    public const string Key = "webinar-promo";

    private const int UnsubscribedPercent = 3;
    private const int OpenPercent = 42;
    private const int ClickPercentOfOpens = 28;
    private const int UnsubscribePerThousand = 4;

    private static readonly string[] Zones = ["America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Australia/Sydney"];

    public static async Task<WebinarPromotionSummary> RunAsync(IReadOnlyList<FunnelEvent> events, ScenarioOptions options)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(options);
        SimulatedClock clock = new(options.Start);
        ServiceCollection services = new();
        services.AddSingleton<IClock>(clock);
        services.AddSingleton<IEmailSender, NullMailServer>();
        services.AddFunnel(o => o.TimeZoneId = "America/New_York");
        services.AddSingleton(new SegmentDefinition("email-list", new AllRule(
        [
            new EventRule { EventType = EventTypes.OptedIn, Subject = GuideSequences.Magnet },
            new NotRule(new EventRule { EventType = EventTypes.OrderPlaced }),
        ])));
        services.AddFunnelSequences();
        await using ServiceProvider provider = services.BuildServiceProvider();

        // The launch's leads: a profile per opt-in (a zone from five; a few unsubscribed during the launch), then their
        // opt-ins and orders through the pipeline, which puts them in the segment or takes them out.
        Random random = new(options.Seed);
        ILeadStore leads = provider.GetRequiredService<ILeadStore>();
        List<LeadEvent> launch = [.. events.OfType<LeadEvent>().Where(e => e is OptedIn or OrderPlaced).OrderBy(e => e.OccurredAt)];
        foreach (OptedIn optIn in launch.OfType<OptedIn>())
        {
            await leads.TryAddAsync(new LeadProfile
            {
                Id = optIn.LeadId,
                Email = EmailAddress.Parse($"lead-{optIn.LeadId.Value:N}@example.com"),
                CreatedAt = optIn.OccurredAt,
                TimeZoneId = Zones[(optIn.LeadId.Value.GetHashCode() & int.MaxValue) % Zones.Length],
                Consent = new ConsentRecord { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = GuideSequences.Magnet, RecordedAt = optIn.OccurredAt },
                UnsubscribedAt = random.Next(100) < UnsubscribedPercent ? optIn.OccurredAt + Duration.FromDays(3) : null,
            });
        }

        IFunnelEventLog log = provider.GetRequiredService<IFunnelEventLog>();
        await log.AppendAsync(launch);
        await provider.GetRequiredService<FunnelPipeline>().DeliverAllAsync();

        // The promotion: 10:00 in each lead's zone, the day after the launch ends, at most 500 sends a minute per zone.
        LocalDateTime tenAm = options.Start.InUtc().Date.PlusDays(options.Days + 1).At(new LocalTime(10, 0));
        BroadcastService broadcasts = provider.GetRequiredService<BroadcastService>();
        Broadcast scheduled = await broadcasts.ScheduleAsync(new BroadcastDefinition
        {
            Key = Key,
            Segment = "email-list",
            Subject = "Live this Thursday: the first chapter in 7 days",
            TextBody = "A live lesson from the Masterclass, then your questions answered: https://example.com/webinar\n\nUnsubscribe: {{ unsubscribe_url }}",
            LocalSendAt = tenAm,
            MaxSendsPerMinute = 500,
        });

        clock.Now = scheduled.DueAt;
        await broadcasts.QueueDueAsync();
        int audience = (await broadcasts.FindAsync(Key))!.Queued;
        SequenceEngine engine = provider.GetRequiredService<SequenceEngine>();
        for (Instant end = clock.Now + Duration.FromDays(2); clock.Now <= end; clock.Now += Duration.FromMinutes(1))
        {
            while ((await engine.DispatchDueAsync()).Claimed > 0)
            {
            }
        }

        // The leads' engagement, simulated and recorded as the tracking endpoints would record it.
        List<EmailSent> sent = [.. (await ReadAllAsync(log)).OfType<EmailSent>().Where(e => e.Email == Key)];
        List<FunnelEvent> engagement = [];
        foreach (EmailSent send in sent)
        {
            Instant at = send.OccurredAt + Duration.FromMinutes(random.Next(5, 600));
            if (random.Next(100) < OpenPercent)
            {
                engagement.Add(new EmailOpened { LeadId = send.LeadId, OccurredAt = at, Email = Key });
                if (random.Next(100) < ClickPercentOfOpens)
                {
                    engagement.Add(new EmailClicked { LeadId = send.LeadId, OccurredAt = at + Duration.FromMinutes(1), Email = Key, Url = "https://example.com/webinar" });
                }
            }

            if (random.Next(1000) < UnsubscribePerThousand)
            {
                engagement.Add(new EmailUnsubscribed { LeadId = send.LeadId, OccurredAt = at + Duration.FromMinutes(2), Email = Key });
            }
        }

        await log.AppendAsync(engagement);
        IReadOnlyList<FunnelEvent> all = await ReadAllAsync(log);
        return new WebinarPromotionSummary(
            audience,
            BroadcastMetrics.Compute(all, Key),
            sent.Count == 0 ? scheduled.DueAt : sent.Min(e => e.OccurredAt),
            sent.Count == 0 ? scheduled.DueAt : sent.Max(e => e.OccurredAt));
    }

    public static void Print(WebinarPromotionSummary summary, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(output);
        BroadcastMetrics m = summary.Metrics;
        output.WriteLine();
        output.WriteLine("Webinar promotion (a broadcast to the email list: guide downloaders who have not bought, at 10:00 in each lead's zone)");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  Audience when it started   {summary.Audience,8:N0}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  Sent                       {m.Email.Sent,8:N0}   from {summary.FirstSend:yyyy-MM-dd HH:mm} to {summary.LastSend:yyyy-MM-dd HH:mm} UTC"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  Suppressed (unsubscribed)  {m.Suppressed,8:N0}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  Opened                     {m.Email.UniqueOpens,8:N0}   open rate {m.Email.OpenRate}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  Clicked                    {m.Email.UniqueClicks,8:N0}   click rate {m.Email.ClickRate}, click-to-open {m.Email.ClickToOpenRate}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  Unsubscribed               {m.Email.Unsubscribes,8:N0}   unsubscribe rate {m.Email.UnsubscribeRate}"));
    }

    private static async Task<IReadOnlyList<FunnelEvent>> ReadAllAsync(IFunnelEventLog log)
    {
        List<FunnelEvent> all = [];
        long after = 0;
        while (true)
        {
            IReadOnlyList<LoggedEvent> page = await log.ReadAsync(after, 10_000);
            if (page.Count == 0)
            {
                return all;
            }

            all.AddRange(page.Select(p => p.Event));
            after = page[^1].Position;
        }
    }

    private sealed class SimulatedClock(Instant now) : IClock
    {
        public Instant Now { get; set; } = now;

        public Instant GetCurrentInstant() => Now;
    }

    /// <summary>A mail server that accepts everything and keeps nothing.</summary>
    private sealed class NullMailServer : IEmailSender
    {
        public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default) =>
            Task.FromResult(EmailSendResult.Sent());
    }
}
