using System.Collections.Immutable;
using Funnel.Tax;
using NodaTime;

namespace Funnel.Offers;

/// <summary>Where an order stands.</summary>
public enum OrderStatus
{
    /// <summary>Placed; no payment recorded yet, so nothing is granted.</summary>
    AwaitingPayment = 0,

    /// <summary>A payment was recorded (for a plan, the first installment) and the entitlements are granted.</summary>
    Paid = 1,

    /// <summary>Part of what was paid was refunded; the refunded lines' entitlements are revoked.</summary>
    PartiallyRefunded = 2,

    /// <summary>Everything paid was refunded and every entitlement revoked.</summary>
    Refunded = 3,
}

/// <summary>Where one installment (or the single charge) of an order stands.</summary>
public enum InstallmentStatus
{
    /// <summary>Not collected yet.</summary>
    Due = 0,

    /// <summary>Collected.</summary>
    Paid = 1,

    /// <summary>The last attempt to collect it failed; dunning retries it per the policy.</summary>
    Failed = 2,
}

/// <summary>One charge of an order's schedule and its state: the single charge of a one-time purchase, or one installment of a plan.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Installment
{
    /// <summary>Gets the 1-based number of the installment.</summary>
    public required int Number { get; init; }

    /// <summary>Gets when the installment falls due.</summary>
    public required Instant DueAt { get; init; }

    /// <summary>Gets the exact amount to collect.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets where the installment stands.</summary>
    /// <value>Defaults to <see cref="InstallmentStatus.Due"/>.</value>
    public InstallmentStatus Status { get; init; } = InstallmentStatus.Due;

    /// <summary>Gets the payment provider's id of the payment that collects this installment (such as a Stripe PaymentIntent or invoice id).</summary>
    /// <value><see langword="null"/> until the provider reports a payment for it.</value>
    public string? PaymentId { get; init; }

    /// <summary>Gets how many attempts to collect it failed.</summary>
    public int FailedAttempts { get; init; }

    /// <summary>Gets when the last attempt failed.</summary>
    public Instant? LastFailedAt { get; init; }

    /// <summary>Gets the provider's reason code of the last failure, such as <c>card_declined</c>.</summary>
    public string? DeclineCode { get; init; }

    /// <summary>Gets how much of this installment was refunded.</summary>
    /// <value><see langword="null"/> when nothing was refunded.</value>
    public Money? Refunded { get; init; }
}

/// <summary>Where a dispute (chargeback) on a payment stands.</summary>
public enum DisputeStatus
{
    /// <summary>Opened by the buyer's bank and not decided yet.</summary>
    Open = 0,

    /// <summary>Closed in the seller's favour: the disputed money came back.</summary>
    Won = 1,

    /// <summary>Closed in the buyer's favour: the disputed money stays with them.</summary>
    Lost = 2,
}

/// <summary>A dispute (chargeback) opened on one of an order's payments, and what it did to the order's access.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record OrderDispute
{
    /// <summary>Gets the provider's dispute id.</summary>
    public required string Id { get; init; }

    /// <summary>Gets the provider's id of the disputed payment.</summary>
    public required string PaymentId { get; init; }

    /// <summary>Gets the disputed amount.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets the provider's reason, such as <c>fraudulent</c>.</summary>
    public string? Reason { get; init; }

    /// <summary>Gets where the dispute stands.</summary>
    public DisputeStatus Status { get; init; } = DisputeStatus.Open;

    /// <summary>Gets what the dispute did to the order's access when it was opened (the policy then in force).</summary>
    public Payments.DisputeAccess Access { get; init; } = Payments.DisputeAccess.Pause;

    /// <summary>Gets when the dispute was opened at the provider.</summary>
    public required Instant OpenedAt { get; init; }

    /// <summary>Gets when the dispute was closed at the provider.</summary>
    /// <value><see langword="null"/> while <see cref="Status"/> is <see cref="DisputeStatus.Open"/>.</value>
    public Instant? ClosedAt { get; init; }
}

/// <summary>Access to one product for one lead, granted by an order.</summary>
/// <param name="Lead">The lead (customer).</param>
/// <param name="Order">The order that pays for it.</param>
/// <param name="Offer">The offer whose line includes the product.</param>
/// <param name="Product">The product key.</param>
/// <param name="Kind">The kind of product, which tells the grantor which platform to call.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct Entitlement(LeadId Lead, OrderId Order, OfferId Offer, string Product, ProductKind Kind);

/// <summary>Grants and revokes access to products on the platforms that deliver them (course platform, community, download links).</summary>
/// <remarks>
/// Both calls must be idempotent: a retry may repeat one. A call that throws leaves the entitlement pending on the
/// order (<see cref="Order.PendingGrants"/>, <see cref="Order.PendingRevocations"/>) for
/// <see cref="OrderService.RetryEntitlementsAsync"/>; nothing is lost.
/// </remarks>
public interface IEntitlementGrantor
{
    /// <summary>Gives the lead access to the product.</summary>
    /// <param name="entitlement">What to grant.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when access is granted.</returns>
    Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default);

    /// <summary>Takes the lead's access to the product away.</summary>
    /// <param name="entitlement">What to revoke.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when access is revoked.</returns>
    Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default);
}

/// <summary>One line of an order, priced as quoted.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record OrderLine
{
    /// <summary>Gets the offer.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets the offer's role, such as <see cref="OfferRole.OrderBump"/>.</summary>
    public required OfferRole Role { get; init; }

    /// <summary>Gets how many.</summary>
    public required int Quantity { get; init; }

    /// <summary>Gets the chosen payment plan's key, or <see langword="null"/> for the one-time price.</summary>
    public string? PaymentPlan { get; init; }

    /// <summary>Gets what the line costs after discounts.</summary>
    public required Money Total { get; init; }

    /// <summary>Gets the products the line grants, including limited-time bonuses earned before their deadline.</summary>
    public required ImmutableArray<string> Products { get; init; }
}

/// <summary>An order: the accepted quote, who placed it, and what has been paid, granted and refunded.</summary>
/// <remarks>Orders are immutable snapshots; <see cref="OrderService"/> saves each change as a new <see cref="Version"/>.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Order
{
    /// <summary>Gets the order id.</summary>
    public required OrderId Id { get; init; }

    /// <summary>Gets the buyer.</summary>
    public required LeadId Lead { get; init; }

    /// <summary>Gets when the order was placed.</summary>
    public required Instant PlacedAt { get; init; }

    /// <summary>Gets the lines; the first is the main offer.</summary>
    public required ImmutableArray<OrderLine> Lines { get; init; }

    /// <summary>Gets the order total after discounts, with the tax when prices exclude it.</summary>
    public required Money Total { get; init; }

    /// <summary>Gets the tax of the order: where it is taxed, the location evidence recorded for it, each line's tax and the totals.</summary>
    /// <value><see langword="null"/> when no tax was calculated.</value>
    public TaxBreakdown? Tax { get; init; }

    /// <summary>Gets the charges to collect, in time order, summing to <see cref="Total"/>.</summary>
    public required ImmutableArray<ScheduledCharge> Schedule { get; init; }

    /// <summary>Gets the coupon codes redeemed by this order.</summary>
    public ImmutableArray<string> Coupons { get; init; } = [];

    /// <summary>Gets the reference of the payment method on file (a token from the payment provider), for one-click upsells and later installments.</summary>
    public string? PaymentMethod { get; init; }

    /// <summary>Gets the order whose purchase this upsell followed, or <see langword="null"/> for an order from a checkout.</summary>
    public OrderId? UpsellOf { get; init; }

    /// <summary>Gets the seats this order holds on limited offers.</summary>
    public ImmutableArray<SeatReservation> Seats { get; init; } = [];

    /// <summary>Gets where the order stands.</summary>
    /// <value>Defaults to <see cref="OrderStatus.AwaitingPayment"/>.</value>
    public OrderStatus Status { get; init; } = OrderStatus.AwaitingPayment;

    /// <summary>Gets the sum of the payments recorded.</summary>
    public required Money Paid { get; init; }

    /// <summary>Gets the sum of the refunds issued.</summary>
    public required Money Refunded { get; init; }

    /// <summary>Gets the entitlements currently granted.</summary>
    public ImmutableArray<Entitlement> Entitlements { get; init; } = [];

    /// <summary>Gets the entitlements of <see cref="Entitlements"/> that the grantor has not yet confirmed granting.</summary>
    /// <remarks>A grant that failed stays here until <see cref="OrderService.RetryEntitlementsAsync"/> gets it through.</remarks>
    /// <value>Defaults to empty: every grant went through.</value>
    public ImmutableArray<Entitlement> PendingGrants { get; init; } = [];

    /// <summary>Gets entitlements taken back by a refund that the grantor has not yet confirmed revoking.</summary>
    /// <remarks>A revocation that failed stays here until <see cref="OrderService.RetryEntitlementsAsync"/> gets it through.</remarks>
    /// <value>Defaults to empty: every revocation went through.</value>
    public ImmutableArray<Entitlement> PendingRevocations { get; init; } = [];

    /// <summary>Gets whether a grant or revocation is still waiting for the grantor.</summary>
    public bool HasPendingEntitlements => !PendingGrants.IsDefaultOrEmpty || !PendingRevocations.IsDefaultOrEmpty;

    /// <summary>Gets the state of each charge of <see cref="Schedule"/>, in the same order.</summary>
    /// <value>One <see cref="Installment"/> per scheduled charge, all <see cref="InstallmentStatus.Due"/> when placed.</value>
    public ImmutableArray<Installment> Installments { get; init; } = [];

    /// <summary>Gets the payment provider's customer reference that holds the saved payment method.</summary>
    public string? Customer { get; init; }

    /// <summary>Gets the payment provider's id of the installment plan (such as a Stripe subscription schedule).</summary>
    public string? PlanId { get; init; }

    /// <summary>Gets how many attempts at the first payment were declined or left unauthenticated.</summary>
    /// <remarks>Each new attempt, such as with another card, uses a fresh idempotency key
    /// (<see cref="Payments.IdempotencyKeys.ForPayment"/>), so the provider does not answer it with the earlier decline.</remarks>
    public int FailedPaymentAttempts { get; init; }

    /// <summary>Gets whether access is paused because an installment could not be collected (dunning) or a payment is disputed.</summary>
    /// <remarks>Paused access is restored once nothing holds it: no installment still failed and no dispute that paused it open or lost.</remarks>
    public bool AccessPaused { get; init; }

    /// <summary>Gets the entitlements taken away while access is paused, granted again when it is restored.</summary>
    public ImmutableArray<Entitlement> PausedEntitlements { get; init; } = [];

    /// <summary>Gets the provider ids of the refunds and disputes already applied, so that a replayed notification changes nothing.</summary>
    public ImmutableArray<string> AppliedAdjustments { get; init; } = [];

    /// <summary>Gets the disputes (chargebacks) opened on the order's payments, open or closed, in the order they were recorded.</summary>
    /// <value>Empty when none; an order stored before this property existed reads as empty.</value>
    public ImmutableArray<OrderDispute> Disputes { get; init; } = [];

    /// <summary>Gets the stored version of this snapshot, for compare-and-set (<see cref="IOrderStore.TryUpdateAsync"/>).</summary>
    /// <value>0 when placed; the store sets it to one more on every replacement.</value>
    public long Version { get; init; }

    /// <summary>Gets the main offer (the first line's).</summary>
    public OfferId MainOffer => Lines[0].Offer;
}
