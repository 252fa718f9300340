namespace Funnel.Definitions;

/// <summary>What kind of page or touch point a funnel step is.</summary>
/// <remarks>The kind documents intent and drives defaults in later engines; matching is done by <see cref="StepDefinition.Trigger"/>.</remarks>
public enum StepKind
{
    /// <summary>A step that fits no other kind.</summary>
    Custom = 0,

    /// <summary>Content that builds awareness: a blog post, video or podcast page.</summary>
    Content = 1,

    /// <summary>A landing page that promotes a lead magnet.</summary>
    LandingPage = 2,

    /// <summary>The opt-in: a visitor becomes a lead.</summary>
    OptIn = 3,

    /// <summary>A thank-you or confirmation page.</summary>
    ThankYou = 4,

    /// <summary>A webinar registration or attendance.</summary>
    Webinar = 5,

    /// <summary>The sales page of an offer.</summary>
    SalesPage = 6,

    /// <summary>The checkout form.</summary>
    Checkout = 7,

    /// <summary>The purchase itself.</summary>
    Purchase = 8,

    /// <summary>A one-click upsell after the purchase.</summary>
    Upsell = 9,

    /// <summary>A downsell after a declined upsell or an exit from the sales page.</summary>
    Downsell = 10,

    /// <summary>Onboarding after the purchase.</summary>
    Onboarding = 11,

    /// <summary>Advocacy: a review, referral or affiliate sign-up.</summary>
    Advocacy = 12,
}
