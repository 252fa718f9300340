using System.Collections.Immutable;
using Funnel.Events;
using NodaTime;

namespace Funnel.Subscriptions;

/// <summary>Why a subscription ended.</summary>
public enum SubscriptionEndReason
{
    /// <summary>The subscriber (or the seller) cancelled with immediate effect.</summary>
    Canceled = 0,

    /// <summary>A cancellation scheduled for the end of the paid period took effect.</summary>
    CanceledAtPeriodEnd = 1,

    /// <summary>A free trial ended without being converted (no card, or the first charge was never collected).</summary>
    /// <remarks>Also the reason when a trial that never converted is cancelled, now or at its end: it never counted for MRR.</remarks>
    TrialLapsed = 2,

    /// <summary>Dunning gave up: the period could not be collected.</summary>
    PaymentFailed = 3,

    /// <summary>A payment was disputed and the dispute policy ends the subscription.</summary>
    Disputed = 4,
}

/// <summary>A lead subscribed to a recurring offer, with or without a free trial.</summary>
/// <remarks>
/// A subscription that starts with a trial counts towards MRR only from its <see cref="SubscriptionTrialConverted"/>;
/// one without a trial counts from this event, whose first period was collected when it started.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SubscriptionEventTypes.SubscriptionStarted)]
public sealed record SubscriptionStarted : LeadEvent
{
    /// <summary>Gets the subscription.</summary>
    public required SubscriptionId Subscription { get; init; }

    /// <summary>Gets the recurring offer subscribed to (the plan).</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets how often the plan is billed.</summary>
    public required BillingInterval Interval { get; init; }

    /// <summary>Gets the price of one billing period, after any coupon.</summary>
    public required Money Price { get; init; }

    /// <summary>Gets what the plan is worth per month (<see cref="RecurringRevenue.MonthlyAmount"/>).</summary>
    public required Money MonthlyAmount { get; init; }

    /// <summary>Gets when the free trial ends, or <see langword="null"/> when the subscription started paid.</summary>
    public Instant? TrialEndsAt { get; init; }

    /// <summary>Gets the end of the first period (the trial's end when there is a trial).</summary>
    public required Instant PeriodEnd { get; init; }

    /// <summary>Gets the amount collected at the start: the first period's price, or zero for a trial.</summary>
    public required Money AmountPaid { get; init; }

    /// <inheritdoc/>
    public override string EventType => SubscriptionEventTypes.SubscriptionStarted;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>A free trial turned into the first paid period: the first charge was collected.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SubscriptionEventTypes.SubscriptionTrialConverted)]
public sealed record SubscriptionTrialConverted : LeadEvent
{
    /// <summary>Gets the subscription.</summary>
    public required SubscriptionId Subscription { get; init; }

    /// <summary>Gets the plan.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets the amount collected for the first paid period.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets what the plan is worth per month from now on.</summary>
    public required Money MonthlyAmount { get; init; }

    /// <summary>Gets the end of the first paid period.</summary>
    public required Instant PeriodEnd { get; init; }

    /// <summary>Gets the provider's payment id.</summary>
    public required string PaymentId { get; init; }

    /// <inheritdoc/>
    public override string EventType => SubscriptionEventTypes.SubscriptionTrialConverted;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>A paid period was collected and the subscription runs until <see cref="PeriodEnd"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SubscriptionEventTypes.SubscriptionRenewed)]
public sealed record SubscriptionRenewed : LeadEvent
{
    /// <summary>Gets the subscription.</summary>
    public required SubscriptionId Subscription { get; init; }

    /// <summary>Gets the plan.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets the amount collected.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets the start of the period paid for.</summary>
    public required Instant PeriodStart { get; init; }

    /// <summary>Gets the end of the period paid for.</summary>
    public required Instant PeriodEnd { get; init; }

    /// <summary>Gets the provider's payment id.</summary>
    public required string PaymentId { get; init; }

    /// <inheritdoc/>
    public override string EventType => SubscriptionEventTypes.SubscriptionRenewed;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>Collecting a period failed; the subscription is past due and keeps its access while dunning retries.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SubscriptionEventTypes.SubscriptionPaymentFailed)]
public sealed record SubscriptionPaymentFailed : LeadEvent
{
    /// <summary>Gets the subscription.</summary>
    public required SubscriptionId Subscription { get; init; }

    /// <summary>Gets the plan.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets the amount not collected.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets the 1-based attempt number for this period.</summary>
    public required int Attempt { get; init; }

    /// <summary>Gets the provider's reason code, such as <c>insufficient_funds</c>.</summary>
    public string? Reason { get; init; }

    /// <summary>Gets when dunning tries again, or <see langword="null"/> when it gave up (a <see cref="SubscriptionEnded"/> follows).</summary>
    public Instant? NextAttemptAt { get; init; }

    /// <inheritdoc/>
    public override string EventType => SubscriptionEventTypes.SubscriptionPaymentFailed;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>The subscriber moved to another plan mid-period; the difference for the rest of the period was prorated.</summary>
/// <remarks>
/// An upgrade raises MRR by <see cref="ToMonthlyAmount"/> − <see cref="FromMonthlyAmount"/> (expansion), a downgrade
/// lowers it (contraction). Between plans of one interval the period's end does not move; a move to another interval
/// starts a new period, which <see cref="PeriodEnd"/> ends.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SubscriptionEventTypes.SubscriptionPlanChanged)]
public sealed record SubscriptionPlanChanged : LeadEvent
{
    /// <summary>Gets the subscription.</summary>
    public required SubscriptionId Subscription { get; init; }

    /// <summary>Gets the plan left.</summary>
    public required OfferId FromOffer { get; init; }

    /// <summary>Gets the plan taken.</summary>
    public required OfferId ToOffer { get; init; }

    /// <summary>Gets what the old plan was worth per month.</summary>
    public required Money FromMonthlyAmount { get; init; }

    /// <summary>Gets what the new plan is worth per month.</summary>
    public required Money ToMonthlyAmount { get; init; }

    /// <summary>Gets the new plan's billing interval.</summary>
    public required BillingInterval Interval { get; init; }

    /// <summary>Gets the new plan's price per period.</summary>
    public required Money Price { get; init; }

    /// <summary>Gets the prorated difference for the rest of the period: charged when positive, credited when negative.</summary>
    /// <value>For a move to another interval: the new period's price minus the old period's unused share.</value>
    public required Money Proration { get; init; }

    /// <summary>Gets the end of the new period a move to another interval started, or <see langword="null"/> when the period's end did not move.</summary>
    public Instant? PeriodEnd { get; init; }

    /// <summary>Gets the provider's payment id of a charged proration, or <see langword="null"/> when nothing was charged.</summary>
    public string? PaymentId { get; init; }

    /// <inheritdoc/>
    public override string EventType => SubscriptionEventTypes.SubscriptionPlanChanged;

    /// <inheritdoc/>
    /// <value>The <see cref="ToOffer"/> key.</value>
    public override string? Subject => ToOffer.Value;
}

/// <summary>Billing and access were paused; a paused subscription counts for no MRR until it resumes.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SubscriptionEventTypes.SubscriptionPaused)]
public sealed record SubscriptionPaused : LeadEvent
{
    /// <summary>Gets the subscription.</summary>
    public required SubscriptionId Subscription { get; init; }

    /// <summary>Gets the plan.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets when the subscription resumes by itself, or <see langword="null"/> until it is resumed.</summary>
    public Instant? ResumesAt { get; init; }

    /// <inheritdoc/>
    public override string EventType => SubscriptionEventTypes.SubscriptionPaused;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>A paused subscription runs again, with a new period starting now.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SubscriptionEventTypes.SubscriptionResumed)]
public sealed record SubscriptionResumed : LeadEvent
{
    /// <summary>Gets the subscription.</summary>
    public required SubscriptionId Subscription { get; init; }

    /// <summary>Gets the plan.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets what the plan is worth per month again.</summary>
    public required Money MonthlyAmount { get; init; }

    /// <summary>Gets the end of the period that starts on resuming.</summary>
    public required Instant PeriodEnd { get; init; }

    /// <inheritdoc/>
    public override string EventType => SubscriptionEventTypes.SubscriptionResumed;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>The subscriber asked to stop at the end of the paid period; access lasts until <see cref="EndsAt"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SubscriptionEventTypes.SubscriptionCancelScheduled)]
public sealed record SubscriptionCancelScheduled : LeadEvent
{
    /// <summary>Gets the subscription.</summary>
    public required SubscriptionId Subscription { get; init; }

    /// <summary>Gets the plan.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets when the subscription ends: the end of the current period.</summary>
    public required Instant EndsAt { get; init; }

    /// <inheritdoc/>
    public override string EventType => SubscriptionEventTypes.SubscriptionCancelScheduled;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>A cancellation scheduled for the period's end was withdrawn; the subscription renews as before.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SubscriptionEventTypes.SubscriptionCancelWithdrawn)]
public sealed record SubscriptionCancelWithdrawn : LeadEvent
{
    /// <summary>Gets the subscription.</summary>
    public required SubscriptionId Subscription { get; init; }

    /// <summary>Gets the plan.</summary>
    public required OfferId Offer { get; init; }

    /// <inheritdoc/>
    public override string EventType => SubscriptionEventTypes.SubscriptionCancelWithdrawn;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>The subscription ended for good; access ends with it.</summary>
/// <remarks>
/// A subscription that ends after paying counts as churned MRR of <see cref="MonthlyAmount"/>; one that ends in its
/// trial (<see cref="SubscriptionEndReason.TrialLapsed"/>) never counted and churns nothing.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SubscriptionEventTypes.SubscriptionEnded)]
public sealed record SubscriptionEnded : LeadEvent
{
    /// <summary>Gets the subscription.</summary>
    public required SubscriptionId Subscription { get; init; }

    /// <summary>Gets the plan.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets why it ended.</summary>
    public required SubscriptionEndReason Reason { get; init; }

    /// <summary>Gets what the plan was worth per month when it ended.</summary>
    public required Money MonthlyAmount { get; init; }

    /// <inheritdoc/>
    public override string EventType => SubscriptionEventTypes.SubscriptionEnded;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>The coupons that discounted a subscription ran out: the period just paid is at the plan's price again.</summary>
/// <remarks>
/// Recorded with the renewal that first charges without them, so MRR rises from <see cref="FromMonthlyAmount"/> to
/// <see cref="ToMonthlyAmount"/> when the higher price is collected (expansion), as it would for an upgrade. A coupon
/// that ends because a plan change does not keep it is not reported here: the <see cref="SubscriptionPlanChanged"/>
/// carries the move.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SubscriptionEventTypes.SubscriptionDiscountEnded)]
public sealed record SubscriptionDiscountEnded : LeadEvent
{
    /// <summary>Gets the subscription.</summary>
    public required SubscriptionId Subscription { get; init; }

    /// <summary>Gets the plan.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets the codes of the coupons that ended.</summary>
    public required ImmutableArray<string> Coupons { get; init; }

    /// <summary>Gets what the plan was worth per month with the coupons.</summary>
    public required Money FromMonthlyAmount { get; init; }

    /// <summary>Gets what the plan is worth per month from now on.</summary>
    public required Money ToMonthlyAmount { get; init; }

    /// <inheritdoc/>
    public override string EventType => SubscriptionEventTypes.SubscriptionDiscountEnded;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}
