using System.Collections.Immutable;
using Funnel.Offers;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Payments.Stripe.Tests;

public sealed class StripePaymentGatewayTests : IAsyncLifetime
{
    private static readonly OrderId Order = new(Guid.Parse("0192a3b4-c5d6-7e8f-9012-3456789abcde"));
    private static readonly LeadId Lead = new(Guid.Parse("11111111-2222-3333-4444-555555555555"));
    private FakeStripeServer server = null!;

    public async Task InitializeAsync() => server = await FakeStripeServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task ChargeAsync_NewCardSavedForLater_CreatesCustomerAndConfirmsIntentWithOrderKey()
    {
        server.Respond = r => r.Path switch
        {
            "/v1/customers" => (200, """{"id":"cus_NffrFeUfNV2Hib","object":"customer","metadata":{}}"""),
            "/v1/payment_intents" => (200, Intent("succeeded")),
            _ => (404, "{}"),
        };

        PaymentResult result = await Gateway().ChargeAsync(new ChargeRequest
        {
            Order = Order,
            Lead = Lead,
            Amount = Money.FromMajor(497m, Currency.USD),
            PaymentMethod = "pm_card_visa",
            SaveForLater = true,
            IdempotencyKey = IdempotencyKeys.ForOrder(Order),
        });

        result.Outcome.ShouldBe(PaymentOutcome.Succeeded);
        result.PaymentId.ShouldBe("pi_3MtwBwLkdIwHu7ix28a3tqPa");
        result.Customer.ShouldBe("cus_NffrFeUfNV2Hib");
        result.PaymentMethod.ShouldBe("pm_1MtwBwLkdIwHu7ixGHEiZAs8");
        RecordedRequest[] requests = [.. server.Requests];
        requests.Select(r => (r.Method, r.Path)).ShouldBe([("POST", "/v1/customers"), ("POST", "/v1/payment_intents")]);
        requests[0].IdempotencyKey.ShouldBe("order_0192a3b4c5d67e8f90123456789abcde_customer");
        requests[0].Parameters["metadata[funnel_lead]"].ShouldBe(Lead.ToString());
        RecordedRequest intent = requests[1];
        intent.IdempotencyKey.ShouldBe("order_0192a3b4c5d67e8f90123456789abcde");
        intent.Parameters["amount"].ShouldBe("49700");
        intent.Parameters["currency"].ShouldBe("usd");
        intent.Parameters["customer"].ShouldBe("cus_NffrFeUfNV2Hib");
        intent.Parameters["payment_method"].ShouldBe("pm_card_visa");
        intent.Parameters["confirm"].ShouldBe("true");
        intent.Parameters["setup_future_usage"].ShouldBe("off_session");
        intent.Parameters["automatic_payment_methods[allow_redirects]"].ShouldBe("never");
        intent.Parameters["metadata[funnel_order]"].ShouldBe(Order.ToString());
        intent.Parameters.ShouldNotContainKey("off_session");
    }

    [Fact]
    public async Task ChargeAsync_OneClickUpsell_ChargesSavedMethodOffSessionWithoutNewCustomer()
    {
        server.Respond = _ => (200, Intent("succeeded"));

        PaymentResult result = await Gateway().ChargeAsync(new ChargeRequest
        {
            Order = Order,
            Lead = Lead,
            Amount = Money.FromMajor(797m, Currency.USD),
            PaymentMethod = "pm_1MtwBwLkdIwHu7ixGHEiZAs8",
            Customer = "cus_NffrFeUfNV2Hib",
            OffSession = true,
            IdempotencyKey = IdempotencyKeys.ForOrder(Order),
        });

        result.Outcome.ShouldBe(PaymentOutcome.Succeeded);
        RecordedRequest intent = server.Requests.ShouldHaveSingleItem();
        intent.Path.ShouldBe("/v1/payment_intents");
        intent.Parameters["off_session"].ShouldBe("true");
        intent.Parameters["customer"].ShouldBe("cus_NffrFeUfNV2Hib");
        intent.Parameters["amount"].ShouldBe("79700");
        intent.Parameters.ShouldNotContainKey("setup_future_usage");
    }

    [Fact]
    public async Task ChargeAsync_ZeroDecimalCurrency_SendsMinorUnitsAndLowercaseCode()
    {
        server.Respond = _ => (200, Intent("succeeded"));

        await Gateway().ChargeAsync(new ChargeRequest
        {
            Order = Order, Lead = Lead, Amount = Money.FromMajor(4970m, Currency.FromCode("JPY")), PaymentMethod = "pm_card_visa", IdempotencyKey = "k",
        });

        RecordedRequest intent = server.Requests.ShouldHaveSingleItem();
        intent.Parameters["amount"].ShouldBe("4970");
        intent.Parameters["currency"].ShouldBe("jpy");
    }

    [Fact]
    public async Task ChargeAsync_CardError402_ReturnsDeclineWithCode()
    {
        server.Respond = _ => (402, """
            {"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds.",
             "payment_intent":{"id":"pi_3MtwBwLkdIwHu7ix28a3tqPa","object":"payment_intent","amount":49700,"currency":"usd","status":"requires_payment_method"}}}
            """);

        PaymentResult result = await Gateway().ChargeAsync(new ChargeRequest
        {
            Order = Order, Lead = Lead, Amount = Money.FromMajor(497m, Currency.USD), PaymentMethod = "pm_card_visa", IdempotencyKey = "k",
        });

        result.Outcome.ShouldBe(PaymentOutcome.Declined);
        result.DeclineCode.ShouldBe("insufficient_funds");
        result.PaymentId.ShouldBe("pi_3MtwBwLkdIwHu7ix28a3tqPa");
    }

    [Fact]
    public async Task ChargeAsync_RequiresAction_ReturnsClientSecret()
    {
        server.Respond = _ => (200, Intent("requires_action"));

        PaymentResult result = await Gateway().ChargeAsync(new ChargeRequest
        {
            Order = Order, Lead = Lead, Amount = Money.FromMajor(497m, Currency.USD), PaymentMethod = "pm_card_authenticationRequired", IdempotencyKey = "k",
        });

        result.Outcome.ShouldBe(PaymentOutcome.RequiresAction);
        result.ActionToken.ShouldBe("pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH");
    }

    [Fact]
    public async Task ChargeAsync_ServerError_ThrowsTransientGatewayException()
    {
        server.Respond = _ => (500, """{"error":{"type":"api_error","message":"Something went wrong on Stripe's end."}}""");

        PaymentGatewayException error = await Should.ThrowAsync<PaymentGatewayException>(() => Gateway().ChargeAsync(new ChargeRequest
        {
            Order = Order, Lead = Lead, Amount = Money.FromMajor(497m, Currency.USD), PaymentMethod = "pm_card_visa", IdempotencyKey = "order_x",
        }));

        error.IsTransient.ShouldBeTrue();
        error.Message.ShouldContain("order_x");
        server.Requests.Count.ShouldBe(1, "maxNetworkRetries is 0 in tests");
    }

    [Fact]
    public async Task StartPlanAsync_FirstInvoiceNotCollected_CancelsTheScheduleAndReportsADecline()
    {
        server.Respond = r => r.Path switch
        {
            "/v1/customers" => (200, """{"id":"cus_NffrFeUfNV2Hib","object":"customer","metadata":{}}"""),
            "/v1/payment_methods/pm_card_chargeDeclined/attach" => (200, """{"id":"pm_card_chargeDeclined","object":"payment_method","customer":"cus_NffrFeUfNV2Hib","type":"card"}"""),
            "/v1/subscription_schedules" => (200, """
                {"id":"sub_sched_1Mr3YcLkdIwHu7ixYCFhXHNb","object":"subscription_schedule","customer":"cus_NffrFeUfNV2Hib","end_behavior":"cancel","status":"active",
                 "subscription":{"id":"sub_1Mr3YcLkdIwHu7ixJ9zp2Qgq","object":"subscription","status":"incomplete",
                   "latest_invoice":{"id":"in_1MtHbELkdIwHu7ixl4OzzPMv","object":"invoice","status":"open","amount_paid":0,"currency":"usd"}},
                 "metadata":{},"phases":[]}
                """),
            "/v1/subscription_schedules/sub_sched_1Mr3YcLkdIwHu7ixYCFhXHNb/cancel" => (200, """{"id":"sub_sched_1Mr3YcLkdIwHu7ixYCFhXHNb","object":"subscription_schedule","status":"canceled","metadata":{},"phases":[]}"""),
            _ => (404, "{}"),
        };
        Instant now = Instant.FromUtc(2026, 10, 5, 14, 0);

        PaymentResult result = await Gateway().StartPlanAsync(new InstallmentPlanRequest
        {
            Order = Order,
            Lead = Lead,
            Installments = [new(1, now, Money.FromMajor(180m, Currency.USD)), new(2, now + Duration.FromDays(31), Money.FromMajor(180m, Currency.USD))],
            Interval = Period.FromMonths(1),
            PaymentMethod = "pm_card_chargeDeclined",
            IdempotencyKey = IdempotencyKeys.ForPlan(Order),
        });

        result.Outcome.ShouldBe(PaymentOutcome.Declined);
        result.DeclineCode.ShouldBe("first_installment_not_collected");
        result.PaymentId.ShouldBeNull();
        RecordedRequest cancel = server.Requests.Single(r => r.Path.EndsWith("/cancel", StringComparison.Ordinal));
        cancel.IdempotencyKey.ShouldBe("order_0192a3b4c5d67e8f90123456789abcde_plan_incomplete_cancel");
    }

    [Fact]
    public async Task StartPlanAsync_ThreeInstallments_CreatesScheduleWithOnePhasePerInstallmentThenCancel()
    {
        server.Respond = r => r.Path switch
        {
            "/v1/customers" => (200, """{"id":"cus_NffrFeUfNV2Hib","object":"customer","metadata":{}}"""),
            "/v1/payment_methods/pm_1MtwBwLkdIwHu7ixGHEiZAs8/attach" => (200, """{"id":"pm_1MtwBwLkdIwHu7ixGHEiZAs8","object":"payment_method","customer":"cus_NffrFeUfNV2Hib","type":"card"}"""),
            "/v1/subscription_schedules" => (200, """
                {"id":"sub_sched_1Mr3YcLkdIwHu7ixYCFhXHNb","object":"subscription_schedule","customer":"cus_NffrFeUfNV2Hib","end_behavior":"cancel","status":"active",
                 "subscription":{"id":"sub_1Mr3YcLkdIwHu7ixJ9zp2Qgq","object":"subscription","status":"active",
                   "latest_invoice":{"id":"in_1MtHbELkdIwHu7ixl4OzzPMv","object":"invoice","status":"paid","amount_paid":18000,"currency":"usd"}},
                 "metadata":{},"phases":[]}
                """),
            _ => (404, "{}"),
        };
        Instant now = Instant.FromUtc(2026, 10, 5, 14, 0);
        ImmutableArray<ScheduledCharge> installments =
        [
            new(1, now, Money.FromMajor(180m, Currency.USD)),
            new(2, now + Duration.FromDays(31), Money.FromMajor(180m, Currency.USD)),
            new(3, now + Duration.FromDays(61), Money.FromMajor(180m, Currency.USD)),
        ];

        PaymentResult result = await Gateway().StartPlanAsync(new InstallmentPlanRequest
        {
            Order = Order,
            Lead = Lead,
            Installments = installments,
            Interval = Period.FromMonths(1),
            PaymentMethod = "pm_1MtwBwLkdIwHu7ixGHEiZAs8",
            IdempotencyKey = IdempotencyKeys.ForPlan(Order),
        });

        result.Outcome.ShouldBe(PaymentOutcome.Succeeded);
        result.PlanId.ShouldBe("sub_sched_1Mr3YcLkdIwHu7ixYCFhXHNb");
        result.PaymentId.ShouldBe("in_1MtHbELkdIwHu7ixl4OzzPMv");
        RecordedRequest schedule = server.Requests.Single(r => r.Path == "/v1/subscription_schedules");
        schedule.IdempotencyKey.ShouldBe("order_0192a3b4c5d67e8f90123456789abcde_plan");
        IReadOnlyDictionary<string, string> p = schedule.Parameters;
        p["customer"].ShouldBe("cus_NffrFeUfNV2Hib");
        p["start_date"].ShouldBe("now");
        p["end_behavior"].ShouldBe("cancel");
        p["expand[0]"].ShouldBe("subscription.latest_invoice");
        p["default_settings[default_payment_method]"].ShouldBe("pm_1MtwBwLkdIwHu7ixGHEiZAs8");
        p.Keys.Count(k => k.EndsWith("[items][0][price_data][unit_amount]", StringComparison.Ordinal)).ShouldBe(3);
        p["phases[2][items][0][price_data][unit_amount]"].ShouldBe("18000");
        p["phases[2][items][0][price_data][currency]"].ShouldBe("usd");
        p["phases[2][items][0][price_data][product]"].ShouldBe("prod_NWjs8kKbJWmuuc");
        p["phases[2][items][0][price_data][recurring][interval]"].ShouldBe("month");
        p["phases[2][duration][interval]"].ShouldBe("month");
        p["phases[2][duration][interval_count]"].ShouldBe("1");
        p["phases[2][metadata][funnel_installment]"].ShouldBe("3");
        p["phases[0][metadata][funnel_order]"].ShouldBe(Order.ToString());
        server.Requests.Single(r => r.Path.EndsWith("/attach", StringComparison.Ordinal)).Parameters["customer"].ShouldBe("cus_NffrFeUfNV2Hib");
    }

    [Fact]
    public async Task RefundAsync_InstallmentInvoice_RefundsItsPaymentIntentAndRemembersTheInvoice()
    {
        server.Respond = r => r.Path switch
        {
            "/v1/invoice_payments" => (200, """
                {"object":"list","url":"/v1/invoice_payments","has_more":false,"data":[{"id":"inpay_1M3USa2eZvKYlo2CBjuwbq0N","object":"invoice_payment","amount_paid":18000,
                 "currency":"usd","invoice":"in_1MtHbELkdIwHu7ixl4OzzPMv","is_default":true,"status":"paid","payment":{"type":"payment_intent","payment_intent":"pi_3MtwBwLkdIwHu7ix28a3tqPa"}}]}
                """),
            "/v1/refunds" => (200, """{"id":"re_1Nispe2eZvKYlo2Cd31jOCgZ","object":"refund","amount":18000,"currency":"usd","payment_intent":"pi_3MtwBwLkdIwHu7ix28a3tqPa","status":"succeeded","metadata":{}}"""),
            _ => (404, "{}"),
        };

        RefundResult refund = await Gateway().RefundAsync(new RefundRequest
        {
            Order = Order, PaymentId = "in_1MtHbELkdIwHu7ixl4OzzPMv", Amount = Money.FromMajor(180m, Currency.USD), IdempotencyKey = IdempotencyKeys.ForRefund(Order, 1),
        });

        refund.ShouldBe(new RefundResult("re_1Nispe2eZvKYlo2Cd31jOCgZ", true));
        RecordedRequest[] requests = [.. server.Requests];
        requests[0].Method.ShouldBe("GET");
        requests[0].Parameters["invoice"].ShouldBe("in_1MtHbELkdIwHu7ixl4OzzPMv");
        requests[1].Path.ShouldBe("/v1/refunds");
        requests[1].IdempotencyKey.ShouldBe("order_0192a3b4c5d67e8f90123456789abcde_refund_1");
        requests[1].Parameters["payment_intent"].ShouldBe("pi_3MtwBwLkdIwHu7ix28a3tqPa");
        requests[1].Parameters["amount"].ShouldBe("18000");
        requests[1].Parameters["metadata[funnel_payment]"].ShouldBe("in_1MtHbELkdIwHu7ixl4OzzPMv");
    }

    [Fact]
    public async Task ChargeAsync_DunningRetryOfInstallment_PaysTheOpenInvoiceOffSession()
    {
        server.Respond = _ => (200, """{"id":"in_1MtHbELkdIwHu7ixl4OzzPMv","object":"invoice","status":"paid","amount_paid":18000,"currency":"usd"}""");

        PaymentResult result = await Gateway().ChargeAsync(new ChargeRequest
        {
            Order = Order,
            Lead = Lead,
            Amount = Money.FromMajor(180m, Currency.USD),
            PaymentMethod = "pm_1MtwBwLkdIwHu7ixGHEiZAs8",
            Customer = "cus_NffrFeUfNV2Hib",
            OffSession = true,
            Installment = 3,
            RetryOf = "in_1MtHbELkdIwHu7ixl4OzzPMv",
            IdempotencyKey = IdempotencyKeys.ForInstallment(Order, 3, 2),
        });

        result.Outcome.ShouldBe(PaymentOutcome.Succeeded);
        result.PaymentId.ShouldBe("in_1MtHbELkdIwHu7ixl4OzzPMv");
        RecordedRequest pay = server.Requests.ShouldHaveSingleItem();
        pay.Path.ShouldBe("/v1/invoices/in_1MtHbELkdIwHu7ixl4OzzPMv/pay");
        pay.IdempotencyKey.ShouldBe("order_0192a3b4c5d67e8f90123456789abcde_inst_3_try_2");
        pay.Parameters["off_session"].ShouldBe("true");
        pay.Parameters["payment_method"].ShouldBe("pm_1MtwBwLkdIwHu7ixGHEiZAs8");
    }

    [Fact]
    public async Task CancelPlanAsync_Plan_CancelsScheduleWithKey()
    {
        server.Respond = _ => (200, """{"id":"sub_sched_1Mr3YcLkdIwHu7ixYCFhXHNb","object":"subscription_schedule","status":"canceled","metadata":{},"phases":[]}""");

        await Gateway().CancelPlanAsync(new CancelPlanRequest(Order, "sub_sched_1Mr3YcLkdIwHu7ixYCFhXHNb", IdempotencyKeys.ForCancel(Order)));

        RecordedRequest cancel = server.Requests.ShouldHaveSingleItem();
        cancel.Path.ShouldBe("/v1/subscription_schedules/sub_sched_1Mr3YcLkdIwHu7ixYCFhXHNb/cancel");
        cancel.IdempotencyKey.ShouldBe("order_0192a3b4c5d67e8f90123456789abcde_cancel");
    }

    private static string Intent(string status) => $$$"""
        {"id":"pi_3MtwBwLkdIwHu7ix28a3tqPa","object":"payment_intent","amount":49700,"amount_received":49700,"currency":"usd",
         "client_secret":"pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH","customer":"cus_NffrFeUfNV2Hib",
         "payment_method":"pm_1MtwBwLkdIwHu7ixGHEiZAs8","status":"{{{status}}}","metadata":{}}
        """;

    private IPaymentGateway Gateway() => new ServiceCollection()
        .AddFunnelStripe(o =>
        {
            o.ApiKey = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
            o.WebhookSecrets.Add("whsec_test0000000000000000");
            o.ApiBase = server.BaseAddress;
            o.MaxNetworkRetries = 0;
            o.PlanProduct = "prod_NWjs8kKbJWmuuc";
        })
        .BuildServiceProvider()
        .GetRequiredService<IPaymentGateway>();
}
