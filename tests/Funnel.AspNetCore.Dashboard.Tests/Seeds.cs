using Funnel.Events;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Tests;

/// <summary>Data the tests put in the dashboard's stores, hostile where a value is shown.</summary>
internal static class Seeds
{
    public const string Hostile = "\"><script>alert('x')</script>";

    public static readonly LeadId Lead = new(new Guid(7, 0, 0, new byte[8]));

    public static async Task<OutboxEntry> FailedSendAsync(DashboardHost host, string key, SendState state = SendState.FailedPermanent,
        Instant? due = null)
    {
        var entry = new OutboxEntry
        {
            Key = key,
            Enrolment = new EnrolmentId(new Guid(1, 0, 0, new byte[8])),
            LeadId = Lead,
            Sequence = "nurture" + Hostile,
            StepIndex = 2,
            ScheduledFor = due ?? DashboardHost.Start,
            DueAt = due ?? DashboardHost.Start,
            State = state,
            Attempts = state == SendState.Pending ? 0 : 5,
            CompletedAt = state == SendState.FailedPermanent ? DashboardHost.Start : null,
            Reason = state == SendState.Pending ? null : "550 mailbox unavailable" + Hostile,
        };
        (await host.Services.GetRequiredService<ISendOutbox>().TryAddAsync(entry)).ShouldBeTrue();
        return entry;
    }

    public static async Task FunnelEventsAsync(DashboardHost host, int visitors, int optIns)
    {
        var events = new List<FunnelEvent>();
        for (int i = 0; i < visitors; i++)
        {
            var lead = new LeadId(new Guid(100 + i, 0, 0, new byte[8]));
            Instant at = DashboardHost.Start + Duration.FromMinutes(i);
            events.Add(new PageViewed
            {
                LeadId = lead,
                OccurredAt = at,
                Page = "/blog/post",
                Attribution = new Attribution { Channel = "social" + Hostile, Campaign = "launch" },
            });
            if (i < optIns)
            {
                events.Add(new OptedIn { LeadId = lead, OccurredAt = at + Duration.FromSeconds(30), Magnet = "guide" });
            }
        }

        await host.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(events);
    }

    public static async Task FailedWebhookAsync(DashboardHost host) =>
        (await host.Services.GetRequiredService<IWebhookEventStore>().TryAddAsync(new StoredWebhookEvent
        {
            EventId = "evt_1" + Hostile,
            EventType = "charge.refunded",
            ReceivedAt = DashboardHost.Start,
            Status = WebhookEventStatus.Failed,
            Attempts = 1,
            Error = "boom" + Hostile,
        })).ShouldBeTrue();

    public static async Task ParkedEventAsync(DashboardHost host) =>
        (await host.Services.GetRequiredService<IParkedEventStore>().TryAddAsync(new ParkedEvent
        {
            Handler = "crm-sync",
            Position = 42,
            EventId = new EventId(new Guid(9, 0, 0, new byte[8])),
            EventType = "opted_in",
            Attempts = 5,
            Error = "HttpRequestException: " + Hostile,
            ParkedAt = DashboardHost.Start,
        })).ShouldBeTrue();
}
