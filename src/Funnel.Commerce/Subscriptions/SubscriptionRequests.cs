using System.Collections.Immutable;
using Funnel.Events;
using NodaTime;

namespace Funnel.Subscriptions;

/// <summary>A request to subscribe a lead to a recurring offer.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SubscriptionRequest
{
    /// <summary>Gets the subscriber.</summary>
    public required LeadId Lead { get; init; }

    /// <summary>Gets the recurring offer (<see cref="Offers.Offer.Recurring"/>).</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets the buyer's time zone, whose calendar the periods follow.</summary>
    public required DateTimeZone BuyerZone { get; init; }

    /// <summary>Gets the payment method: a card token to charge now for a paid start, or a saved method for a trial with a card.</summary>
    /// <remarks>
    /// A paid start charges it on-session and saves it for the renewals. A trial does not charge it: it must already be
    /// a saved method (such as a Stripe SetupIntent's payment method), charged off-session when the trial ends.
    /// <see langword="null"/> only for a trial whose terms do not require a card.
    /// </remarks>
    public string? PaymentMethod { get; init; }

    /// <summary>Gets the provider customer holding <see cref="PaymentMethod"/>, or <see langword="null"/>.</summary>
    public string? Customer { get; init; }

    /// <summary>Gets the coupon codes the buyer entered, in the order they apply.</summary>
    /// <remarks>
    /// Checked like a cart's (<see cref="Offers.Cart.CouponCodes"/>, by <see cref="Offers.PriceBook"/>'s rules: the
    /// offers a coupon applies to, its window, its currency and stacking), then redeemed once against its limits through
    /// the <see cref="Offers.ICouponRedemptionStore"/>. Any code that does not apply rejects the start: nothing is
    /// charged or stored. Each coupon discounts the paid periods its <see cref="Offers.Coupon.Duration"/> covers.
    /// </remarks>
    /// <value>Defaults to none.</value>
    public ImmutableArray<string> CouponCodes { get; init; } = [];

    /// <summary>Gets the id of the subscription to create; pass the same id to retry a start safely.</summary>
    /// <value>Defaults to a new id.</value>
    public SubscriptionId Id { get; init; } = SubscriptionId.New();
}

/// <summary>A payment a provider reports for a subscription it bills (Stripe Billing's <c>invoice.paid</c> or <c>invoice.payment_failed</c>).</summary>
/// <remarks>The report applies to the period due: the trial's conversion, or the period after the current one.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ProviderPayment
{
    /// <summary>Gets the provider's payment id (a Stripe invoice id); a report is applied once per id (and per attempt when failed).</summary>
    public required string PaymentId { get; init; }

    /// <summary>Gets whether the payment was collected.</summary>
    public required bool Succeeded { get; init; }

    /// <summary>Gets the amount collected or not collected.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets when the provider reported it.</summary>
    public required Instant OccurredAt { get; init; }

    /// <summary>Gets the 1-based attempt of a failed payment.</summary>
    /// <value>Defaults to 1.</value>
    public int Attempt { get; init; } = 1;

    /// <summary>Gets the provider's reason code of a failure, such as <c>insufficient_funds</c>.</summary>
    public string? Reason { get; init; }

    /// <summary>Gets when the provider retries a failed payment, or <see langword="null"/> when it gave up (the subscription ends).</summary>
    public Instant? NextAttemptAt { get; init; }
}

/// <summary>What became of a subscription request.</summary>
public enum SubscriptionOutcome
{
    /// <summary>The request was applied (or, repeated, had already been).</summary>
    Succeeded = 0,

    /// <summary>The charge was declined; <see cref="SubscriptionResult.DeclineCode"/> says why and nothing changed.</summary>
    Declined = 1,

    /// <summary>The buyer must authenticate the charge first (3-D Secure); nothing changed.</summary>
    RequiresAction = 2,

    /// <summary>The request does not apply to the subscription as it stands; <see cref="SubscriptionResult.Reason"/> says why.</summary>
    Rejected = 3,
}

/// <summary>The outcome of a subscription request, with the subscription as stored and the events recorded.</summary>
/// <remarks>The service records <see cref="Events"/> in the event log itself; they are returned for the caller's information.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SubscriptionResult
{
    /// <summary>Gets what became of the request.</summary>
    public required SubscriptionOutcome Outcome { get; init; }

    /// <summary>Gets the subscription as stored after the request, or <see langword="null"/> when none was created.</summary>
    public Subscription? Subscription { get; init; }

    /// <summary>Gets the events the request recorded.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableArray<FunnelEvent> Events { get; init; } = [];

    /// <summary>Gets the provider's decline code when <see cref="Outcome"/> is <see cref="SubscriptionOutcome.Declined"/>.</summary>
    public string? DeclineCode { get; init; }

    /// <summary>Gets what the buyer's browser needs to authenticate when <see cref="Outcome"/> is <see cref="SubscriptionOutcome.RequiresAction"/>.</summary>
    public string? ActionToken { get; init; }

    /// <summary>Gets why the request was rejected.</summary>
    public string? Reason { get; init; }

    /// <summary>Gets the coupon codes that rejected a start, with why (as a cart's <see cref="Offers.Quote.RejectedCoupons"/>).</summary>
    /// <remarks>A code whose redemption limit is reached is listed with <see cref="Offers.CouponRejectionReason.LimitReached"/>.</remarks>
    /// <value>Defaults to none.</value>
    public ImmutableArray<Offers.CouponRejection> RejectedCoupons { get; init; } = [];
}
