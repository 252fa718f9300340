using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Payments;

/// <summary>Stores accepted webhook events (the webhook inbox); replace the in-memory default with durable storage.</summary>
/// <remarks>
/// <para>
/// The store follows Funnel's store convention. <see cref="TryAddAsync"/> must be atomic on the event id: it is what
/// makes processing exactly-once under concurrent duplicates. <see cref="TryUpdateAsync"/> replaces an event only when
/// the stored <see cref="StoredWebhookEvent.Version"/> is still the one read.
/// </para>
/// <para>
/// Retries are claimed with a lease (<see cref="ClaimRetriesAsync"/>), so several instances can run the retry job at
/// once: a claim bumps the version, so the holder of an expired claim can no longer complete the event (fencing).
/// A database implementation indexes <c>(status, received_at)</c> for the claim and <c>(order_id, payment_id)</c>
/// of parked events for <see cref="ListParkedAsync"/>.
/// </para>
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads and processes at once.</threadsafety>
public interface IWebhookEventStore
{
    /// <summary>Finds an event by the provider's event id.</summary>
    /// <param name="eventId">The provider's event id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The event as stored, or <see langword="null"/> when there is none.</returns>
    Task<StoredWebhookEvent?> FindAsync(string eventId, CancellationToken cancellationToken = default);

    /// <summary>Stores a new event unless one with the same id exists (insert-if-absent).</summary>
    /// <param name="stored">The event; it is stored with version 0.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="false"/> when the id was already stored (a replay).</returns>
    Task<bool> TryAddAsync(StoredWebhookEvent stored, CancellationToken cancellationToken = default);

    /// <summary>Replaces <paramref name="current"/> with <paramref name="replacement"/> if the stored version is still <paramref name="current"/>'s (replace-if-version).</summary>
    /// <param name="current">The event as read or claimed.</param>
    /// <param name="replacement">Its new state; it is stored with <paramref name="current"/>'s event id and version plus one.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when it changed first (such as a claim by another instance).</returns>
    Task<bool> TryUpdateAsync(StoredWebhookEvent current, StoredWebhookEvent replacement, CancellationToken cancellationToken = default);

    /// <summary>Lists up to <paramref name="max"/> events in a state, oldest first.</summary>
    /// <param name="status">The state, such as <see cref="WebhookEventStatus.Failed"/>.</param>
    /// <param name="max">The most events to return.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The events, by received instant, then event id.</returns>
    Task<ImmutableArray<StoredWebhookEvent>> ListAsync(WebhookEventStatus status, int max, CancellationToken cancellationToken = default);

    /// <summary>Lists the parked events about one payment of an order, to re-apply once the payment is recorded.</summary>
    /// <param name="order">The order.</param>
    /// <param name="paymentId">The provider's payment id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The parked events whose notification names the order and payment, oldest first.</returns>
    Task<ImmutableArray<StoredWebhookEvent>> ListParkedAsync(OrderId order, string paymentId, CancellationToken cancellationToken = default);

    /// <summary>Claims up to <paramref name="max"/> events to retry, oldest first, with a lease.</summary>
    /// <remarks>
    /// Claimable are <see cref="WebhookEventStatus.Failed"/> events and <see cref="WebhookEventStatus.Received"/> events
    /// received before <paramref name="receivedBefore"/> (left by a process that stopped), whose earlier claim, if any,
    /// ended by <paramref name="now"/>. Each claimed event is stored with <see cref="StoredWebhookEvent.ClaimedBy"/>,
    /// <see cref="StoredWebhookEvent.ClaimedUntil"/> = <paramref name="now"/> + <paramref name="lease"/> and the next
    /// version, atomically, so two callers never hold the same event at once.
    /// </remarks>
    /// <param name="now">The current instant.</param>
    /// <param name="receivedBefore">Received events are retried only when received before this instant.</param>
    /// <param name="max">The most events to claim.</param>
    /// <param name="lease">How long the claim lasts.</param>
    /// <param name="owner">The claiming instance's id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The claimed events, as stored.</returns>
    Task<ImmutableArray<StoredWebhookEvent>> ClaimRetriesAsync(Instant now, Instant receivedBefore, int max, Duration lease, string owner, CancellationToken cancellationToken = default);
}
