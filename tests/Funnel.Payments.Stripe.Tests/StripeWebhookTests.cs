using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Payments.Stripe.Tests;

public sealed class StripeWebhookTests
{
    private const string Secret = "whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH";
    private const string OldSecret = "whsec_old0000000000000000000000000000000";
    private static readonly Instant Now = Instant.FromUtc(2026, 10, 5, 14, 0);
    private static readonly OrderId Order = new(Guid.Parse("0192a3b4-c5d6-7e8f-9012-3456789abcde"));

    private static readonly string InvoicePaid = Fill("""
        {"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","api_version":"2025-09-30.clover","created":__CREATED__,"type":"invoice.paid",
         "data":{"object":{"id":"in_1MtHbELkdIwHu7ixl4OzzPMv","object":"invoice","amount_due":18000,"amount_paid":18000,"currency":"usd","status":"paid",
          "parent":{"type":"subscription_details","subscription_details":{"subscription":"sub_1Mr3YcLkdIwHu7ixJ9zp2Qgq",
           "metadata":{"funnel_order":"__ORDER__","funnel_installment":"2"}}}}}}
        """);

    [Fact]
    public async Task VerifyAsync_DocumentedSignature_AcceptsAndMapsInvoicePaid()
    {
        WebhookVerification result = await Verifier().VerifyAsync(Request(InvoicePaid, Header(InvoicePaid, Now, Secret)));

        result.Rejection.ShouldBeNull(result.Message);
        result.EventId.ShouldBe("evt_1NG8Du2eZvKYlo2CUI79vXWy");
        PaymentNotification notification = result.Notification.ShouldNotBeNull();
        notification.Kind.ShouldBe(PaymentNotificationKind.PaymentSucceeded);
        notification.Order.ShouldBe(Order);
        notification.PaymentId.ShouldBe("in_1MtHbELkdIwHu7ixl4OzzPMv");
        notification.Installment.ShouldBe(2);
        notification.Amount.ShouldBe(Money.FromMajor(180m, Currency.USD));
        notification.OccurredAt.ShouldBe(Now);
    }

    [Fact]
    public async Task VerifyAsync_TimestampOlderThanTolerance_RejectsAsExpired()
    {
        WebhookVerification result = await Verifier().VerifyAsync(Request(InvoicePaid, Header(InvoicePaid, Now - Duration.FromSeconds(301), Secret)));

        result.Rejection.ShouldBe(WebhookRejection.TimestampOutsideTolerance);
    }

    [Fact]
    public async Task VerifyAsync_TimestampBeyondAnyInstant_RejectsAsOutsideTolerance()
    {
        const long t = 99_999_999_999_999;
        string header = $"t={t},v1={Sign(t, InvoicePaid, Secret)}";

        WebhookVerification result = await Verifier().VerifyAsync(Request(InvoicePaid, header));

        result.Rejection.ShouldBe(WebhookRejection.TimestampOutsideTolerance);
        result.Message!.ShouldContain("t=99999999999999");
    }

    [Fact]
    public async Task VerifyAsync_TimestampJustInsideTolerance_Accepts()
    {
        WebhookVerification result = await Verifier().VerifyAsync(Request(InvoicePaid, Header(InvoicePaid, Now - Duration.FromSeconds(299), Secret)));

        result.Rejection.ShouldBeNull(result.Message);
    }

    [Fact]
    public async Task VerifyAsync_TamperedBody_RejectsAsMismatch()
    {
        string header = Header(InvoicePaid, Now, Secret);

        WebhookVerification result = await Verifier().VerifyAsync(Request(InvoicePaid.Replace("18000", "1800", StringComparison.Ordinal), header));

        result.Rejection.ShouldBe(WebhookRejection.SignatureMismatch);
    }

    [Fact]
    public async Task VerifyAsync_SignedWithAnotherSecret_RejectsAsMismatch()
    {
        WebhookVerification result = await Verifier().VerifyAsync(Request(InvoicePaid, Header(InvoicePaid, Now, "whsec_attacker")));

        result.Rejection.ShouldBe(WebhookRejection.SignatureMismatch);
    }

    [Fact]
    public async Task VerifyAsync_RotationHeaderWithOldAndNewSignatures_AcceptsWithTheNewSecretOnly()
    {
        long t = Now.ToUnixTimeSeconds();
        string header = $"t={t},v1={Sign(t, InvoicePaid, OldSecret)},v1={Sign(t, InvoicePaid, Secret)},v0={new string('0', 64)}";

        WebhookVerification result = await Verifier().VerifyAsync(Request(InvoicePaid, header));

        result.Rejection.ShouldBeNull(result.Message);
    }

    [Fact]
    public async Task VerifyAsync_SignedWithOldSecretWhileBothConfigured_Accepts()
    {
        WebhookVerification result = await Verifier(Secret, OldSecret).VerifyAsync(Request(InvoicePaid, Header(InvoicePaid, Now, OldSecret)));

        result.Rejection.ShouldBeNull(result.Message);
    }

    [Theory]
    [InlineData("\"funnel_installment\":\"2\"", "\"funnel_installment\":\"99999999999999999999\"", "funnel_installment")]
    [InlineData("\"funnel_installment\":\"2\"", "\"funnel_installment\":\"0\"", "funnel_installment")]
    [InlineData("\"funnel_order\":\"" + "0192a3b4-c5d6-7e8f-9012-3456789abcde" + "\"", "\"funnel_order\":\"not-an-order\"", "invoice.paid")]
    [InlineData("\"amount_paid\":18000", "\"amount_paid\":1e400", "invoice.paid")]
    public async Task VerifyAsync_SignedEventWithUnreadableMetadata_IsAcceptedAsUnprocessableWithTheReason(string from, string to, string reasonMentions)
    {
        string body = InvoicePaid.Replace(from, to, StringComparison.Ordinal);
        body.ShouldNotBe(InvoicePaid);

        WebhookVerification result = await Verifier().VerifyAsync(Request(body, Header(body, Now, Secret)));

        result.Rejection.ShouldBeNull(result.Message);
        result.EventId.ShouldBe("evt_1NG8Du2eZvKYlo2CUI79vXWy");
        result.Notification.ShouldBeNull();
        result.Unprocessable.ShouldNotBeNull().ShouldContain(reasonMentions);
    }

    [Theory]
    [InlineData(null, WebhookRejection.MissingSignature)]
    [InlineData("v1=abc", WebhookRejection.MalformedSignature)]
    [InlineData("t=1759672800", WebhookRejection.MalformedSignature)]
    public async Task VerifyAsync_BadHeader_RejectsWithReason(string? header, WebhookRejection rejection)
    {
        WebhookVerification result = await Verifier().VerifyAsync(Request(InvoicePaid, header));

        result.Rejection.ShouldBe(rejection);
        result.Message.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task VerifyAsync_RefundOfInstallment_MapsToTheInvoicePaymentId()
    {
        string body = Fill("""
            {"id":"evt_3","object":"event","created":__CREATED__,"type":"refund.created",
             "data":{"object":{"id":"re_1Nispe2eZvKYlo2Cd31jOCgZ","object":"refund","amount":5000,"currency":"usd","payment_intent":"pi_3MtwBwLkdIwHu7ix28a3tqPa",
              "status":"succeeded","metadata":{"funnel_order":"__ORDER__","funnel_payment":"in_1MtHbELkdIwHu7ixl4OzzPMv"}}}}
            """);

        PaymentNotification notification = (await Verifier().VerifyAsync(Request(body, Header(body, Now, Secret)))).Notification.ShouldNotBeNull();

        notification.Kind.ShouldBe(PaymentNotificationKind.Refunded);
        notification.PaymentId.ShouldBe("in_1MtHbELkdIwHu7ixl4OzzPMv");
        notification.AdjustmentId.ShouldBe("re_1Nispe2eZvKYlo2Cd31jOCgZ");
        notification.Amount.ShouldBe(Money.FromMajor(50m, Currency.USD));
    }

    [Fact]
    public async Task VerifyAsync_PaymentFailed_MapsDeclineCode()
    {
        string body = Fill("""
            {"id":"evt_4","object":"event","created":__CREATED__,"type":"payment_intent.payment_failed",
             "data":{"object":{"id":"pi_1","object":"payment_intent","amount":49700,"currency":"usd","status":"requires_payment_method",
              "last_payment_error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds"},"metadata":{"funnel_order":"__ORDER__"}}}}
            """);

        PaymentNotification notification = (await Verifier().VerifyAsync(Request(body, Header(body, Now, Secret)))).Notification.ShouldNotBeNull();

        notification.Kind.ShouldBe(PaymentNotificationKind.PaymentFailed);
        notification.Reason.ShouldBe("insufficient_funds");
        notification.Installment.ShouldBeNull();
    }

    [Fact]
    public async Task VerifyAsync_EventNotAboutOurOrders_AcceptsWithoutNotification()
    {
        string body = Fill("""{"id":"evt_5","object":"event","created":__CREATED__,"type":"customer.created","data":{"object":{"id":"cus_1","object":"customer"}}}""");

        WebhookVerification result = await Verifier().VerifyAsync(Request(body, Header(body, Now, Secret)));

        result.Rejection.ShouldBeNull();
        result.EventType.ShouldBe("customer.created");
        result.Notification.ShouldBeNull();
    }

    [Fact]
    public void AddFunnelStripe_PublishableKey_FailsValidationNamingApiKey()
    {
        using ServiceProvider provider = new ServiceCollection().AddFunnelStripe(o => o.ApiKey = "pk_test_123").BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FunnelStripeOptions>>().Value);

        error.Message.ShouldContain("ApiKey");
        error.Message.ShouldContain("WebhookSecrets");
    }

    [Theory]
    [InlineData("whsec_")]
    [InlineData("whsec_short")]
    [InlineData("whsec_5WbX5kEWLlfz sGNjH64I8lOOqUB6e8FH")]
    public void AddFunnelStripe_WebhookSecretOnlyPrefixOrBroken_FailsValidationNamingWebhookSecrets(string secret)
    {
        using ServiceProvider provider = new ServiceCollection().AddFunnelStripe(o =>
        {
            o.ApiKey = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
            o.WebhookSecrets.Add(secret);
        }).BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FunnelStripeOptions>>().Value);

        error.Message.ShouldContain("WebhookSecrets[0]");
        error.Message.ShouldContain("whole webhook signing secret");
    }

    [Fact]
    public void AddFunnelStripe_CalledTwice_RegistersOnce()
    {
        var services = new ServiceCollection();

        services.AddFunnelStripe(o => o.ApiKey = "sk_test_1").AddFunnelStripe(o => o.WebhookSecrets.Add(Secret));

        services.Count(d => d.ServiceType == typeof(IPaymentGateway)).ShouldBe(1);
        services.BuildServiceProvider().GetRequiredService<IOptions<FunnelStripeOptions>>().Value.WebhookSecrets.ShouldBe([Secret]);
    }

    private static string Fill(string json) =>
        json.Replace("__CREATED__", Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("__ORDER__", Order.ToString(), StringComparison.Ordinal);

    /// <summary>Stripe's documented scheme, written here independently of the code under test.</summary>
    private static string Sign(long timestamp, string body, string secret) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + "." + body)));

    private static string Header(string body, Instant at, string secret) => $"t={at.ToUnixTimeSeconds()},v1={Sign(at.ToUnixTimeSeconds(), body, secret)}";

    private static WebhookRequest Request(string body, string? header) => new(
        Encoding.UTF8.GetBytes(body),
        header is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["stripe-signature"] = header });

    private static IWebhookSignatureVerifier Verifier(params string[] secrets)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(new FakeClock(Now));
        services.AddFunnelStripe(o =>
        {
            o.ApiKey = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
            foreach (string s in secrets.Length == 0 ? [Secret] : secrets)
            {
                o.WebhookSecrets.Add(s);
            }
        });
        return services.BuildServiceProvider().GetRequiredService<IWebhookSignatureVerifier>();
    }
}
