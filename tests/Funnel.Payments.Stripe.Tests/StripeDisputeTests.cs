using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Funnel.Offers;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Payments.Stripe.Tests;

/// <summary>Stripe's dispute webhooks: the mapping, the order read from the disputed PaymentIntent on the Stripe stand-in, and the whole path through the <see cref="WebhookProcessor"/>.</summary>
public sealed class StripeDisputeTests : IAsyncLifetime
{
    private const string Secret = "whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH";
    private const string Intent = "pi_3MtwBwLkdIwHu7ix28a3tqPa";
    private static readonly Instant Now = Instant.FromUtc(2026, 10, 5, 14, 0);
    private static readonly OrderId Order = new(Guid.Parse("0192a3b4-c5d6-7e8f-9012-3456789abcde"));
    private FakeStripeServer server = null!;

    public async Task InitializeAsync() => server = await FakeStripeServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task VerifyAsync_DisputeCreated_MapsItWithTheOrderOfTheDisputedPaymentIntent()
    {
        server.Respond = r => r.Path == "/v1/payment_intents/" + Intent ? (200, PaymentIntent(Intent, Order)) : (404, "{}");
        string body = Dispute("evt_d1", "charge.dispute.created", "needs_response");

        WebhookVerification result = await Verifier().VerifyAsync(Request(body));

        result.Rejection.ShouldBeNull(result.Message);
        PaymentNotification notification = result.Notification.ShouldNotBeNull();
        notification.Kind.ShouldBe(PaymentNotificationKind.Disputed);
        notification.Order.ShouldBe(Order);
        notification.PaymentId.ShouldBe(Intent);
        notification.AdjustmentId.ShouldBe("dp_1MtJUT2eZvKYlo2CNaw2HvEv");
        notification.Amount.ShouldBe(Money.FromMajor(497m, Currency.USD));
        notification.Reason.ShouldBe("fraudulent");
        notification.OccurredAt.ShouldBe(Now);
        server.Requests.ShouldHaveSingleItem().ShouldSatisfyAllConditions(
            r => r.Method.ShouldBe("GET"),
            r => r.Path.ShouldBe("/v1/payment_intents/" + Intent));
    }

    [Theory]
    [InlineData("won", PaymentNotificationKind.DisputeWon)]
    [InlineData("lost", PaymentNotificationKind.DisputeLost)]
    public async Task VerifyAsync_DisputeClosed_MapsTheOutcome(string status, PaymentNotificationKind kind)
    {
        server.Respond = _ => (200, PaymentIntent(Intent, Order));
        string body = Dispute("evt_d2", "charge.dispute.closed", status);

        PaymentNotification notification = (await Verifier().VerifyAsync(Request(body))).Notification.ShouldNotBeNull();

        notification.Kind.ShouldBe(kind);
        notification.AdjustmentId.ShouldBe("dp_1MtJUT2eZvKYlo2CNaw2HvEv");
    }

    [Fact]
    public async Task VerifyAsync_InquiryClosedWithAWarning_AcceptsWithoutNotificationAndAsksStripeNothing()
    {
        string body = Dispute("evt_d3", "charge.dispute.closed", "warning_closed");

        WebhookVerification result = await Verifier().VerifyAsync(Request(body));

        result.Rejection.ShouldBeNull();
        result.Notification.ShouldBeNull();
        server.Requests.ShouldBeEmpty();
    }

    [Theory]
    [InlineData(200)]
    [InlineData(404)]
    public async Task VerifyAsync_DisputedPaymentIntentNotOneOfOurs_AcceptsWithoutNotification(int status)
    {
        // Ours would carry our metadata, or have paid an invoice of one of our plans; this one paid no invoice.
        server.Respond = r => (status, status != 200
            ? """{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such payment_intent."}}"""
            : r.Path == "/v1/invoice_payments"
                ? """{"object":"list","url":"/v1/invoice_payments","has_more":false,"data":[]}"""
                : """{"id":"INTENT","object":"payment_intent","amount":49700,"currency":"usd","status":"succeeded","metadata":{}}""".Replace("INTENT", Intent, StringComparison.Ordinal));
        string body = Dispute("evt_d4", "charge.dispute.created", "needs_response");

        WebhookVerification result = await Verifier().VerifyAsync(Request(body));

        result.Rejection.ShouldBeNull();
        result.Notification.ShouldBeNull();
        result.Unprocessable.ShouldBeNull();
    }

    [Fact]
    public async Task VerifyAsync_StripeFailsToAnswerForTheDispute_ThrowsSoTheDeliveryFailsAndStripeRetries()
    {
        server.Respond = _ => (500, """{"error":{"type":"api_error","message":"Something went wrong."}}""");
        string body = Dispute("evt_d5", "charge.dispute.created", "needs_response");

        PaymentGatewayException error = await Should.ThrowAsync<PaymentGatewayException>(() => Verifier().VerifyAsync(Request(body)));

        error.IsTransient.ShouldBeTrue();
        error.Message.ShouldContain(Intent);
    }

    [Fact]
    public async Task ProcessAsync_DisputeOpenedReplayedThenWon_PausesAccessOnceAndRestoresIt()
    {
        (ServiceProvider provider, CountingGrantor grantor, Order order) = await PaidOrderAsync();
        using ServiceProvider _ = provider;
        WebhookProcessor processor = provider.GetRequiredService<WebhookProcessor>();
        string created = Dispute("evt_created", "charge.dispute.created", "needs_response");
        string won = Dispute("evt_won", "charge.dispute.closed", "won");

        ImmutableArray<WebhookOutcome> opening = [(await DeliverAsync(processor, created)).Outcome, (await DeliverAsync(processor, created)).Outcome];
        Order paused = await OrderAsync(provider, order.Id);
        WebhookResult closing = await DeliverAsync(processor, won);
        Order restored = await OrderAsync(provider, order.Id);

        opening.ShouldBe([WebhookOutcome.Processed, WebhookOutcome.Duplicate]);
        paused.AccessPaused.ShouldBeTrue();
        paused.Entitlements.ShouldBeEmpty();
        grantor.Revokes.ShouldBe(1);
        closing.Outcome.ShouldBe(WebhookOutcome.Processed);
        closing.Events.OfType<DisputeClosed>().ShouldHaveSingleItem().Won.ShouldBeTrue();
        restored.AccessPaused.ShouldBeFalse();
        restored.Entitlements.Select(e => e.Product).ShouldBe(["course"]);
        restored.Disputes.ShouldHaveSingleItem().Status.ShouldBe(DisputeStatus.Won);
        grantor.Grants.ShouldBe(2);
    }

    [Fact]
    public async Task ProcessAsync_DisputeClosedDeliveredBeforeItOpened_RecordsBothOnceAndEndsAsInOrder()
    {
        (ServiceProvider provider, CountingGrantor grantor, Order order) = await PaidOrderAsync();
        using ServiceProvider _ = provider;
        WebhookProcessor processor = provider.GetRequiredService<WebhookProcessor>();
        string created = Dispute("evt_created", "charge.dispute.created", "needs_response");
        string lost = Dispute("evt_lost", "charge.dispute.closed", "lost");

        ImmutableArray<WebhookResult> results =
        [
            await DeliverAsync(processor, lost), await DeliverAsync(processor, created), await DeliverAsync(processor, lost), await DeliverAsync(processor, created),
        ];
        Order after = await OrderAsync(provider, order.Id);

        results.Select(r => r.Outcome).ShouldBe([WebhookOutcome.Processed, WebhookOutcome.Processed, WebhookOutcome.Duplicate, WebhookOutcome.Duplicate]);
        results.SelectMany(r => r.Events).OfType<PaymentDisputed>().ShouldHaveSingleItem().Reason.ShouldBe("fraudulent");
        results.SelectMany(r => r.Events).OfType<DisputeClosed>().ShouldHaveSingleItem().Won.ShouldBeFalse();
        after.AccessPaused.ShouldBeTrue("a lost dispute leaves access paused, as it would have in order");
        after.Disputes.ShouldHaveSingleItem().Status.ShouldBe(DisputeStatus.Lost);
        grantor.Revokes.ShouldBe(1);
    }

    private async Task<(ServiceProvider Provider, CountingGrantor Grantor, Order Order)> PaidOrderAsync()
    {
        var grantor = new CountingGrantor();
        var catalogue = new Catalogue
        {
            Currency = Currency.USD,
            Products = [new Product { Key = "course", Name = "Course" }],
            Offers = [new Offer { Id = "course", Name = "Course", Price = Money.FromMajor(497m, Currency.USD), Products = ["course"] }],
        };
        ServiceProvider provider = new ServiceCollection()
            .AddSingleton<IClock>(new FakeClock(Now))
            .AddSingleton(catalogue)
            .AddSingleton(new OfferPath { Entry = "course" })
            .AddSingleton<IEntitlementGrantor>(grantor)
            .AddFunnelCommerce()
            .AddFunnelStripe(o =>
            {
                o.ApiKey = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
                o.WebhookSecrets.Add(Secret);
                o.ApiBase = server.BaseAddress;
                o.MaxNetworkRetries = 0;
            })
            .BuildServiceProvider();
        OrderService orders = provider.GetRequiredService<OrderService>();
        Checkout checkout = await orders.StartCheckoutAsync(LeadId.New(), new Cart { Lines = [new CartLine("course", 1, null)] }, DateTimeZone.Utc);
        Order order = (await orders.PlaceOrderAsync(checkout, null)).Order!;
        server.Respond = r => r.Path switch
        {
            "/v1/customers" => (200, """{"id":"cus_1","object":"customer","metadata":{}}"""),
            "/v1/payment_intents" or "/v1/payment_intents/" + Intent => (200, PaymentIntent(Intent, order.Id)),
            _ => (404, "{}"),
        };
        PaymentAttempt paid = await provider.GetRequiredService<PaymentService>().PayAsync(order.Id, "pm_card_visa");
        paid.Result.Order!.Status.ShouldBe(OrderStatus.Paid);
        grantor.Grants.ShouldBe(1);
        return (provider, grantor, order);
    }

    private static async Task<Order> OrderAsync(ServiceProvider provider, OrderId id) =>
        (await provider.GetRequiredService<IOrderStore>().FindAsync(id))!;

    private static Task<WebhookResult> DeliverAsync(WebhookProcessor processor, string body) =>
        processor.ProcessAsync(Encoding.UTF8.GetBytes(body), new Dictionary<string, string> { ["Stripe-Signature"] = Header(body) });

    private IWebhookSignatureVerifier Verifier()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(new FakeClock(Now));
        services.AddFunnelStripe(o =>
        {
            o.ApiKey = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
            o.WebhookSecrets.Add(Secret);
            o.ApiBase = server.BaseAddress;
            o.MaxNetworkRetries = 0;
        });
        return services.BuildServiceProvider().GetRequiredService<IWebhookSignatureVerifier>();
    }

    private static string PaymentIntent(string id, OrderId order) =>
        """{"id":"ID","object":"payment_intent","amount":49700,"amount_received":49700,"currency":"usd","status":"succeeded","payment_method":"pm_card_visa","metadata":{"funnel_order":"ORDER"}}"""
            .Replace("ID", id, StringComparison.Ordinal).Replace("ORDER", order.ToString(), StringComparison.Ordinal);

    /// <summary>A dispute event as Stripe documents it: no metadata of ours, the PaymentIntent in <c>payment_intent</c>.</summary>
    private static string Dispute(string eventId, string type, string status) =>
        """
        {"id":"EVENT","object":"event","api_version":"2025-09-30.clover","created":CREATED,"type":"TYPE",
         "data":{"object":{"id":"dp_1MtJUT2eZvKYlo2CNaw2HvEv","object":"dispute","amount":49700,"currency":"usd","charge":"ch_1AZtxr2eZvKYlo2CJDX8whov",
          "payment_intent":"INTENT","reason":"fraudulent","status":"STATUS","is_charge_refundable":false,"livemode":false,"metadata":{}}}}
        """.Replace("EVENT", eventId, StringComparison.Ordinal)
            .Replace("CREATED", Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("TYPE", type, StringComparison.Ordinal)
            .Replace("INTENT", Intent, StringComparison.Ordinal)
            .Replace("STATUS", status, StringComparison.Ordinal);

    private static WebhookRequest Request(string body) => new(Encoding.UTF8.GetBytes(body), new Dictionary<string, string> { ["Stripe-Signature"] = Header(body) });

    private static string Header(string body)
    {
        long t = Now.ToUnixTimeSeconds();
        byte[] mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(t.ToString(CultureInfo.InvariantCulture) + "." + body));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    private sealed class CountingGrantor : IEntitlementGrantor
    {
        public int Grants { get; private set; }

        public int Revokes { get; private set; }

        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
        {
            Grants++;
            return Task.CompletedTask;
        }

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
        {
            Revokes++;
            return Task.CompletedTask;
        }
    }
}
