using Funnel.Events;

namespace Funnel.Offers;

/// <summary>A buyer accepted a one-click upsell (or a downsell after a declined upsell), charged to the payment method on file.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(OfferEventTypes.UpsellAccepted)]
public sealed record UpsellAccepted : LeadEvent
{
    /// <summary>Gets the order whose purchase the upsell followed.</summary>
    public required OrderId ParentOrder { get; init; }

    /// <summary>Gets the new order for the upsell.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the upsell (or downsell) offer.</summary>
    public required OfferId Offer { get; init; }

    /// <inheritdoc/>
    public override string EventType => OfferEventTypes.UpsellAccepted;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>A buyer declined a post-purchase upsell (or downsell).</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(OfferEventTypes.UpsellDeclined)]
public sealed record UpsellDeclined : LeadEvent
{
    /// <summary>Gets the order whose purchase the upsell followed.</summary>
    public required OrderId ParentOrder { get; init; }

    /// <summary>Gets the declined offer.</summary>
    public required OfferId Offer { get; init; }

    /// <inheritdoc/>
    public override string EventType => OfferEventTypes.UpsellDeclined;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>An order bump or cross-sell was bought together with an order's main offer.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(OfferEventTypes.AddOnAccepted)]
public sealed record AddOnAccepted : LeadEvent
{
    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the add-on offer.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets the add-on's role: <see cref="OfferRole.OrderBump"/> or <see cref="OfferRole.CrossSell"/>.</summary>
    public required OfferRole Role { get; init; }

    /// <summary>Gets what the add-on line costs after discounts.</summary>
    public required Money Amount { get; init; }

    /// <inheritdoc/>
    public override string EventType => OfferEventTypes.AddOnAccepted;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>Access to a product was granted for an order.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(OfferEventTypes.EntitlementGranted)]
public sealed record EntitlementGranted : LeadEvent
{
    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the product key.</summary>
    public required string Product { get; init; }

    /// <inheritdoc/>
    public override string EventType => OfferEventTypes.EntitlementGranted;

    /// <inheritdoc/>
    /// <value>The <see cref="Product"/> key.</value>
    public override string? Subject => Product;
}

/// <summary>Access to a product was revoked, after a refund.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(OfferEventTypes.EntitlementRevoked)]
public sealed record EntitlementRevoked : LeadEvent
{
    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the product key.</summary>
    public required string Product { get; init; }

    /// <inheritdoc/>
    public override string EventType => OfferEventTypes.EntitlementRevoked;

    /// <inheritdoc/>
    /// <value>The <see cref="Product"/> key.</value>
    public override string? Subject => Product;
}
