namespace Funnel.Offers;

/// <summary>The <see cref="Events.FunnelEvent.EventType"/> names of the offer and checkout events (Funnel.Commerce).</summary>
/// <remarks>These names are part of the stored format: they never change once released.</remarks>
/// <threadsafety>This type holds constants only.</threadsafety>
public static class OfferEventTypes
{
    /// <summary>A one-click upsell was accepted (<see cref="Funnel.Offers.UpsellAccepted"/>).</summary>
    public const string UpsellAccepted = "upsell_accepted";

    /// <summary>A post-purchase upsell was declined (<see cref="Funnel.Offers.UpsellDeclined"/>).</summary>
    public const string UpsellDeclined = "upsell_declined";

    /// <summary>An order bump or cross-sell was bought with an order (<see cref="Funnel.Offers.AddOnAccepted"/>).</summary>
    public const string AddOnAccepted = "add_on_accepted";

    /// <summary>Access to a product was granted (<see cref="Funnel.Offers.EntitlementGranted"/>).</summary>
    public const string EntitlementGranted = "entitlement_granted";

    /// <summary>Access to a product was revoked (<see cref="Funnel.Offers.EntitlementRevoked"/>).</summary>
    public const string EntitlementRevoked = "entitlement_revoked";
}
