using NodaTime;

namespace Funnel.Payments;

/// <summary>What a provider notification says happened.</summary>
public enum PaymentNotificationKind
{
    /// <summary>A payment (or one installment) was collected.</summary>
    PaymentSucceeded = 0,

    /// <summary>An attempt to collect a payment (or installment) failed.</summary>
    PaymentFailed = 1,

    /// <summary>Money was refunded on a payment.</summary>
    Refunded = 2,

    /// <summary>A buyer disputed a payment with their bank.</summary>
    Disputed = 3,

    /// <summary>A dispute was closed in the seller's favour: the money comes back (the buyer lost the dispute).</summary>
    /// <remarks>Carries the dispute's id in <see cref="PaymentNotification.AdjustmentId"/>, and its payment, amount and reason as <see cref="Disputed"/> does.</remarks>
    DisputeWon = 4,

    /// <summary>A dispute was closed in the buyer's favour: the money stays with them.</summary>
    /// <remarks>Carries the dispute's id in <see cref="PaymentNotification.AdjustmentId"/>, and its payment, amount and reason as <see cref="Disputed"/> does.</remarks>
    DisputeLost = 5,
}

/// <summary>A provider's webhook event in our provider-neutral form.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record PaymentNotification
{
    /// <summary>Gets the provider's event id; each is processed exactly once.</summary>
    public required string EventId { get; init; }

    /// <summary>Gets what happened.</summary>
    public required PaymentNotificationKind Kind { get; init; }

    /// <summary>Gets our order, from the metadata the adapter attached to the payment.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets when it happened at the provider.</summary>
    public required Instant OccurredAt { get; init; }

    /// <summary>Gets the provider's id of the payment concerned.</summary>
    public required string PaymentId { get; init; }

    /// <summary>Gets the exact amount collected, failed, refunded or disputed.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets the installment number when the provider knows it.</summary>
    /// <value><see langword="null"/> when unknown: the payment is matched to its installment by payment id, else to the earliest unpaid one.</value>
    public int? Installment { get; init; }

    /// <summary>Gets the provider's id of the refund or dispute, for <see cref="PaymentNotificationKind.Refunded"/> and the dispute kinds.</summary>
    public string? AdjustmentId { get; init; }

    /// <summary>Gets the decline code of a failure, or the reason of a dispute.</summary>
    public string? Reason { get; init; }
}

/// <summary>A raw webhook request as received over HTTP.</summary>
/// <param name="Body">The raw body bytes, exactly as received (signatures cover the bytes).</param>
/// <param name="Headers">The request headers; names are compared case-insensitively.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record WebhookRequest(ReadOnlyMemory<byte> Body, IReadOnlyDictionary<string, string> Headers);

/// <summary>Why a webhook request was rejected.</summary>
public enum WebhookRejection
{
    /// <summary>The signature header is missing.</summary>
    MissingSignature = 0,

    /// <summary>The signature header cannot be parsed.</summary>
    MalformedSignature = 1,

    /// <summary>The signed timestamp is outside the tolerance: an old request replayed, or a clock far off.</summary>
    TimestampOutsideTolerance = 2,

    /// <summary>No signature matches the body with any configured secret: forged or tampered.</summary>
    SignatureMismatch = 3,

    /// <summary>The signature matches but the body is not a valid event.</summary>
    MalformedPayload = 4,
}

/// <summary>The outcome of verifying and parsing a webhook request.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record WebhookVerification
{
    /// <summary>Gets why the request was rejected, or <see langword="null"/> when it is authentic.</summary>
    public WebhookRejection? Rejection { get; init; }

    /// <summary>Gets a human-readable explanation of the rejection.</summary>
    public string? Message { get; init; }

    /// <summary>Gets the provider's event id of an authentic request.</summary>
    public string? EventId { get; init; }

    /// <summary>Gets the provider's event type, such as <c>invoice.paid</c>.</summary>
    public string? EventType { get; init; }

    /// <summary>Gets the event in neutral form, or <see langword="null"/> for an authentic event of a type we do not act on.</summary>
    public PaymentNotification? Notification { get; init; }

    /// <summary>Gets why an authentic event with an id can never apply, such as metadata that does not parse.</summary>
    /// <remarks>The processor parks such an event as <see cref="WebhookEventStatus.Unprocessable"/> with this reason, rather than rejecting it, so the provider stops delivering it.</remarks>
    /// <value><see langword="null"/> when the event can be acted on or ignored.</value>
    public string? Unprocessable { get; init; }

    /// <summary>Returns a rejection.</summary>
    /// <param name="rejection">Why.</param>
    /// <param name="message">An explanation.</param>
    /// <returns>The verification.</returns>
    public static WebhookVerification Rejected(WebhookRejection rejection, string message) => new() { Rejection = rejection, Message = message };
}

/// <summary>The provider's part of webhook handling: checks the signature and parses the body into a <see cref="PaymentNotification"/>.</summary>
/// <remarks>It must check the signature over the raw bytes before parsing, and take "now" from an injected <see cref="IClock"/>.</remarks>
public interface IWebhookSignatureVerifier
{
    /// <summary>Verifies a request and parses its event.</summary>
    /// <param name="request">The raw request.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The event, or why the request was rejected.</returns>
    Task<WebhookVerification> VerifyAsync(WebhookRequest request, CancellationToken cancellationToken = default);
}

/// <summary>Where an accepted webhook event stands.</summary>
public enum WebhookEventStatus
{
    /// <summary>Stored; being processed.</summary>
    Received = 0,

    /// <summary>Applied to its order.</summary>
    Processed = 1,

    /// <summary>Authentic but of a type we do not act on.</summary>
    Ignored = 2,

    /// <summary>Arrived before the payment it refers to; re-applied when that payment is recorded.</summary>
    Parked = 3,

    /// <summary>Applying it threw or was cancelled; <see cref="WebhookProcessor.RetryFailedAsync"/> tries again.</summary>
    Failed = 4,

    /// <summary>Authentic but can never apply (its order is unknown, or its metadata cannot be read); parked with the reason in <see cref="StoredWebhookEvent.Error"/>, never retried.</summary>
    /// <remarks>
    /// The <c>funnel-webhooks</c> health check reports Degraded while such events pile up. Look at each (its
    /// <see cref="StoredWebhookEvent.Error"/> says why) and move it on, for example to <see cref="Ignored"/> with
    /// <see cref="IWebhookEventStore.TryUpdateAsync"/>.
    /// </remarks>
    Unprocessable = 5,
}

/// <summary>An accepted webhook event as stored before acting on it.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record StoredWebhookEvent
{
    /// <summary>Gets the provider's event id.</summary>
    public required string EventId { get; init; }

    /// <summary>Gets the provider's event type.</summary>
    public string? EventType { get; init; }

    /// <summary>Gets when we received it.</summary>
    public required Instant ReceivedAt { get; init; }

    /// <summary>Gets the event in neutral form, or <see langword="null"/> when ignored.</summary>
    public PaymentNotification? Notification { get; init; }

    /// <summary>Gets where it stands.</summary>
    public required WebhookEventStatus Status { get; init; }

    /// <summary>Gets how many times applying it was attempted.</summary>
    public int Attempts { get; init; }

    /// <summary>Gets the last error when <see cref="Status"/> is <see cref="WebhookEventStatus.Failed"/>, or the reason when it is <see cref="WebhookEventStatus.Unprocessable"/>.</summary>
    public string? Error { get; init; }

    /// <summary>Gets the instance that claimed the event for a retry (<see cref="IWebhookEventStore.ClaimRetriesAsync"/>).</summary>
    /// <value><see langword="null"/> when not claimed.</value>
    public string? ClaimedBy { get; init; }

    /// <summary>Gets when the retry claim ends; after it another instance may claim the event.</summary>
    /// <value><see langword="null"/> when not claimed.</value>
    public Instant? ClaimedUntil { get; init; }

    /// <summary>Gets the stored version, for compare-and-set (<see cref="IWebhookEventStore.TryUpdateAsync"/>) and as the fencing token of a claim.</summary>
    /// <value>0 when new; the store sets it to one more on every replacement and claim.</value>
    public long Version { get; init; }
}
