using Funnel.Definitions;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Samples.EbookMasterclass;

namespace Funnel.Samples.WebShop;

/// <summary>The shop's lead magnet and the funnel its admin report measures.</summary>
public static class ShopFunnel
{
    /// <summary>The blog post the journey starts on.</summary>
    public const string BlogPost = "/blog/write-a-best-selling-ebook-in-30-days";

    /// <summary>The free guide offered on the blog, with double opt-in.</summary>
    public static LeadMagnet Guide { get; } = new()
    {
        Key = "quick-start-guide",
        Title = "The E-Book Quick-Start Guide",
        Kind = LeadMagnetKind.Guide,
        DoubleOptIn = true,
        ConsentText = "Send me the free guide and the Masterclass emails. Unsubscribe any time.",
    };

    /// <summary>Blog visitors → guide downloads → sales-page visitors → checkouts → purchases of the Basic Masterclass.</summary>
    public static FunnelDefinition Definition { get; } = FunnelBuilder.Create("webshop", "The E-Book Masterclass web shop")
        .WithDefaultStages()
        .AddStep("website-visit", "Blog visitors", DefaultStages.Awareness.Key, StepKind.Content, EventMatch.For(EventTypes.PageViewed, "/blog/*"))
        .AddStep("guide-download", "Guide downloads", DefaultStages.Interest.Key, StepKind.OptIn, EventMatch.For(EventTypes.OptedIn, Guide.Key))
        .AddStep("sales-page", "Sales page visitors", DefaultStages.Decision.Key, StepKind.SalesPage, EventMatch.For(EventTypes.SalesPageVisited, OfferPathCatalogue.Basic.Value))
        .AddStep("checkout", "Checkouts", DefaultStages.Action.Key, StepKind.Checkout, EventMatch.For(EventTypes.CheckoutStarted, OfferPathCatalogue.Basic.Value))
        .AddStep("purchase", "Purchases", DefaultStages.Action.Key, StepKind.Purchase, EventMatch.For(EventTypes.OrderPlaced, OfferPathCatalogue.Basic.Value))
        .Build();
}
