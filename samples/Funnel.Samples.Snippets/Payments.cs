using System.Collections.Immutable;
using Funnel.Offers;
using Funnel.Payments;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/payments.md.</summary>
internal static class PaymentSnippets
{
    public static async Task PayAsync(
        OrderService orderService, PriceBook priceBook, IPaymentGateway gateway, IClock clock, Order order, DateTimeZone buyerZone)
    {
        // <snippet:payments-service>
        var payments = new PaymentService(orderService, priceBook, gateway, DunningPolicy.Default, clock);

        PaymentAttempt paid = await payments.PayAsync(order.Id, paymentMethod: "pm_…");   // one charge, or the plan
        PaymentAttempt upsell = await payments.AcceptUpsellAsync(order.Id, "masterclass-premium", buyerZone); // saved method
        OrderResult refund = await payments.RefundAsync(order.Id, Money.FromMajor(180m, Currency.USD));
        await payments.CancelPlanAsync(order.Id);
        ImmutableArray<PaymentAttempt> retried = await payments.RetryFailedInstallmentsAsync(order.Id); // dunning job
        // </snippet:payments-service>
    }

    public static DunningPolicy Dunning()
    {
        // <snippet:payments-dunning>
        var policy = new DunningPolicy
        {
            RetryAfter = [Duration.FromDays(3), Duration.FromDays(5), Duration.FromDays(7)], // after each failure
            FailuresBeforePause = 1,                                                       // pause at the first failure
        };
        // </snippet:payments-dunning>
        return policy;
    }

    public static async Task<int> WebhookAsync(
        IWebhookSignatureVerifier verifier, PaymentService payments, IClock clock,
        ReadOnlyMemory<byte> bodyBytes, IReadOnlyDictionary<string, string> headers)
    {
        // <snippet:payments-webhooks>
        var processor = new WebhookProcessor(verifier, new InMemoryWebhookEventStore(), payments, clock);

        // In your HTTP endpoint: the raw body bytes, exactly as received, and the headers.
        WebhookResult result = await processor.ProcessAsync(bodyBytes, headers);
        // result.Events are already in the IFunnelEventLog: nothing to record.
        return result.Outcome == WebhookOutcome.Rejected ? 400 : 200;
        // </snippet:payments-webhooks>
    }

#pragma warning disable CA1715 // the type parameter stands for the reader's own class, named as in the doc
    public static void Register<CoursePlatformGrantor>(
        IServiceCollection services, Catalogue catalogue, OfferPath offerPath, IConfiguration cfg)
        where CoursePlatformGrantor : class, IEntitlementGrantor
#pragma warning restore CA1715
    {
        // <snippet:payments-register>
        services.AddSingleton(catalogue).AddSingleton(offerPath).AddSingleton<IEntitlementGrantor, CoursePlatformGrantor>();
        services.AddFunnelStripe(o => o.ApiKey = cfg["Stripe:ApiKey"]!);   // the IPaymentGateway and IWebhookSignatureVerifier
        services.AddFunnelWebhookProcessor("stripe");                        // worker service; a web app calls AddFunnelPaymentWebhooks("stripe")
        services.AddFunnelHosting();                                         // runs the pipeline and the jobs
        // </snippet:payments-register>
    }

    public static void RegisterStripe(IServiceCollection services, IConfiguration cfg)
    {
        // <snippet:payments-stripe>
        services.AddFunnelCommerce();   // AddFunnelStripe calls it too
        services.AddFunnelStripe(o =>
        {
            o.ApiKey = cfg["Stripe:ApiKey"];                  // sk_… or rk_…
            o.WebhookSecrets.Add(cfg["Stripe:WebhookSecret"]!); // whsec_…; add the new one too while rotating
            o.PlanProduct = "prod_…";                          // the product installment prices belong to
        });
        // </snippet:payments-stripe>
    }
}
