namespace Funnel.Subscriptions;

/// <summary>The <see cref="Events.FunnelEvent.EventType"/> names of the subscription events (Funnel.Commerce).</summary>
/// <remarks>These names are part of the stored format: they never change once released.</remarks>
/// <threadsafety>This type holds constants only.</threadsafety>
public static class SubscriptionEventTypes
{
    /// <summary>A lead subscribed, with or without a free trial (<see cref="Funnel.Subscriptions.SubscriptionStarted"/>).</summary>
    public const string SubscriptionStarted = "subscription_started";

    /// <summary>A free trial turned into the first paid period (<see cref="Funnel.Subscriptions.SubscriptionTrialConverted"/>).</summary>
    public const string SubscriptionTrialConverted = "subscription_trial_converted";

    /// <summary>A paid period was collected and the subscription runs another period (<see cref="Funnel.Subscriptions.SubscriptionRenewed"/>).</summary>
    public const string SubscriptionRenewed = "subscription_renewed";

    /// <summary>Collecting a period failed; the subscription is past due while dunning retries (<see cref="Funnel.Subscriptions.SubscriptionPaymentFailed"/>).</summary>
    public const string SubscriptionPaymentFailed = "subscription_payment_failed";

    /// <summary>The subscriber moved to another plan mid-period, with proration (<see cref="Funnel.Subscriptions.SubscriptionPlanChanged"/>).</summary>
    public const string SubscriptionPlanChanged = "subscription_plan_changed";

    /// <summary>Billing and access were paused (<see cref="Funnel.Subscriptions.SubscriptionPaused"/>).</summary>
    public const string SubscriptionPaused = "subscription_paused";

    /// <summary>A paused subscription runs again (<see cref="Funnel.Subscriptions.SubscriptionResumed"/>).</summary>
    public const string SubscriptionResumed = "subscription_resumed";

    /// <summary>The subscriber asked to stop at the end of the paid period (<see cref="Funnel.Subscriptions.SubscriptionCancelScheduled"/>).</summary>
    public const string SubscriptionCancelScheduled = "subscription_cancel_scheduled";

    /// <summary>A cancellation scheduled for the period's end was withdrawn (<see cref="Funnel.Subscriptions.SubscriptionCancelWithdrawn"/>).</summary>
    public const string SubscriptionCancelWithdrawn = "subscription_cancel_withdrawn";

    /// <summary>The subscription ended for good, for the reason it names (<see cref="Funnel.Subscriptions.SubscriptionEnded"/>).</summary>
    public const string SubscriptionEnded = "subscription_ended";

    /// <summary>A subscription's coupons ran out and it is charged its plan's price again (<see cref="Funnel.Subscriptions.SubscriptionDiscountEnded"/>).</summary>
    public const string SubscriptionDiscountEnded = "subscription_discount_ended";
}
