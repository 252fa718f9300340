using System.Collections.Concurrent;
using System.Net;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Tests;

public class DashboardActionTests
{
    [Fact]
    public async Task Retry_FailedSend_BecomesPendingDueNowWithAttemptsReset()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await Seeds.FailedSendAsync(host, "e:welcome");
        host.Clock.Advance(Duration.FromHours(2));
        using HttpClient client = host.Client();
        (string cookie, string token) = await DashboardHost.AntiforgeryAsync(client, "/funnel-admin/email?state=FailedPermanent");

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/email/retry", cookie,
            ("key", "e:welcome"), ("__RequestVerificationToken", token));

        response.StatusCode.ShouldBe(HttpStatusCode.SeeOther);
        response.Headers.Location!.OriginalString.ShouldBe("/funnel-admin/email");
        OutboxEntry entry = (await host.Services.GetRequiredService<ISendOutbox>().FindAsync("e:welcome")).ShouldNotBeNull();
        (entry.State, entry.DueAt, entry.Attempts, entry.CompletedAt, entry.Reason, entry.Version)
            .ShouldBe((SendState.Pending, DashboardHost.Start + Duration.FromHours(2), 0, (Instant?)null, (string?)null, 1L));
    }

    [Fact]
    public async Task Cancel_PendingSend_BecomesCancelledAndLeavesTheQueue()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await Seeds.FailedSendAsync(host, "e:welcome", SendState.Pending);
        using HttpClient client = host.Client();
        (string cookie, string token) = await DashboardHost.AntiforgeryAsync(client, "/funnel-admin/email?state=Pending");

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/email/cancel", cookie,
            ("key", "e:welcome"), ("__RequestVerificationToken", token));

        response.StatusCode.ShouldBe(HttpStatusCode.SeeOther);
        ISendOutbox outbox = host.Services.GetRequiredService<ISendOutbox>();
        OutboxEntry entry = (await outbox.FindAsync("e:welcome")).ShouldNotBeNull();
        (entry.State, entry.CompletedAt).ShouldBe((SendState.Cancelled, (Instant?)DashboardHost.Start));
        (await outbox.ClaimDueAsync(DashboardHost.Start + Duration.FromDays(1), 10, Duration.FromMinutes(5), "d")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Cancel_SentEntry_Returns409AndChangesNothing()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await Seeds.FailedSendAsync(host, "e:welcome");
        using HttpClient client = host.Client();
        (string cookie, string token) = await DashboardHost.AntiforgeryAsync(client, "/funnel-admin/email?state=FailedPermanent");

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/email/cancel", cookie,
            ("key", "e:welcome"), ("__RequestVerificationToken", token));

        response.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await response.Content.ReadAsStringAsync()).ShouldContain("The send is FailedPermanent: it can no longer be cancelled.");
        (await host.Services.GetRequiredService<ISendOutbox>().FindAsync("e:welcome")).ShouldNotBeNull().Version.ShouldBe(0);
    }

    [Fact]
    public async Task RetryParked_NoSuchParkedEvent_Returns404()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await Seeds.FailedSendAsync(host, "e:welcome");
        using HttpClient client = host.Client();
        (string cookie, string token) = await DashboardHost.AntiforgeryAsync(client, "/funnel-admin/email?state=FailedPermanent");

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/pipeline/retry", cookie,
            ("handler", "crm-sync"), ("position", "42"), ("__RequestVerificationToken", token));
        using HttpResponseMessage malformed = await DashboardHost.PostAsync(client, "/funnel-admin/pipeline/retry", cookie,
            ("handler", "crm-sync"), ("position", "-1"), ("__RequestVerificationToken", token));

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).ShouldContain("Handler 'crm-sync' has no parked event at position 42.");
        malformed.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await malformed.Content.ReadAsStringAsync()).ShouldContain("'handler' and 'position' (a log position, digits only) are required.");
    }

    [Fact]
    public async Task RetryParked_HandlerNowSucceeds_DeliversTheEventAndUnparksIt()
    {
        var handler = new RecordingHandler();
        await using DashboardHost host = await DashboardHost.StartAsync("Production", o => o.AuthorizationPolicy = DashboardHost.Policy, true,
            services => services.AddSingleton(handler).AddFunnelHandler<RecordingHandler>("recorder"));
        IFunnelEventLog log = host.Services.GetRequiredService<IFunnelEventLog>();
        var opted = new OptedIn { LeadId = Seeds.Lead, OccurredAt = DashboardHost.Start, Magnet = "guide" };
        await log.AppendAsync([opted]);
        LoggedEvent logged = (await log.ReadAsync(0, 10)).ShouldHaveSingleItem();
        await host.Services.GetRequiredService<IParkedEventStore>().TryAddAsync(new ParkedEvent
        {
            Handler = "recorder",
            Position = logged.Position,
            EventId = opted.Id,
            EventType = opted.EventType,
            Attempts = 5,
            Error = "InvalidOperationException: down",
            ParkedAt = DashboardHost.Start,
        });
        using HttpClient client = host.Client();
        (string cookie, string token) = await DashboardHost.AntiforgeryAsync(client, "/funnel-admin/pipeline");

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/pipeline/retry", cookie,
            ("handler", "recorder"), ("position", logged.Position.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("__RequestVerificationToken", token));

        response.StatusCode.ShouldBe(HttpStatusCode.SeeOther);
        handler.Received.ShouldContain(opted.Id);
        (await host.Services.GetRequiredService<IParkedEventStore>().ListAsync(10)).ShouldBeEmpty();
    }

    private sealed class RecordingHandler : IFunnelHandler
    {
        public ConcurrentBag<EventId> Received { get; } = [];

        public Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
        {
            Received.Add(funnelEvent.Id);
            return Task.CompletedTask;
        }
    }
}
