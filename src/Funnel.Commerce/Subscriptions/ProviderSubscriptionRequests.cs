using Funnel.Payments;
using NodaTime;

namespace Funnel.Subscriptions;

/// <summary>A subscription for an <see cref="ISubscriptionBillingProvider"/> to create.</summary>
public sealed record ProviderSubscriptionStart
{
    /// <summary>Gets our subscription's id, which the provider keeps (Stripe: in the subscription's metadata) so that its webhooks name it.</summary>
    public required SubscriptionId Subscription { get; init; }

    /// <summary>Gets the subscriber.</summary>
    public required LeadId Lead { get; init; }

    /// <summary>Gets the recurring offer subscribed to.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets the price of one period.</summary>
    public required Money Price { get; init; }

    /// <summary>Gets how often a period is billed.</summary>
    public required BillingInterval Interval { get; init; }

    /// <summary>Gets when the free trial ends and the first period is billed.</summary>
    /// <value><see langword="null"/> without a trial: the first period is collected at once.</value>
    public Instant? TrialEnd { get; init; }

    /// <summary>Gets the payment method to bill.</summary>
    /// <value><see langword="null"/> only for a trial that needs no card; the provider ends it when the trial ends without one.</value>
    public string? PaymentMethod { get; init; }

    /// <summary>Gets the provider's customer holding the payment method.</summary>
    /// <value><see langword="null"/> to let the provider create one.</value>
    public string? Customer { get; init; }

    /// <summary>Gets the key that makes a retried start create one subscription.</summary>
    public required string IdempotencyKey { get; init; }
}

/// <summary>What an <see cref="ISubscriptionBillingProvider"/> created.</summary>
public sealed record ProviderSubscriptionStarted
{
    /// <summary>Gets the outcome of the first payment: succeeded (with no <see cref="PaymentResult.PaymentId"/> for a trial), declined or requiring action.</summary>
    /// <remarks>Unless it succeeded, the provider keeps no subscription that will bill later.</remarks>
    public required PaymentResult FirstPayment { get; init; }

    /// <summary>Gets the provider's subscription id.</summary>
    /// <value>Set when <see cref="FirstPayment"/> succeeded.</value>
    public string? ProviderSubscriptionId { get; init; }
}

/// <summary>What an <see cref="ISubscriptionBillingProvider"/> changes on a subscription.</summary>
public enum ProviderSubscriptionChange
{
    /// <summary>End it now, with no refund.</summary>
    CancelNow = 0,

    /// <summary>End it at the end of the current period.</summary>
    CancelAtPeriodEnd = 1,

    /// <summary>Withdraw a cancellation scheduled for the period's end.</summary>
    WithdrawCancel = 2,

    /// <summary>Stop billing until resumed, or until <see cref="ProviderSubscriptionUpdate.PausedUntil"/>.</summary>
    Pause = 3,

    /// <summary>Bill again.</summary>
    Resume = 4,

    /// <summary>Bill <see cref="ProviderSubscriptionUpdate.Price"/> from now, invoicing the proration at once.</summary>
    ChangePlan = 5,
}

/// <summary>A change for an <see cref="ISubscriptionBillingProvider"/> to make to a subscription it bills.</summary>
public sealed record ProviderSubscriptionUpdate
{
    /// <summary>Gets the provider's subscription id (<see cref="Subscription.ProviderSubscriptionId"/>).</summary>
    public required string ProviderSubscriptionId { get; init; }

    /// <summary>Gets our subscription's id.</summary>
    public required SubscriptionId Subscription { get; init; }

    /// <summary>Gets the change.</summary>
    public required ProviderSubscriptionChange Change { get; init; }

    /// <summary>Gets when a pause ends by itself.</summary>
    /// <value><see langword="null"/> unless <see cref="Change"/> is <see cref="ProviderSubscriptionChange.Pause"/> with an end.</value>
    public Instant? PausedUntil { get; init; }

    /// <summary>Gets the new plan.</summary>
    /// <value>Set for <see cref="ProviderSubscriptionChange.ChangePlan"/>.</value>
    public OfferId? Offer { get; init; }

    /// <summary>Gets the new plan's price per period.</summary>
    /// <value>Set for <see cref="ProviderSubscriptionChange.ChangePlan"/>.</value>
    public Money? Price { get; init; }

    /// <summary>Gets how often a period is billed.</summary>
    public required BillingInterval Interval { get; init; }

    /// <summary>Gets the key that makes a retried change apply once.</summary>
    public required string IdempotencyKey { get; init; }
}
