using System.Text.Json;
using Funnel.Subscriptions;
using NodaTime;

namespace Funnel.Payments.Stripe;

/// <summary>Verifies Stripe webhooks like <see cref="StripeWebhookVerifier"/>, and applies the Stripe Billing events of our subscriptions to the subscription engine.</summary>
/// <remarks>
/// <para>
/// After the signature is verified, an event about a subscription that <see cref="StripeSubscriptionBillingProvider"/>
/// created (its metadata carries <c>funnel_subscription</c> and no <c>funnel_order</c>, which marks an installment plan)
/// is applied: <c>invoice.paid</c> of a <c>subscription_cycle</c> invoice (or a paid <c>subscription_create</c> one) as a
/// paid period, <c>invoice.payment_failed</c> as a failed attempt (<c>attempt_count</c>, <c>next_payment_attempt</c>; none
/// means Stripe gave up), and <c>customer.subscription.deleted</c> as the end. The payment id is the invoice's, as for
/// installment plans: the same for every attempt at one invoice, so a failure delivered after the invoice's payment changes nothing.
/// </para>
/// <para>
/// The engine is idempotent on the invoice (and attempt), so a replayed or reordered event changes nothing; a replay of
/// a stored event is not even applied. The verification is returned as it was (no payment notification: these are not
/// orders), and <see cref="WebhookProcessor"/> stores the event as ignored by payments. When the engine throws, the
/// exception fails the request before the event is stored, so Stripe delivers it again.
/// </para>
/// </remarks>
internal sealed class StripeBillingWebhookVerifier : IWebhookSignatureVerifier
{
    private readonly IWebhookSignatureVerifier inner;
    private readonly Func<SubscriptionService> engine;
    private readonly Func<string, CancellationToken, Task<bool>>? alreadyReceived;

    /// <param name="inner">The Stripe verifier that checks the signature and maps payments.</param>
    /// <param name="engine">Resolves the subscription engine, when first needed.</param>
    /// <param name="alreadyReceived">Tells whether an event id is already stored, so that a replay is not applied again.</param>
    public StripeBillingWebhookVerifier(IWebhookSignatureVerifier inner, Func<SubscriptionService> engine,
        Func<string, CancellationToken, Task<bool>>? alreadyReceived = null)
    {
        this.inner = inner;
        this.engine = engine;
        this.alreadyReceived = alreadyReceived;
    }

    public async Task<WebhookVerification> VerifyAsync(WebhookRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        WebhookVerification verification = await inner.VerifyAsync(request, cancellationToken).ConfigureAwait(false);
        if (verification.Rejection is not null || verification.Unprocessable is not null || verification.Notification is not null
            || verification.EventType is not ("invoice.paid" or "invoice.payment_failed" or "customer.subscription.deleted"))
        {
            return verification;
        }

        BillingEvent? billing;
        try
        {
            billing = BillingEvent.Parse(request.Body.Span);
        }
        catch (Exception error) when (StripeEvents.IsUnreadable(error))
        {
            return verification with { Unprocessable = $"The {verification.EventType} event cannot be read: {error.Message}" };
        }

        if (billing is null)
        {
            return verification;
        }

        if (alreadyReceived is not null && verification.EventId is { } eventId && await alreadyReceived(eventId, cancellationToken).ConfigureAwait(false))
        {
            return verification;
        }

        SubscriptionService subscriptions = engine();
        // Rejected results (unknown, paused or already ended) are outcomes, not errors: the event is authentic and done with.
        _ = billing.Payment is { } payment
            ? await subscriptions.ApplyProviderPaymentAsync(billing.Subscription, payment, cancellationToken).ConfigureAwait(false)
            : await subscriptions.EndByProviderAsync(billing.Subscription, billing.OccurredAt, cancellationToken).ConfigureAwait(false);
        return verification;
    }

    /// <summary>A Stripe Billing event about one of our subscriptions: a payment, or (with none) its end.</summary>
    internal sealed record BillingEvent(SubscriptionId Subscription, ProviderPayment? Payment, Instant OccurredAt)
    {
        /// <summary>Reads the event; <see langword="null"/> when it is not about one of our subscriptions or not a period's payment.</summary>
        public static BillingEvent? Parse(ReadOnlySpan<byte> body)
        {
            var reader = new Utf8JsonReader(body);
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            JsonElement root = document.RootElement;
            string type = root.GetProperty("type").GetString()!;
            Instant created = Instant.FromUnixTimeSeconds(root.GetProperty("created").GetInt64());
            JsonElement data = root.GetProperty("data").GetProperty("object");
            JsonElement? metadata = type == "customer.subscription.deleted"
                ? Property(data, "metadata")
                : Property(data, "parent") is { } parent && Property(parent, "subscription_details") is { } details ? Property(details, "metadata") : null;
            if (metadata is not { } m || Text(m, StripeSubscriptionBillingProvider.SubscriptionKey) is not { } ours || Text(m, "funnel_order") is not null)
            {
                return null; // another system's subscription, or an installment plan's invoice
            }

            var subscription = SubscriptionId.Parse(ours);
            if (type == "customer.subscription.deleted")
            {
                Instant ended = Property(data, "ended_at") is { ValueKind: JsonValueKind.Number } at ? Instant.FromUnixTimeSeconds(at.GetInt64()) : created;
                return new BillingEvent(subscription, null, ended);
            }

            bool paid = type == "invoice.paid";
            string reason = Text(data, "billing_reason") ?? "";
            long amount = data.GetProperty(paid ? "amount_paid" : "amount_due").GetInt64();
            if (!(reason == "subscription_cycle" || (reason == "subscription_create" && amount > 0)))
            {
                // A trial's zero invoice, or a plan change's proration, which the engine recorded when it made the change.
                return null;
            }

            int attempt = Property(data, "attempt_count") is { ValueKind: JsonValueKind.Number } count ? Math.Max(1, count.GetInt32()) : 1;
            return new BillingEvent(subscription, new ProviderPayment
            {
                PaymentId = data.GetProperty("id").GetString()!,
                Succeeded = paid,
                Amount = StripeMoney.FromStripe(amount, data.GetProperty("currency").GetString()!),
                OccurredAt = created,
                Attempt = attempt,
                Reason = paid ? null : "invoice_payment_failed",
                NextAttemptAt = !paid && Property(data, "next_payment_attempt") is { ValueKind: JsonValueKind.Number } next
                    ? Instant.FromUnixTimeSeconds(next.GetInt64())
                    : null,
            }, created);
        }

        private static JsonElement? Property(JsonElement element, string name) =>
            element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : null;

        private static string? Text(JsonElement element, string name) =>
            Property(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;
    }
}
