using System.Collections.Immutable;
using System.Text.Json.Serialization;
using NodaTime;

namespace Funnel.Subscriptions;

/// <summary>Where a subscription stands.</summary>
public enum SubscriptionStatus
{
    /// <summary>In its free trial: access granted, nothing collected yet.</summary>
    Trialing = 0,

    /// <summary>The current period is paid; it renews at its end unless a cancellation is scheduled.</summary>
    Active = 1,

    /// <summary>Collecting the next period failed; dunning retries while the subscriber keeps access.</summary>
    PastDue = 2,

    /// <summary>Billing and access are paused until it resumes.</summary>
    Paused = 3,

    /// <summary>Ended for good (<see cref="Subscription.EndReason"/> says why); no access, no billing.</summary>
    Ended = 4,
}

/// <summary>A lead's subscription to a recurring offer: its plan, status, current period, payment method and dunning state.</summary>
/// <remarks>
/// <para>
/// Subscriptions are immutable snapshots; <see cref="SubscriptionService"/> saves each change as a new
/// <see cref="Version"/> through <see cref="ISubscriptionStore.TryUpdateAsync"/>.
/// </para>
/// <para>
/// Periods are counted on the buyer's calendar (<see cref="TimeZoneId"/>) from <see cref="BillingAnchor"/>: the period
/// billed next starts at the anchor's local date and time plus <see cref="Cycle"/> × the interval and ends one interval
/// later, so a monthly plan anchored on Jan 31 renews on Feb 28, Mar 31, Apr 30. A trial's anchor is its end; a
/// resume moves the anchor to the resume instant.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Subscription
{
    /// <summary>The most provider payment ids kept in <see cref="AppliedPayments"/>.</summary>
    public const int MaxAppliedPayments = 24;

    /// <summary>Gets the subscription's id.</summary>
    public required SubscriptionId Id { get; init; }

    /// <summary>Gets the subscriber.</summary>
    public required LeadId Lead { get; init; }

    /// <summary>Gets the recurring offer subscribed to (the plan).</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets where the subscription stands.</summary>
    public required SubscriptionStatus Status { get; init; }

    /// <summary>Gets the price of one period, as it was when the plan was taken (a later catalogue price does not change it).</summary>
    public required Money Price { get; init; }

    /// <summary>Gets the coupons that discount the current period or coming paid periods, in the order they apply.</summary>
    /// <remarks>
    /// See <see cref="SubscriptionCoupon"/>. A trial uses up none of a coupon's periods. A coupon with
    /// <see cref="SubscriptionCoupon.PeriodsLeft"/> 0 discounted the current period only; it is removed at the next renewal.
    /// </remarks>
    /// <value>Defaults to none.</value>
    [JsonIgnore]
    public ImmutableArray<SubscriptionCoupon> Coupons { get; init; } = [];

    /// <summary>Gets <see cref="Coupons"/> as stored: omitted when there are none, so a document without coupons keeps format 1 exactly.</summary>
    [JsonInclude]
    [JsonPropertyName("coupons")]
    internal ImmutableArray<SubscriptionCoupon>? StoredCoupons
    {
        get => Coupons.IsDefaultOrEmpty ? null : Coupons;
        init => Coupons = value ?? [];
    }

    /// <summary>Gets what the next paid period costs before any <see cref="Credit"/>: <see cref="Price"/> minus the coupons that still have periods left.</summary>
    public Money NextPeriodPrice => After(static c => c.PeriodsLeft is not 0);

    /// <summary>Gets the price of the current period (or, in a trial, of the first paid one) after its coupons.</summary>
    internal Money DiscountedPrice => After(static _ => true);

    /// <summary>Gets how often the plan is billed.</summary>
    public required BillingInterval Interval { get; init; }

    /// <summary>Gets the buyer's time zone id (TZDB), whose calendar the periods follow.</summary>
    public required string TimeZoneId { get; init; }

    /// <summary>Gets when the lead subscribed.</summary>
    public required Instant StartedAt { get; init; }

    /// <summary>Gets the instant periods are counted from (see the remarks).</summary>
    public required Instant BillingAnchor { get; init; }

    /// <summary>Gets the number, counted from <see cref="BillingAnchor"/> from 0, of the period billed next.</summary>
    public int Cycle { get; init; }

    /// <summary>Gets the start of the current period (the trial while trialing).</summary>
    public required Instant CurrentPeriodStart { get; init; }

    /// <summary>Gets the end of the current period: when it renews, converts, lapses or ends.</summary>
    public required Instant CurrentPeriodEnd { get; init; }

    /// <summary>Gets when the free trial ends, or <see langword="null"/> when the subscription started paid.</summary>
    public Instant? TrialEndsAt { get; init; }

    /// <summary>Gets how many periods were paid; 0 for a trial never converted.</summary>
    public int PeriodsPaid { get; init; }

    /// <summary>Gets whether the subscription ends at <see cref="CurrentPeriodEnd"/> instead of renewing.</summary>
    public bool CancelAtPeriodEnd { get; init; }

    /// <summary>Gets when the subscription was paused, while <see cref="Status"/> is <see cref="SubscriptionStatus.Paused"/>.</summary>
    public Instant? PausedAt { get; init; }

    /// <summary>Gets when a paused subscription resumes by itself, or <see langword="null"/> until it is resumed.</summary>
    public Instant? PausedUntil { get; init; }

    /// <summary>Gets the saved payment method charged off-session, or <see langword="null"/> for a trial without a card.</summary>
    public string? PaymentMethod { get; init; }

    /// <summary>Gets the provider customer that holds <see cref="PaymentMethod"/>.</summary>
    public string? Customer { get; init; }

    /// <summary>Gets the provider's subscription id when a provider (Stripe Billing) bills it; <see langword="null"/> when Funnel charges each period.</summary>
    /// <remarks>While it is set, the renewal job does not charge: the provider reports each payment through <see cref="SubscriptionService.ApplyProviderPaymentAsync"/>.</remarks>
    public string? ProviderSubscriptionId { get; init; }

    /// <summary>Gets the credit left by downgrades and pauses, which the next charges consume first.</summary>
    public required Money Credit { get; init; }

    /// <summary>Gets how many attempts to collect the period due have failed; 0 when nothing is past due.</summary>
    public int FailedAttempts { get; init; }

    /// <summary>Gets when dunning tries again, while <see cref="Status"/> is <see cref="SubscriptionStatus.PastDue"/>.</summary>
    public Instant? NextAttemptAt { get; init; }

    /// <summary>Gets the offer whose products the lead was last given access to, or <see langword="null"/> when no access is granted.</summary>
    /// <remarks>Differs from what <see cref="HasAccess"/> asks for only while a grant or revocation is pending (the grantor failed); the job retries it.</remarks>
    public OfferId? AccessGrantedFor { get; init; }

    /// <summary>Gets the provider payment ids (and failed attempts) already applied, the latest <see cref="MaxAppliedPayments"/>, so a repeated report changes nothing.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableArray<string> AppliedPayments { get; init; } = [];

    /// <summary>Gets when the subscription ended, once <see cref="Status"/> is <see cref="SubscriptionStatus.Ended"/>.</summary>
    public Instant? EndedAt { get; init; }

    /// <summary>Gets why it ended, once <see cref="Status"/> is <see cref="SubscriptionStatus.Ended"/>.</summary>
    public SubscriptionEndReason? EndReason { get; init; }

    /// <summary>Gets the stored version, incremented by every update.</summary>
    public long Version { get; init; }

    /// <summary>Gets whether the status gives access: trialing, active and past due do; paused and ended do not.</summary>
    public bool HasAccess => Status is SubscriptionStatus.Trialing or SubscriptionStatus.Active or SubscriptionStatus.PastDue;

    /// <summary>Gets what the plan is worth per month (<see cref="RecurringRevenue.MonthlyAmount"/>): the current period's price after its <see cref="Coupons"/>.</summary>
    public Money MonthlyAmount => RecurringRevenue.MonthlyAmount(DiscountedPrice, Interval);

    /// <summary>Takes the coupons that pass <paramref name="counts"/> off <see cref="Price"/>, never below zero.</summary>
    private Money After(Func<SubscriptionCoupon, bool> counts)
    {
        Money price = Price;
        foreach (SubscriptionCoupon coupon in Coupons.IsDefault ? [] : Coupons)
        {
            if (counts(coupon))
            {
                price = coupon.AmountOff.MinorUnits >= price.MinorUnits ? Money.Zero(price.Currency) : price - coupon.AmountOff;
            }
        }

        return price;
    }

    /// <summary>Gets when the renewal job must next look at the subscription, or <see langword="null"/> when never.</summary>
    /// <remarks>
    /// The end of the trial or period for a trialing or active one, the next dunning attempt for a past-due one, the
    /// resume instant of a paused one; and <see cref="CurrentPeriodStart"/> or earlier while a grant or revocation is
    /// pending. Durable stores index it.
    /// </remarks>
    public Instant? DueAt
    {
        get
        {
            Instant? due = Status switch
            {
                SubscriptionStatus.Trialing or SubscriptionStatus.Active when ProviderSubscriptionId is null || CancelAtPeriodEnd => CurrentPeriodEnd,
                SubscriptionStatus.PastDue when ProviderSubscriptionId is null => NextAttemptAt,
                SubscriptionStatus.Paused => PausedUntil,
                _ => null,
            };
            OfferId? wanted = HasAccess ? (OfferId?)Offer : null;
            if (wanted != AccessGrantedFor)
            {
                Instant changed = EndedAt ?? PausedAt ?? CurrentPeriodStart;
                return due is { } d && d < changed ? d : changed;
            }

            return due;
        }
    }
}
