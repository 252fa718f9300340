using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Funnel.Offers;
using Funnel.Subscriptions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;
using SubscriptionService = Funnel.Subscriptions.SubscriptionService;

namespace Funnel.Payments.Stripe.Tests;

/// <summary>Subscriptions billed by Stripe Billing: what is sent to the loopback Stripe, and its webhooks through <see cref="WebhookProcessor"/>.</summary>
public sealed class StripeBillingTests : IAsyncLifetime
{
    private const string Secret = "whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH";
    private const string Product = "prod_Membership1";
    private static readonly Instant Now = Instant.FromUtc(2026, 10, 5, 14, 0);
    private static readonly OfferId Monthly = "membership";
    private static readonly OfferId Pro = "membership-pro";
    private FakeStripeServer server = null!;

    private static readonly Catalogue Catalogue = new()
    {
        Currency = Currency.USD,
        Products = [new Product { Key = "community", Name = "Community", Kind = ProductKind.CommunityAccess }],
        Offers =
        [
            new Offer
            {
                Id = Monthly, Name = "Membership", Price = Money.FromMajor(30m, Currency.USD), Products = ["community"],
                Recurring = new SubscriptionTerms { Interval = BillingInterval.Month, TrialDays = 14 },
            },
            new Offer
            {
                Id = Pro, Name = "Membership Pro", Price = Money.FromMajor(90m, Currency.USD), Products = ["community"],
                Recurring = new SubscriptionTerms { Interval = BillingInterval.Month },
            },
        ],
    };

    private sealed class Grantor : IEntitlementGrantor
    {
        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    public async Task InitializeAsync()
    {
        server = await FakeStripeServer.StartAsync();
        server.Respond = Stripe;
    }

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task StartAsync_WithTrial_CreatesAStripeSubscriptionPricedInlineWithTheTrialAndOurMetadata()
    {
        using ServiceProvider provider = Build();

        Subscription s = await StartAsync(provider, Monthly);

        s.Status.ShouldBe(SubscriptionStatus.Trialing);
        s.ProviderSubscriptionId.ShouldBe("sub_1");
        s.Customer.ShouldBe("cus_1");
        RecordedRequest create = server.RequestsTo("POST", "/v1/subscriptions").ShouldHaveSingleItem();
        IReadOnlyDictionary<string, string> p = create.Parameters;
        p["customer"].ShouldBe("cus_1");
        p["items[0][price_data][currency]"].ShouldBe("usd");
        p["items[0][price_data][unit_amount]"].ShouldBe("3000");
        p["items[0][price_data][product]"].ShouldBe(Product);
        p["items[0][price_data][recurring][interval]"].ShouldBe("month");
        p["items[0][quantity]"].ShouldBe("1");
        p["trial_end"].ShouldBe(s.TrialEndsAt!.Value.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        p["trial_settings[end_behavior][missing_payment_method]"].ShouldBe("cancel");
        p["default_payment_method"].ShouldBe("pm_card_visa");
        p["payment_behavior"].ShouldBe("error_if_incomplete");
        p["metadata[funnel_subscription]"].ShouldBe(s.Id.ToString());
        p.ContainsKey("metadata[funnel_order]").ShouldBeFalse("plan orders and subscriptions are told apart by it");
        create.IdempotencyKey.ShouldBe("sub_" + s.Id.Value.ToString("N") + "_start");
        server.RequestsTo("POST", "/v1/payment_methods/pm_card_visa/attach").ShouldHaveSingleItem().Parameters["customer"].ShouldBe("cus_1");
    }

    [Fact]
    public async Task CancelPauseChangePlan_OnAStripeSubscription_SendStripesParameters()
    {
        using ServiceProvider provider = Build();
        SubscriptionService subscriptions = provider.GetRequiredService<SubscriptionService>();
        Subscription s = await StartAsync(provider, Pro);
        s.Status.ShouldBe(SubscriptionStatus.Active);
        s.AppliedPayments.ShouldBe(["in_first"]);

        (await subscriptions.CancelAsync(s.Id, atPeriodEnd: true)).Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        (await subscriptions.WithdrawCancelAsync(s.Id)).Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        SubscriptionResult changed = await subscriptions.ChangePlanAsync(s.Id, Monthly);
        (await subscriptions.PauseAsync(s.Id, Now + Duration.FromDays(30))).Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        (await subscriptions.ResumeAsync(s.Id)).Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        (await subscriptions.CancelAsync(s.Id, atPeriodEnd: false)).Outcome.ShouldBe(SubscriptionOutcome.Succeeded);

        changed.Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        IReadOnlyList<RecordedRequest> updates = server.RequestsTo("POST", "/v1/subscriptions/sub_1");
        updates.Count.ShouldBe(5);
        updates[0].Parameters["cancel_at_period_end"].ShouldBe("true");
        updates[1].Parameters["cancel_at_period_end"].ShouldBe("false");
        updates[2].Parameters["items[0][id]"].ShouldBe("si_1");
        updates[2].Parameters["items[0][price_data][unit_amount]"].ShouldBe("3000");
        updates[2].Parameters["items[0][price_data][recurring][interval]"].ShouldBe("month");
        updates[2].Parameters["proration_behavior"].ShouldBe("always_invoice");
        updates[2].Parameters["payment_behavior"].ShouldBe("error_if_incomplete");
        updates[3].Parameters["pause_collection[behavior]"].ShouldBe("void");
        updates[3].Parameters["pause_collection[resumes_at]"].ShouldBe((Now + Duration.FromDays(30)).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        updates[4].Parameters["pause_collection"].ShouldBe("");
        server.RequestsTo("DELETE", "/v1/subscriptions/sub_1").ShouldHaveSingleItem();
        updates.Select(u => u.IdempotencyKey).Distinct().Count().ShouldBe(5);
        (await subscriptions.FindAsync(s.Id))!.Status.ShouldBe(SubscriptionStatus.Ended);
    }

    [Fact]
    public async Task Webhooks_TrialConvertsRenewsFailsAndEnds_AppliedOnceWhateverTheOrder()
    {
        using ServiceProvider provider = Build();
        SubscriptionService subscriptions = provider.GetRequiredService<SubscriptionService>();
        WebhookProcessor processor = provider.GetRequiredService<WebhookProcessor>();
        Subscription s = await StartAsync(provider, Monthly);
        var log = provider.GetRequiredService<Funnel.Pipeline.IFunnelEventLog>();

        // Stripe's zero invoice of the trial's start is not a payment.
        (await DeliverAsync(processor, Invoice("evt_0", "invoice.paid", s.Id, "in_0", 0, "subscription_create"))).Outcome.ShouldBe(WebhookOutcome.Ignored);
        (await subscriptions.FindAsync(s.Id))!.Status.ShouldBe(SubscriptionStatus.Trialing);

        await DeliverAsync(processor, Invoice("evt_1", "invoice.paid", s.Id, "in_1", 3000));
        Subscription converted = (await subscriptions.FindAsync(s.Id))!;
        converted.Status.ShouldBe(SubscriptionStatus.Active);
        converted.PeriodsPaid.ShouldBe(1);

        await DeliverAsync(processor, Invoice("evt_2", "invoice.paid", s.Id, "in_2", 3000));
        (await subscriptions.FindAsync(s.Id))!.PeriodsPaid.ShouldBe(2);

        Instant retry = Now + Duration.FromDays(3);
        await DeliverAsync(processor, Invoice("evt_3b", "invoice.payment_failed", s.Id, "in_3", 3000, attempt: 2, next: retry));
        Subscription pastDue = (await subscriptions.FindAsync(s.Id))!;
        pastDue.Status.ShouldBe(SubscriptionStatus.PastDue);
        pastDue.FailedAttempts.ShouldBe(2);
        pastDue.NextAttemptAt.ShouldBe(retry);

        // Reordered: attempt 1's failure arrives after attempt 2's; replayed: the same event twice; a late paid period again.
        (await DeliverAsync(processor, Invoice("evt_3a", "invoice.payment_failed", s.Id, "in_3", 3000, attempt: 1, next: Now))).Outcome.ShouldBe(WebhookOutcome.Ignored);
        (await DeliverAsync(processor, Invoice("evt_3b", "invoice.payment_failed", s.Id, "in_3", 3000, attempt: 2, next: retry))).Outcome.ShouldBe(WebhookOutcome.Duplicate);
        (await DeliverAsync(processor, Invoice("evt_2_again", "invoice.paid", s.Id, "in_2", 3000))).Outcome.ShouldBe(WebhookOutcome.Ignored);
        (await subscriptions.FindAsync(s.Id)).ShouldBe(pastDue);

        await DeliverAsync(processor, Invoice("evt_3c", "invoice.payment_failed", s.Id, "in_3", 3000, attempt: 3, next: null));
        Subscription ended = (await subscriptions.FindAsync(s.Id))!;
        ended.Status.ShouldBe(SubscriptionStatus.Ended);
        ended.EndReason.ShouldBe(SubscriptionEndReason.PaymentFailed);
        await DeliverAsync(processor, Deleted("evt_4", s.Id));
        (await subscriptions.FindAsync(s.Id)).ShouldBe(ended);

        IReadOnlyList<string> types = [.. (await log.ReadAsync(0, 1000))
            .Select(e => e.Event.EventType).Where(t => t.StartsWith("subscription_", StringComparison.Ordinal))];
        types.ShouldBe(
        [
            SubscriptionEventTypes.SubscriptionStarted, SubscriptionEventTypes.SubscriptionTrialConverted, SubscriptionEventTypes.SubscriptionRenewed,
            SubscriptionEventTypes.SubscriptionPaymentFailed, SubscriptionEventTypes.SubscriptionPaymentFailed, SubscriptionEventTypes.SubscriptionEnded,
        ]);
        server.Requests.Count.ShouldBe(3, "the webhooks asked Stripe nothing");
    }

    [Fact]
    public async Task Webhooks_SubscriptionDeletedAtStripe_EndsTheTrial()
    {
        using ServiceProvider provider = Build();
        SubscriptionService subscriptions = provider.GetRequiredService<SubscriptionService>();
        Subscription s = await StartAsync(provider, Monthly);

        await DeliverAsync(provider.GetRequiredService<WebhookProcessor>(), Deleted("evt_del", s.Id));

        Subscription ended = (await subscriptions.FindAsync(s.Id))!;
        ended.Status.ShouldBe(SubscriptionStatus.Ended);
        ended.EndReason.ShouldBe(SubscriptionEndReason.TrialLapsed);
    }

    [Fact]
    public async Task StartAsync_StripeDown_ThrowsTransientAndStoresNothing()
    {
        using ServiceProvider provider = Build();
        server.GoDown();

        PaymentGatewayException error = await Should.ThrowAsync<PaymentGatewayException>(() => provider.GetRequiredService<SubscriptionService>()
            .StartAsync(new SubscriptionRequest { Lead = LeadId.New(), Offer = Pro, BuyerZone = DateTimeZone.Utc, PaymentMethod = "pm_card_visa", Customer = "cus_9" }));

        error.IsTransient.ShouldBeTrue();
        (await provider.GetRequiredService<ISubscriptionStore>().FindDueAsync(Now + Duration.FromDays(400), 10)).ShouldBeEmpty();
    }

    [Fact]
    public async Task StartAsync_FirstPaymentDeclined_ReturnsDeclinedAndStoresNothing()
    {
        using ServiceProvider provider = Build();
        server.Respond = r => r.Path == "/v1/subscriptions"
            ? (402, """{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}""")
            : Stripe(r);
        var lead = LeadId.New();

        SubscriptionResult result = await provider.GetRequiredService<SubscriptionService>()
            .StartAsync(new SubscriptionRequest { Lead = lead, Offer = Pro, BuyerZone = DateTimeZone.Utc, PaymentMethod = "pm_card_visa" });

        result.Outcome.ShouldBe(SubscriptionOutcome.Declined);
        result.DeclineCode.ShouldBe("insufficient_funds");
        (await provider.GetRequiredService<SubscriptionService>().ListAsync(lead)).ShouldBeEmpty();
    }

    [Fact]
    public void AddFunnelStripeBilling_WithoutProductOrStripeKey_FailsValidationNamingThem()
    {
        using ServiceProvider provider = new ServiceCollection().AddFunnelStripeBilling(_ => { }).BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<StripeBillingOptions>>().Value);

        error.Message.ShouldContain("ApiKey");
        error.Message.ShouldContain("Product");
    }

    private ServiceProvider Build() => new ServiceCollection()
        .AddSingleton<IClock>(new FakeClock(Now))
        .AddSingleton(Catalogue)
        .AddSingleton(new OfferPath { Entry = Pro })
        .AddSingleton<IEntitlementGrantor>(new Grantor())
        .AddFunnelStripeBilling(o => o.Product = Product)
        .AddFunnelStripe(o =>
        {
            o.ApiKey = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
            o.WebhookSecrets.Add(Secret);
            o.ApiBase = server.BaseAddress;
            o.MaxNetworkRetries = 0;
        })
        .AddFunnelSubscriptions()
        .BuildServiceProvider();

    private static async Task<Subscription> StartAsync(ServiceProvider provider, OfferId offer)
    {
        SubscriptionResult result = await provider.GetRequiredService<SubscriptionService>().StartAsync(new SubscriptionRequest
        {
            Lead = LeadId.New(), Offer = offer, BuyerZone = DateTimeZone.Utc, PaymentMethod = "pm_card_visa",
        });
        result.Outcome.ShouldBe(SubscriptionOutcome.Succeeded, result.Reason ?? result.DeclineCode);
        return result.Subscription!;
    }

    private static (int Status, string Json) Stripe(RecordedRequest r) => (r.Method, r.Path) switch
    {
        ("POST", "/v1/customers") => (200, """{"id":"cus_1","object":"customer","metadata":{}}"""),
        ("POST", "/v1/payment_methods/pm_card_visa/attach") => (200, """{"id":"pm_card_visa","object":"payment_method","customer":"cus_1","type":"card"}"""),
        ("POST", "/v1/subscriptions") => (200, r.Parameters.ContainsKey("trial_end")
            ? Subscription("trialing", """{"id":"in_0","object":"invoice","status":"paid","amount_paid":0,"currency":"usd","billing_reason":"subscription_create"}""")
            : Subscription("active", """{"id":"in_first","object":"invoice","status":"paid","amount_paid":9000,"currency":"usd","billing_reason":"subscription_create"}""")),
        ("POST", "/v1/subscriptions/sub_1") => (200, Subscription("active",
            """{"id":"in_prorate","object":"invoice","status":"paid","amount_paid":1000,"currency":"usd","billing_reason":"subscription_update"}""")),
        ("GET", "/v1/subscriptions/sub_1") => (200, Subscription("active", "\"in_first\"")),
        ("DELETE", "/v1/subscriptions/sub_1") => (200, Subscription("canceled", "\"in_first\"")),
        _ => (404, """{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such object."}}"""),
    };

    private static string Subscription(string status, string latestInvoice) =>
        """{"id":"sub_1","object":"subscription","customer":"cus_1","status":"STATUS","metadata":{},"latest_invoice":INVOICE,"""
        .Replace("STATUS", status, StringComparison.Ordinal).Replace("INVOICE", latestInvoice, StringComparison.Ordinal)
        + "\"items\":{\"object\":\"list\",\"data\":[{\"id\":\"si_1\",\"object\":\"subscription_item\",\"quantity\":1}]}}";

    private static string Invoice(string eventId, string type, SubscriptionId subscription, string invoice, long amount,
        string reason = "subscription_cycle", int attempt = 1, Instant? next = null) =>
        $$$"""
        {"id":"{{{eventId}}}","object":"event","created":{{{Now.ToUnixTimeSeconds()}}},"type":"{{{type}}}","data":{"object":
        {"id":"{{{invoice}}}","object":"invoice","amount_paid":{{{(type == "invoice.paid" ? amount : 0)}}},"amount_due":{{{amount}}},"currency":"usd",
         "billing_reason":"{{{reason}}}","attempt_count":{{{attempt}}},"next_payment_attempt":{{{(next is { } n ? n.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) : "null")}}},
         "parent":{"type":"subscription_details","subscription_details":{"subscription":"sub_1","metadata":{"funnel_subscription":"{{{subscription}}}","funnel_lead":"x"
        """ + "}}}}}}";

    private static string Deleted(string eventId, SubscriptionId subscription) =>
        $$$"""
        {"id":"{{{eventId}}}","object":"event","created":{{{Now.ToUnixTimeSeconds()}}},"type":"customer.subscription.deleted","data":{"object":
        {"id":"sub_1","object":"subscription","status":"canceled","ended_at":{{{Now.ToUnixTimeSeconds()}}},"metadata":{"funnel_subscription":"{{{subscription}}}"
        """ + "}}}}";

    private static Task<WebhookResult> DeliverAsync(WebhookProcessor processor, string body) =>
        processor.ProcessAsync(Encoding.UTF8.GetBytes(body), new Dictionary<string, string> { ["Stripe-Signature"] = Header(body) });

    private static string Header(string body)
    {
        long t = Now.ToUnixTimeSeconds();
        byte[] mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(t.ToString(CultureInfo.InvariantCulture) + "." + body));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }
}
