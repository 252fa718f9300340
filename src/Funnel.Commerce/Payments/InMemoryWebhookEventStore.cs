using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Payments;

/// <summary>The in-memory <see cref="IWebhookEventStore"/>.</summary>
/// <remarks>Lists and claims scan the stored events under one lock; parked events are also indexed by order and payment.</remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class InMemoryWebhookEventStore : IWebhookEventStore
{
    private readonly Dictionary<string, StoredWebhookEvent> _events = new(StringComparer.Ordinal);
    private readonly Dictionary<(OrderId Order, string PaymentId), HashSet<string>> _parked = [];
    private readonly Lock _gate = new();

    /// <inheritdoc/>
    public Task<StoredWebhookEvent?> FindAsync(string eventId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_events.GetValueOrDefault(eventId));
        }
    }

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(StoredWebhookEvent stored, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stored);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            StoredWebhookEvent added = stored with { Version = 0 };
            if (!_events.TryAdd(added.EventId, added))
            {
                return Task.FromResult(false);
            }

            Index(null, added);
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task<bool> TryUpdateAsync(StoredWebhookEvent current, StoredWebhookEvent replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_events.TryGetValue(current.EventId, out StoredWebhookEvent? stored) || stored.Version != current.Version)
            {
                return Task.FromResult(false);
            }

            StoredWebhookEvent next = replacement with { EventId = current.EventId, Version = current.Version + 1 };
            _events[current.EventId] = next;
            Index(stored, next);
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<StoredWebhookEvent>> ListAsync(WebhookEventStatus status, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult<ImmutableArray<StoredWebhookEvent>>([.. Oldest(_events.Values.Where(e => e.Status == status)).Take(max)]);
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<StoredWebhookEvent>> ListParkedAsync(OrderId order, string paymentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paymentId);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult<ImmutableArray<StoredWebhookEvent>>(_parked.TryGetValue((order, paymentId), out HashSet<string>? ids)
                ? [.. Oldest(ids.Select(id => _events[id]))]
                : []);
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<StoredWebhookEvent>> ClaimRetriesAsync(Instant now, Instant receivedBefore, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentNullException.ThrowIfNull(owner);
        if (lease <= Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "The lease must be positive.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            List<StoredWebhookEvent> due = [.. Oldest(_events.Values.Where(e =>
                (e.Status == WebhookEventStatus.Failed || e.Status == WebhookEventStatus.Received && e.ReceivedAt < receivedBefore)
                && (e.ClaimedUntil is not { } until || until <= now))).Take(max)];
            ImmutableArray<StoredWebhookEvent>.Builder claimed = ImmutableArray.CreateBuilder<StoredWebhookEvent>(due.Count);
            foreach (StoredWebhookEvent e in due)
            {
                StoredWebhookEvent next = e with { ClaimedBy = owner, ClaimedUntil = now + lease, Version = e.Version + 1 };
                _events[e.EventId] = next;
                claimed.Add(next);
            }

            return Task.FromResult(claimed.MoveToImmutable());
        }
    }

    private static IEnumerable<StoredWebhookEvent> Oldest(IEnumerable<StoredWebhookEvent> events) =>
        events.OrderBy(static e => e.ReceivedAt).ThenBy(static e => e.EventId, StringComparer.Ordinal);

    private void Index(StoredWebhookEvent? before, StoredWebhookEvent after)
    {
        if (before is { Status: WebhookEventStatus.Parked, Notification: { } was }
            && _parked.TryGetValue((was.Order, was.PaymentId), out HashSet<string>? ids))
        {
            ids.Remove(before.EventId);
            if (ids.Count == 0)
            {
                _parked.Remove((was.Order, was.PaymentId));
            }
        }

        if (after is { Status: WebhookEventStatus.Parked, Notification: { } now })
        {
            if (!_parked.TryGetValue((now.Order, now.PaymentId), out HashSet<string>? set))
            {
                _parked[(now.Order, now.PaymentId)] = set = new HashSet<string>(StringComparer.Ordinal);
            }

            set.Add(after.EventId);
        }
    }
}
