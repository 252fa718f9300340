using System.Net;
using Funnel.Offers;
using Funnel.Payments;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Tests;

/// <summary>"Process now" on a parked webhook event: applied through the library's <see cref="WebhookProcessor"/>, never lost.</summary>
public class DashboardParkedWebhookTests
{
    private const string EventId = "evt_refund_1";
    private static readonly Currency Usd = Currency.USD;
    private static readonly OrderId OrderOfTheRefund = new(new Guid(21, 0, 0, new byte[8]));

    [Fact]
    public async Task Get_ParkedEvent_OffersProcessNow()
    {
        await using DashboardHost host = await StartAsync();
        await SeedAsync(host, paymentRecorded: false);
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/webhooks");

        page.ShouldContain("action=\"/funnel-admin/webhooks/process-parked\"");
        page.ShouldContain("value=\"" + EventId + "\"");
    }

    [Fact]
    public async Task ProcessParked_PaymentStillNotRecorded_StaysParkedWithTheAttemptAndThePageSaysSo()
    {
        await using DashboardHost host = await StartAsync();
        await SeedAsync(host, paymentRecorded: false);
        using HttpClient client = host.Client();
        (string cookie, string token) = await DashboardHost.AntiforgeryAsync(client, "/funnel-admin/webhooks");

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/webhooks/process-parked", cookie,
            ("eventId", EventId), ("__RequestVerificationToken", token));

        response.StatusCode.ShouldBe(HttpStatusCode.SeeOther);
        string location = response.Headers.Location!.OriginalString;
        location.ShouldBe("/funnel-admin/webhooks?outcome=Parked&eventId=" + EventId);
        StoredWebhookEvent stored = (await host.Services.GetRequiredService<IWebhookEventStore>().FindAsync(EventId)).ShouldNotBeNull();
        (stored.Status, stored.Attempts, stored.Version).ShouldBe((WebhookEventStatus.Parked, 2, 1L));
        stored.Error.ShouldNotBeNull().ShouldContain("pi_1 of order");
        string page = await DashboardHost.GetPageAsync(client, location);
        page.ShouldContain("<p role=\"status\">Event " + EventId + ": still parked");
        page.ShouldContain("is not recorded yet; the event stays parked until it is.");
    }

    [Fact]
    public async Task ProcessParked_PaymentRecordedMeanwhile_AppliesTheRefundToTheOrder()
    {
        await using DashboardHost host = await StartAsync();
        await SeedAsync(host, paymentRecorded: true);
        using HttpClient client = host.Client();
        (string cookie, string token) = await DashboardHost.AntiforgeryAsync(client, "/funnel-admin/webhooks");

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/webhooks/process-parked", cookie,
            ("eventId", EventId), ("__RequestVerificationToken", token));

        response.StatusCode.ShouldBe(HttpStatusCode.SeeOther);
        response.Headers.Location!.OriginalString.ShouldBe("/funnel-admin/webhooks?outcome=Processed&eventId=" + EventId);
        (await host.Services.GetRequiredService<IWebhookEventStore>().FindAsync(EventId)).ShouldNotBeNull().Status
            .ShouldBe(WebhookEventStatus.Processed);
        Order order = (await host.Services.GetRequiredService<IOrderStore>().FindAsync(OrderOfTheRefund)).ShouldNotBeNull();
        order.Refunded.ShouldBe(new Money(2_500, Usd));
        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/webhooks?outcome=Processed&eventId=" + EventId);
        page.ShouldContain("<p role=\"status\">Event " + EventId + ": applied to its order.</p>");
    }

    [Fact]
    public async Task ProcessParked_EventNotParked_Returns409AndChangesNothing()
    {
        await using DashboardHost host = await StartAsync();
        await Seeds.FailedWebhookAsync(host);
        using HttpClient client = host.Client();
        (string cookie, string token) = await DashboardHost.AntiforgeryAsync(client, "/funnel-admin/webhooks");

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/webhooks/process-parked", cookie,
            ("eventId", "evt_1" + Seeds.Hostile), ("__RequestVerificationToken", token));

        response.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await host.Services.GetRequiredService<IWebhookEventStore>().FindAsync("evt_1" + Seeds.Hostile)).ShouldNotBeNull()
            .Status.ShouldBe(WebhookEventStatus.Failed);
    }

    [Fact]
    public async Task ProcessParked_WithoutAntiforgeryToken_Returns400AndChangesNothing()
    {
        await using DashboardHost host = await StartAsync();
        await SeedAsync(host, paymentRecorded: true);
        using HttpClient client = host.Client();

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/webhooks/process-parked", null, ("eventId", EventId));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        await ShouldBeUntouchedAsync(host);
    }

    [Fact]
    public async Task ProcessParked_ReadOnly_HasNoFormAndAPostIsRefused()
    {
        await using DashboardHost host = await StartAsync(readOnly: true);
        await SeedAsync(host, paymentRecorded: true);
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/webhooks");
        page.ShouldContain(EventId);
        page.ShouldNotContain("process-parked");
        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/webhooks/process-parked", null, ("eventId", EventId));

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        await ShouldBeUntouchedAsync(host);
    }

    [Fact]
    public async Task Get_OutcomeOfAnEventThatIsNotStored_ShowsNoStatusLine()
    {
        await using DashboardHost host = await StartAsync();
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/webhooks?outcome=Processed&eventId=evt_never_received");

        page.ShouldNotContain("role=\"status\"");
    }

    [Fact]
    public async Task Get_UnknownOutcome_ShowsNoStatusLine()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/webhooks?outcome=Rejected&eventId=" + Uri.EscapeDataString(Seeds.Hostile));

        page.ShouldNotContain("role=\"status\"");
        page.ShouldNotContain("<script>");
    }

    [Fact]
    public async Task ProcessParked_WithoutWhatThePaymentServiceNeeds_SaysWhatIsMissingInsteadOfA500()
    {
        // No catalogue, offer path, grantor or gateway: the payment service cannot be built.
        await using DashboardHost host = await DashboardHost.StartAsync();
        await SeedAsync(host, paymentRecorded: false);
        using HttpClient client = host.Client();
        (string cookie, string token) = await DashboardHost.AntiforgeryAsync(client, "/funnel-admin/webhooks");

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/webhooks/process-parked", cookie,
            ("eventId", EventId), ("__RequestVerificationToken", token));
        using HttpResponseMessage missing = await DashboardHost.PostAsync(client, "/funnel-admin/webhooks/retry", cookie,
            ("__RequestVerificationToken", token));

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).ShouldContain("Webhook events cannot be applied: the payment service cannot be built.");
        missing.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await missing.Content.ReadAsStringAsync()).ShouldContain("'eventId' is required");
        await ShouldBeUntouchedAsync(host);
    }

    /// <summary>The dashboard host with the shop's catalogue and offer path, which the payment service needs to apply events.</summary>
    private static Task<DashboardHost> StartAsync(bool readOnly = false) => DashboardHost.StartAsync("Production", o =>
        {
            o.AuthorizationPolicy = DashboardHost.Policy;
            o.ReadOnly = readOnly;
        }, true, services => services.AddSingleton<IEntitlementGrantor, NoGrants>().AddSingleton<IPaymentGateway, NoGateway>()
            .AddSingleton(new OfferPath { Entry = new OfferId("guide") }).AddSingleton(new Catalogue
        {
            Currency = Usd,
            Products = [new Product { Key = "guide", Name = "The guide" }],
            Offers = [new Offer { Id = new OfferId("guide"), Name = "The guide", Price = new Money(10_000, Usd), Products = ["guide"] }],
        }));

    private static async Task ShouldBeUntouchedAsync(DashboardHost host)
    {
        StoredWebhookEvent stored = (await host.Services.GetRequiredService<IWebhookEventStore>().FindAsync(EventId)).ShouldNotBeNull();
        (stored.Status, stored.Attempts, stored.Version).ShouldBe((WebhookEventStatus.Parked, 1, 0L));
    }

    /// <summary>Access the shop would grant or revoke; the tests look at the order instead.</summary>
    private sealed class NoGrants : IEntitlementGrantor
    {
        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    /// <summary>The provider: applying a stored webhook event never calls it.</summary>
    private sealed class NoGateway : IPaymentGateway
    {
        public Task<PaymentResult> ChargeAsync(ChargeRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<PaymentResult> StartPlanAsync(InstallmentPlanRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<RefundResult> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task CancelPlanAsync(CancelPlanRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }

    /// <summary>An order and a parked refund of its payment <c>pi_1</c>; the payment is on the order or not yet.</summary>
    private static async Task SeedAsync(DashboardHost host, bool paymentRecorded)
    {
        Instant start = DashboardHost.Start;
        var total = new Money(10_000, Usd);
        var order = new Order
        {
            Id = OrderOfTheRefund,
            Lead = Seeds.Lead,
            PlacedAt = start,
            Lines = [new OrderLine { Offer = new OfferId("guide"), Role = OfferRole.Main, Quantity = 1, Total = total, Products = ["guide"] }],
            Total = total,
            Schedule = [],
            Paid = paymentRecorded ? total : Money.Zero(Usd),
            Refunded = Money.Zero(Usd),
            Status = paymentRecorded ? OrderStatus.Paid : OrderStatus.AwaitingPayment,
            Installments =
            [
                paymentRecorded
                    ? new Installment { Number = 1, DueAt = start, Amount = total, Status = InstallmentStatus.Paid, PaymentId = "pi_1" }
                    : new Installment { Number = 1, DueAt = start, Amount = total },
            ],
        };
        (await host.Services.GetRequiredService<IOrderStore>().TryAddAsync(order)).ShouldBeTrue();
        (await host.Services.GetRequiredService<IWebhookEventStore>().TryAddAsync(new StoredWebhookEvent
        {
            EventId = EventId,
            EventType = "charge.refunded",
            ReceivedAt = start,
            Status = WebhookEventStatus.Parked,
            Attempts = 1,
            Notification = new PaymentNotification
            {
                EventId = EventId,
                Kind = PaymentNotificationKind.Refunded,
                Order = OrderOfTheRefund,
                OccurredAt = start,
                PaymentId = "pi_1",
                Amount = new Money(2_500, Usd),
                AdjustmentId = "re_1",
            },
        })).ShouldBeTrue();
    }
}
