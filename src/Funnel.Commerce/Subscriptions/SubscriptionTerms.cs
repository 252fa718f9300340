namespace Funnel.Subscriptions;

/// <summary>What makes an offer recurring: how often it is billed and whether it starts with a free trial.</summary>
/// <remarks>
/// Set it on <see cref="Offers.Offer.Recurring"/>; the offer's <see cref="Offers.Offer.Price"/> is then the price of one
/// billing period. A recurring offer is sold through <see cref="SubscriptionService.StartAsync"/>, has no payment plans,
/// and its periods follow the buyer's calendar (see <see cref="SubscriptionService"/>).
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SubscriptionTerms
{
    /// <summary>The longest free trial, in days.</summary>
    public const int MaxTrialDays = 365;

    /// <summary>Gets how often the plan is billed.</summary>
    public required BillingInterval Interval { get; init; }

    /// <summary>Gets the length of the free trial in calendar days of the buyer's time zone; 0 for none.</summary>
    /// <value>Defaults to 0 (no trial). Between 0 and <see cref="MaxTrialDays"/>.</value>
    public int TrialDays { get; init; }

    /// <summary>Gets whether a trial can start only with a saved payment method, charged when the trial ends.</summary>
    /// <remarks>
    /// A trial without a card lapses at its end unless a payment method is attached before
    /// (<see cref="SubscriptionService.AttachPaymentMethodAsync"/>). Only meaningful with a trial.
    /// </remarks>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool TrialRequiresCard { get; init; } = true;

    /// <summary>Gets whether the terms include a free trial.</summary>
    /// <value><see langword="true"/> when <see cref="TrialDays"/> is positive.</value>
    public bool HasTrial => TrialDays > 0;
}
