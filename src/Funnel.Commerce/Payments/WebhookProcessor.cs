using System.Collections.Immutable;
using Funnel.Events;
using NodaTime;

namespace Funnel.Payments;

/// <summary>What became of a webhook request.</summary>
public enum WebhookOutcome
{
    /// <summary>The signature or payload was not valid; nothing was stored. Answer HTTP 400.</summary>
    Rejected = 0,

    /// <summary>An event with this id was already accepted; nothing changed. Answer HTTP 200.</summary>
    Duplicate = 1,

    /// <summary>Authentic, stored, of a type we do not act on. Answer HTTP 200.</summary>
    Ignored = 2,

    /// <summary>Stored and applied to its order. Answer HTTP 200.</summary>
    Processed = 3,

    /// <summary>Stored; it refers to a payment not recorded yet and is re-applied when that payment arrives. Answer HTTP 200.</summary>
    Parked = 4,

    /// <summary>Stored, but applying it threw; it is listed for <see cref="WebhookProcessor.RetryFailedAsync"/>. Answer HTTP 200 or 500.</summary>
    Failed = 5,

    /// <summary>Authentic, but it can never apply (unknown order, unreadable metadata); parked as <see cref="WebhookEventStatus.Unprocessable"/> with the reason, never retried. Answer HTTP 200 so the provider stops delivering it.</summary>
    Unprocessable = 6,
}

/// <summary>The outcome of processing one webhook request.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record WebhookResult
{
    /// <summary>Gets what became of the request.</summary>
    public required WebhookOutcome Outcome { get; init; }

    /// <summary>Gets why it was rejected, for <see cref="WebhookOutcome.Rejected"/>.</summary>
    public WebhookRejection? Rejection { get; init; }

    /// <summary>Gets an explanation of a rejection or failure.</summary>
    public string? Message { get; init; }

    /// <summary>Gets the provider's event id, when the request was authentic.</summary>
    public string? EventId { get; init; }

    /// <summary>Gets the funnel events the request recorded (including those of parked events it released).</summary>
    /// <remarks>
    /// They are already in the <see cref="Pipeline.IFunnelEventLog"/>; do not append them again. Their ids derive from
    /// the provider's payment, refund, dispute or event id, so a replayed webhook appends nothing twice.
    /// </remarks>
    public ImmutableArray<FunnelEvent> Events { get; init; } = [];
}

/// <summary>Processes payment webhooks from any provider safely: verified first, stored before acting, applied exactly once, in any order.</summary>
/// <remarks>
/// <para>
/// Each request is verified by the provider's <see cref="IWebhookSignatureVerifier"/>; a rejection stores nothing.
/// An accepted event is stored in the <see cref="IWebhookEventStore"/> before it is acted on; the store's atomic
/// insert on the event id makes a replay, even a concurrent one, a <see cref="WebhookOutcome.Duplicate"/> that changes nothing.
/// </para>
/// <para>
/// Out-of-order delivery: payments and failures of an installment commute (a payment wins over a failure whatever
/// their order; failures are counted either way). A refund or dispute that arrives before the payment it refers to is
/// <see cref="WebhookOutcome.Parked"/> and re-applied as soon as that payment is recorded. A redelivery of a failed
/// event is a duplicate: failed events are retried by <see cref="RetryFailedAsync"/>, from a scheduled job.
/// </para>
/// <para>
/// Every change of a stored event is compare-and-set on its version. <see cref="RetryFailedAsync"/> claims the events
/// it retries with a lease (<see cref="IWebhookEventStore.ClaimRetriesAsync"/>), so several instances may run the retry
/// job at once: an event is retried by one of them at a time, and a holder whose claim expired cannot complete it.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class WebhookProcessor
{
    private readonly IWebhookSignatureVerifier verifier;
    private readonly IWebhookEventStore store;
    private readonly PaymentService payments;
    private readonly IClock clock;
    private readonly string owner = "webhooks-" + Guid.NewGuid().ToString("N", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Initializes the processor.</summary>
    /// <param name="verifier">The provider's signature verifier and parser.</param>
    /// <param name="store">The event store.</param>
    /// <param name="payments">The payment service that applies events to orders.</param>
    /// <param name="clock">The source of "now".</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public WebhookProcessor(IWebhookSignatureVerifier verifier, IWebhookEventStore store, PaymentService payments, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(verifier);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(payments);
        ArgumentNullException.ThrowIfNull(clock);
        this.verifier = verifier;
        this.store = store;
        this.payments = payments;
        this.clock = clock;
    }

    /// <summary>Processes a webhook request: the entry point for an HTTP endpoint.</summary>
    /// <param name="body">The raw body bytes, exactly as received.</param>
    /// <param name="headers">The request headers; names are matched case-insensitively.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>What became of it and the funnel events it caused.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="headers"/> is <see langword="null"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; an event already stored is listed as failed, for <see cref="RetryFailedAsync"/>.</exception>
    public async Task<WebhookResult> ProcessAsync(ReadOnlyMemory<byte> body, IReadOnlyDictionary<string, string> headers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var normalized = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, string> header in headers)
        {
            normalized[header.Key] = header.Value;
        }

        WebhookVerification verification = await verifier.VerifyAsync(new WebhookRequest(body, normalized), cancellationToken).ConfigureAwait(false);
        if (verification.Rejection is { } rejection)
        {
            return new WebhookResult { Outcome = WebhookOutcome.Rejected, Rejection = rejection, Message = verification.Message };
        }

        if (string.IsNullOrEmpty(verification.EventId))
        {
            return new WebhookResult { Outcome = WebhookOutcome.Rejected, Rejection = WebhookRejection.MalformedPayload, Message = "The event has no id." };
        }

        var stored = new StoredWebhookEvent
        {
            EventId = verification.EventId,
            EventType = verification.EventType,
            ReceivedAt = clock.GetCurrentInstant(),
            Notification = verification.Unprocessable is null ? verification.Notification : null,
            Status = verification.Unprocessable is not null ? WebhookEventStatus.Unprocessable
                : verification.Notification is null ? WebhookEventStatus.Ignored
                : WebhookEventStatus.Received,
            Error = verification.Unprocessable,
        };
        if (!await store.TryAddAsync(stored, cancellationToken).ConfigureAwait(false))
        {
            return new WebhookResult { Outcome = WebhookOutcome.Duplicate, EventId = stored.EventId };
        }

        if (stored.Status == WebhookEventStatus.Unprocessable)
        {
            return Unprocessable(stored, stored.Error!);
        }

        return stored.Notification is null
            ? new WebhookResult { Outcome = WebhookOutcome.Ignored, EventId = stored.EventId }
            : await ApplyAsync(stored, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gets how long an event may stay <see cref="WebhookEventStatus.Received"/> before it counts as failed.</summary>
    /// <remarks>An event stays received only while it is being applied, or for good when the process stopped in between;
    /// after this long it is listed by <see cref="ListFailedAsync"/> and applied again by <see cref="RetryFailedAsync"/>
    /// (applying an event twice changes nothing).</remarks>
    /// <value>Defaults to 5 minutes.</value>
    public Duration StaleAfter { get; init; } = Duration.FromMinutes(5);

    /// <summary>Lists the events whose processing failed, and those left received by a process that stopped, oldest first.</summary>
    /// <param name="max">The most events to list.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The failed events with their errors.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public async Task<ImmutableArray<StoredWebhookEvent>> ListFailedAsync(int max = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        Instant now = clock.GetCurrentInstant();
        ImmutableArray<StoredWebhookEvent> failed = await store.ListAsync(WebhookEventStatus.Failed, max, cancellationToken).ConfigureAwait(false);
        ImmutableArray<StoredWebhookEvent> received = await store.ListAsync(WebhookEventStatus.Received, max, cancellationToken).ConfigureAwait(false);
        return [.. failed.Concat(received.Where(e => IsDueForRetry(e, now))).OrderBy(e => e.ReceivedAt).Take(max)];
    }

    /// <summary>Claims up to <paramref name="max"/> events of <see cref="ListFailedAsync"/> and applies each again, oldest first.</summary>
    /// <remarks>
    /// The events are claimed for <see cref="StaleAfter"/>, so instances running this at once retry different events;
    /// an event whose claim was lost meanwhile (the lease ran out and another instance claimed it) is left to that
    /// instance and reported as <see cref="WebhookOutcome.Duplicate"/>.
    /// </remarks>
    /// <param name="max">The most events to retry in this call.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>One result per event retried.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public async Task<ImmutableArray<WebhookResult>> RetryFailedAsync(int max = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        Instant now = clock.GetCurrentInstant();
        ImmutableArray<StoredWebhookEvent> claimed = await store.ClaimRetriesAsync(now, now - StaleAfter + Duration.Epsilon, max, StaleAfter, owner, cancellationToken).ConfigureAwait(false);
        var results = ImmutableArray.CreateBuilder<WebhookResult>(claimed.Length);
        foreach (StoredWebhookEvent failed in claimed)
        {
            results.Add(await ApplyAsync(failed, cancellationToken).ConfigureAwait(false));
        }

        return results.MoveToImmutable();
    }

    /// <summary>Claims one event listed by <see cref="ListFailedAsync"/> and applies it again now, as an operator's retry.</summary>
    /// <remarks>
    /// The event is claimed by compare-and-set for <see cref="StaleAfter"/>, as <see cref="RetryFailedAsync"/> claims it,
    /// so the retry job and an operator never apply it at once. An event that is not failed (nor stale received), or is
    /// under another claim, is not retried.
    /// </remarks>
    /// <param name="eventId">The provider's event id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The result of applying it, or <see langword="null"/> when there was no failed event with this id to claim.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="eventId"/> is <see langword="null"/>.</exception>
    public async Task<WebhookResult?> RetryAsync(string eventId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        Instant now = clock.GetCurrentInstant();
        StoredWebhookEvent? stored = await store.FindAsync(eventId, cancellationToken).ConfigureAwait(false);
        bool retryable = stored is { Notification: not null }
            && IsDueForRetry(stored, now)
            && (stored.ClaimedUntil is not { } until || until <= now);
        if (!retryable)
        {
            return null;
        }

        StoredWebhookEvent claimed = stored! with { ClaimedBy = owner, ClaimedUntil = now + StaleAfter };
        if (!await store.TryUpdateAsync(stored, claimed, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return await ApplyAsync(claimed with { Version = stored.Version + 1 }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Applies one <see cref="WebhookEventStatus.Parked"/> event now, as an operator's retry, instead of waiting for its payment.</summary>
    /// <remarks>
    /// A parked event is released by itself when the payment it refers to is recorded; this looks again now (for example
    /// after the payment was recorded by other means). When the payment is still not recorded, the event stays parked
    /// with one more attempt and the reason in <see cref="StoredWebhookEvent.Error"/>, and the result is
    /// <see cref="WebhookOutcome.Parked"/>; when applying it throws, it is stored as failed for <see cref="RetryFailedAsync"/>.
    /// Every change is compare-and-set on the event's version, so a payment released at the same moment applies it once.
    /// </remarks>
    /// <param name="eventId">The provider's event id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The result of applying it, or <see langword="null"/> when there was no parked event with this id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="eventId"/> is <see langword="null"/>.</exception>
    public async Task<WebhookResult?> RetryParkedAsync(string eventId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        StoredWebhookEvent? stored = await store.FindAsync(eventId, cancellationToken).ConfigureAwait(false);
        if (stored is not { Status: WebhookEventStatus.Parked, Notification: not null })
        {
            return null;
        }

        return await ApplyAsync(stored, cancellationToken, recordStillParked: true).ConfigureAwait(false);
    }

    /// <summary>Whether an event is one <see cref="ListFailedAsync"/> lists: failed, or received and left for <see cref="StaleAfter"/> by a process that stopped.</summary>
    private bool IsDueForRetry(StoredWebhookEvent stored, Instant now) =>
        stored.Status == WebhookEventStatus.Failed
        || (stored.Status == WebhookEventStatus.Received && stored.ReceivedAt <= now - StaleAfter);

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031:Do not catch general exception types",
        Justification = "Any failure must leave the stored event listed as failed for RetryFailedAsync, not lose it.")]
    private async Task<WebhookResult> ApplyAsync(StoredWebhookEvent stored, CancellationToken cancellationToken, bool recordStillParked = false)
    {
        PaymentNotification notification = stored.Notification!;
        StoredWebhookEvent attempt = stored with { Attempts = stored.Attempts + 1, ClaimedBy = null, ClaimedUntil = null };
        bool alreadyParked = stored.Status == WebhookEventStatus.Parked;
        Offers.OrderResult? result;
        while (true)
        {
            try
            {
                if (!await payments.OrderExistsAsync(notification.Order, cancellationToken).ConfigureAwait(false))
                {
                    // No retry can make an order exist that was never placed here (another shop on the same provider
                    // account, a test environment, a restored database): park it with the reason, not fail it every minute.
                    string reason = $"Order {notification.Order} is unknown: it was not placed by this shop.";
                    return await store.TryUpdateAsync(stored, attempt with { Status = WebhookEventStatus.Unprocessable, Error = reason }, cancellationToken).ConfigureAwait(false)
                        ? Unprocessable(stored, reason)
                        : Lost(stored);
                }

                result = await payments.ApplyAsync(notification, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                // Stored as failed even when the caller cancelled: left as received it would be neither retried nor, being a duplicate, redelivered.
                await store.TryUpdateAsync(stored, attempt with { Status = WebhookEventStatus.Failed, Error = error.Message }, CancellationToken.None).ConfigureAwait(false);
                if (error is OperationCanceledException && cancellationToken.IsCancellationRequested)
                {
                    throw;
                }

                return new WebhookResult { Outcome = WebhookOutcome.Failed, EventId = stored.EventId, Message = error.Message };
            }

            if (result is not null)
            {
                break;
            }

            if (alreadyParked && recordStillParked)
            {
                // An operator's retry: record the attempt and why it still waits, so the page shows it.
                string reason = $"Payment {notification.PaymentId} of order {notification.Order} is not recorded yet; "
                    + "the event stays parked until it is.";
                return await store.TryUpdateAsync(stored, attempt with { Status = WebhookEventStatus.Parked, Error = reason }, cancellationToken).ConfigureAwait(false)
                    ? new WebhookResult { Outcome = WebhookOutcome.Parked, EventId = stored.EventId, Message = reason }
                    : Lost(stored);
            }

            if (alreadyParked)
            {
                return new WebhookResult { Outcome = WebhookOutcome.Parked, EventId = stored.EventId };
            }

            // Park, then look once more: the payment may have been recorded after our look by a caller that then found
            // nothing parked to release. Of the two, at least one sees the other's write; applying twice is harmless.
            StoredWebhookEvent parked = attempt with { Status = WebhookEventStatus.Parked, Error = null };
            if (!await store.TryUpdateAsync(stored, parked, cancellationToken).ConfigureAwait(false))
            {
                return Lost(stored);
            }

            stored = parked with { Version = stored.Version + 1 };
            alreadyParked = true;
        }

        if (!await store.TryUpdateAsync(stored, attempt with { Status = WebhookEventStatus.Processed, Error = null }, cancellationToken).ConfigureAwait(false))
        {
            // Another caller changed the event first (it released this parked event, or claimed it for a retry after our claim
            // ran out); applying it twice changed nothing, and the other caller records it.
            return Lost(stored);
        }

        ImmutableArray<FunnelEvent> events = result.Events;
        if (notification.Kind == PaymentNotificationKind.PaymentSucceeded)
        {
            foreach (StoredWebhookEvent parked in await store.ListParkedAsync(notification.Order, notification.PaymentId, cancellationToken).ConfigureAwait(false))
            {
                events = events.AddRange((await ApplyAsync(parked, cancellationToken).ConfigureAwait(false)).Events);
            }
        }

        return new WebhookResult { Outcome = WebhookOutcome.Processed, EventId = stored.EventId, Events = events };
    }

    private static WebhookResult Unprocessable(StoredWebhookEvent stored, string reason) => new()
    {
        Outcome = WebhookOutcome.Unprocessable,
        EventId = stored.EventId,
        Message = reason,
    };

    private static WebhookResult Lost(StoredWebhookEvent stored) => new()
    {
        Outcome = WebhookOutcome.Duplicate,
        EventId = stored.EventId,
        Message = "Another caller changed the event first; it completes it.",
    };
}
