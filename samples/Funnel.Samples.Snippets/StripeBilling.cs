using Funnel.Subscriptions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of the "Billing with Stripe" section of docs/subscriptions.md.</summary>
internal static class StripeBillingSnippets
{
    public static IServiceCollection Register(IServiceCollection services, IConfiguration cfg)
    {
        // <snippet:stripe-billing-setup>
        services.AddFunnelSubscriptions();
        services.AddFunnelStripe(o =>
        {
            o.ApiKey = cfg["Stripe:ApiKey"];
            o.WebhookSecrets.Add(cfg["Stripe:WebhookSecret"]!);
        });
        services.AddFunnelStripeBilling(o =>
        {
            o.Product = cfg["Stripe:MembershipProduct"];                      // prod_…: the prices' product
            o.OfferProducts["membership-pro"] = cfg["Stripe:ProProduct"]!;     // optional, per offer
        });
        // </snippet:stripe-billing-setup>
        return services;
    }

    public static async Task<SubscriptionResult> StartAsync(SubscriptionService subscriptions, LeadId lead, NodaTime.DateTimeZone zone)
    {
        // <snippet:stripe-billing-start>
        SubscriptionResult started = await subscriptions.StartAsync(new SubscriptionRequest
        {
            Lead = lead,
            Offer = "membership",
            BuyerZone = zone,
            PaymentMethod = "pm_…",       // from Stripe Elements (a SetupIntent)
        });
        // started.Subscription.ProviderSubscriptionId is Stripe's "sub_…"; Stripe bills every period from now on.
        // </snippet:stripe-billing-start>
        return started;
    }
}
