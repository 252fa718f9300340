namespace Funnel.Subscriptions;

/// <summary>A payment provider that bills subscriptions itself (Stripe Billing), instead of the engine charging each period.</summary>
/// <remarks>
/// <para>
/// When one is registered, <see cref="SubscriptionService"/> creates each new subscription at the provider
/// (<see cref="StartAsync"/>), stores the provider's id in <see cref="Subscription.ProviderSubscriptionId"/>, and passes
/// cancellations, pauses, resumptions and plan changes on to it (<see cref="UpdateAsync"/>) before it records them. The
/// renewal job then charges nothing: renewals, trial conversions and failed payments arrive from the provider's webhooks
/// through <see cref="SubscriptionService.ApplyProviderPaymentAsync"/>, and an end the provider decided through
/// <see cref="SubscriptionService.EndByProviderAsync"/>.
/// </para>
/// <para>
/// Each call carries an idempotency key: a call retried with the same key must not create or change anything twice.
/// Expected outcomes (a declined first payment, a card needing authentication) are returned as a
/// <see cref="Payments.PaymentResult"/>; an unreachable or refusing provider throws
/// <see cref="Payments.PaymentGatewayException"/>, and the engine then stores nothing.
/// </para>
/// </remarks>
/// <threadsafety>Implementations must be thread-safe.</threadsafety>
public interface ISubscriptionBillingProvider
{
    /// <summary>Creates a subscription at the provider and collects its first period, unless it starts with a trial.</summary>
    /// <param name="start">The subscription to create.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The provider's subscription id and the first payment's outcome.</returns>
    /// <exception cref="Payments.PaymentGatewayException">The provider failed; retry with the same key.</exception>
    Task<ProviderSubscriptionStarted> StartAsync(ProviderSubscriptionStart start, CancellationToken cancellationToken = default);

    /// <summary>Cancels, pauses, resumes or changes the plan of a subscription at the provider.</summary>
    /// <param name="update">The change.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// <see cref="Payments.PaymentOutcome.Succeeded"/> when the provider made the change (for a plan change, the
    /// proration's payment, if one was collected, in <see cref="Payments.PaymentResult.PaymentId"/>); declined or requiring
    /// action, with nothing changed at the provider, when a plan change's proration could not be collected.
    /// </returns>
    /// <exception cref="Payments.PaymentGatewayException">The provider failed; retry with the same key.</exception>
    Task<Payments.PaymentResult> UpdateAsync(ProviderSubscriptionUpdate update, CancellationToken cancellationToken = default);
}
