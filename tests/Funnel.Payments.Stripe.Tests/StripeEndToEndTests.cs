using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Funnel.Offers;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Payments.Stripe.Tests;

/// <summary>Stripe's installment webhooks through the core's <see cref="WebhookProcessor"/> with the Stripe verifier.</summary>
public sealed class StripeEndToEndTests : IAsyncLifetime
{
    private const string Secret = "whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH";
    private static readonly Instant Now = Instant.FromUtc(2026, 10, 5, 14, 0);
    private FakeStripeServer server = null!;

    private sealed class NoGrantor : IEntitlementGrantor
    {
        public int Grants { get; private set; }

        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
        {
            Grants++;
            return Task.CompletedTask;
        }

        public int Revokes { get; private set; }

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
        {
            Revokes++;
            return Task.CompletedTask;
        }
    }

    public async Task InitializeAsync() => server = await FakeStripeServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task ProcessAsync_InvoicePaidForEachInstallmentReplayedOutOfOrder_PaysThePlanOnce()
    {
        (ServiceProvider provider, NoGrantor grantor, Order order) = await PlanOrderAsync();
        using ServiceProvider _ = provider;

        WebhookProcessor processor = provider.GetRequiredService<WebhookProcessor>();
        string[] bodies = [InvoicePaid(order.Id, 1), InvoicePaid(order.Id, 2), InvoicePaid(order.Id, 3)];
        foreach (string body in new[] { bodies[2], bodies[0], bodies[2], bodies[1], bodies[0], bodies[1] })
        {
            (await DeliverAsync(processor, body)).Outcome.ShouldBeOneOf(WebhookOutcome.Processed, WebhookOutcome.Duplicate);
        }

        Order paid = (await provider.GetRequiredService<IOrderStore>().FindAsync(order.Id))!;
        paid.Installments.Select(i => i.PaymentId).ShouldBe(["in_1", "in_2", "in_3"]);
        paid.Paid.ShouldBe(Money.FromMajor(540m, Currency.USD));
        paid.PlanId.ShouldBe("sub_sched_1");
        grantor.Grants.ShouldBe(1);
    }

    [Fact]
    public async Task ProcessAsync_DisputeOnAnInstallmentsPaymentIntent_FindsThePlansOrderThroughItsInvoiceAndPausesAccess()
    {
        (ServiceProvider provider, NoGrantor grantor, Order order) = await PlanOrderAsync();
        using ServiceProvider _ = provider;
        WebhookProcessor processor = provider.GetRequiredService<WebhookProcessor>();
        (await DeliverAsync(processor, InvoicePaid(order.Id, 1))).Outcome.ShouldBe(WebhookOutcome.Processed);
        grantor.Grants.ShouldBe(1);

        // Stripe's invoice created the installment's PaymentIntent: it carries no metadata of ours, its invoice does.
        server.Respond = r => r.Path switch
        {
            "/v1/payment_intents/pi_inst_1" => (200, """{"id":"pi_inst_1","object":"payment_intent","amount":18000,"currency":"usd","status":"succeeded","metadata":{}}"""),
            "/v1/invoice_payments" when r.Parameters.GetValueOrDefault("payment[payment_intent]") == "pi_inst_1" => (200, InvoicePayments(order.Id)),
            _ => (404, """{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such object."}}"""),
        };
        WebhookResult disputed = await DeliverAsync(processor, InstallmentDispute());
        WebhookResult replayed = await DeliverAsync(processor, InstallmentDispute());

        disputed.Outcome.ShouldBe(WebhookOutcome.Processed);
        replayed.Outcome.ShouldBe(WebhookOutcome.Duplicate);
        PaymentDisputed recorded = disputed.Events.OfType<PaymentDisputed>().ShouldHaveSingleItem();
        recorded.Order.ShouldBe(order.Id);
        Order after = (await provider.GetRequiredService<IOrderStore>().FindAsync(order.Id))!;
        after.Disputes.ShouldHaveSingleItem().PaymentId.ShouldBe("in_1", "the dispute names the payment as the order recorded it");
        after.AccessPaused.ShouldBeTrue();
        grantor.Revokes.ShouldBe(1);
        RecordedRequest lookup = server.Requests.Single(r => r.Path == "/v1/invoice_payments"); // the replay asked Stripe nothing
        lookup.Parameters.GetValueOrDefault("payment[type]").ShouldBe("payment_intent");
        lookup.Parameters.GetValueOrDefault("expand[0]").ShouldBe("data.invoice");
        server.Requests.Count(r => r.Path == "/v1/payment_intents/pi_inst_1").ShouldBe(1);
    }

    private async Task<(ServiceProvider Provider, NoGrantor Grantor, Order Order)> PlanOrderAsync()
    {
        var clock = new FakeClock(Now);
        var grantor = new NoGrantor();
        var catalogue = new Catalogue
        {
            Currency = Currency.USD,
            Products = [new Product { Key = "course", Name = "Course" }],
            Offers =
            [
                new Offer
                {
                    Id = "course", Name = "Course", Price = Money.FromMajor(497m, Currency.USD), Products = ["course"],
                    PaymentPlans = [new PaymentPlan { Key = "3-monthly", Installments = 3, InstallmentAmount = Money.FromMajor(180m, Currency.USD), Interval = Period.FromMonths(1) }],
                },
            ],
        };
        server.Respond = r => r.Path switch
        {
            "/v1/customers" => (200, """{"id":"cus_1","object":"customer","metadata":{}}"""),
            "/v1/payment_methods/pm_card_visa/attach" => (200, """{"id":"pm_card_visa","object":"payment_method","customer":"cus_1","type":"card"}"""),
            "/v1/subscription_schedules" => (200, """{"id":"sub_sched_1","object":"subscription_schedule","customer":"cus_1","status":"active","metadata":{},"phases":[]}"""),
            _ => (404, "{}"),
        };
        ServiceProvider provider = new ServiceCollection()
            .AddSingleton<IClock>(clock)
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
                o.PlanProduct = "prod_NWjs8kKbJWmuuc";
            })
            .BuildServiceProvider();
        OrderService orders = provider.GetRequiredService<OrderService>();
        Checkout checkout = await orders.StartCheckoutAsync(LeadId.New(), new Cart { Lines = [new CartLine("course", 1, "3-monthly")] }, DateTimeZone.Utc);
        Order order = (await orders.PlaceOrderAsync(checkout, null)).Order!;
        PaymentAttempt started = await provider.GetRequiredService<PaymentService>().PayAsync(order.Id, "pm_card_visa");
        started.Payment!.PlanId.ShouldBe("sub_sched_1");
        started.Result.Order!.Status.ShouldBe(OrderStatus.AwaitingPayment, "Stripe reports the first invoice by webhook");
        return (provider, grantor, order);
    }

    private static Task<WebhookResult> DeliverAsync(WebhookProcessor processor, string body) =>
        processor.ProcessAsync(Encoding.UTF8.GetBytes(body), new Dictionary<string, string> { ["Stripe-Signature"] = Header(body) });

    /// <summary>Stripe's list of the payments of invoice in_1, with the invoice expanded: its subscription carries our order.</summary>
    private static string InvoicePayments(OrderId order) =>
        """
        {"object":"list","url":"/v1/invoice_payments","has_more":false,"data":[{"id":"inpay_1","object":"invoice_payment","amount_paid":18000,
         "currency":"usd","status":"paid","is_default":true,"payment":{"type":"payment_intent","payment_intent":"pi_inst_1"},
         "invoice":{"id":"in_1","object":"invoice","amount_paid":18000,"currency":"usd","status":"paid","parent":{"type":"subscription_details",
          "subscription_details":{"metadata":{"funnel_order":"ORDER","funnel_installment":"1"}}}}}]}
        """.Replace("ORDER", order.ToString(), StringComparison.Ordinal);

    private static string InstallmentDispute() =>
        """
        {"id":"evt_dispute_inst","object":"event","api_version":"2025-09-30.clover","created":CREATED,"type":"charge.dispute.created",
         "data":{"object":{"id":"dp_inst_1","object":"dispute","amount":18000,"currency":"usd","charge":"ch_inst_1",
          "payment_intent":"pi_inst_1","reason":"fraudulent","status":"needs_response","metadata":{}}}}
        """.Replace("CREATED", Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static string InvoicePaid(OrderId order, int installment) =>
        """
        {"id":"evt_inv_N","object":"event","created":CREATED,"type":"invoice.paid","data":{"object":
        {"id":"in_N","object":"invoice","amount_paid":18000,"currency":"usd","status":"paid","parent":{"type":"subscription_details",
        "subscription_details":{"metadata":{"funnel_order":"ORDER","funnel_installment":"N"}}}}}}
        """.Replace("CREATED", Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("ORDER", order.ToString(), StringComparison.Ordinal)
            .Replace("\"N\"", "\"" + installment.ToString(CultureInfo.InvariantCulture) + "\"", StringComparison.Ordinal)
            .Replace("_N\"", "_" + installment.ToString(CultureInfo.InvariantCulture) + "\"", StringComparison.Ordinal);

    private static string Header(string body)
    {
        long t = Now.ToUnixTimeSeconds();
        byte[] mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(t.ToString(CultureInfo.InvariantCulture) + "." + body));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }
}
