using System.Collections.Immutable;
using Funnel.Payments;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;
using NodaTime;

namespace Funnel.Storage.Sqlite.Commerce;

/// <summary>The SQLite <see cref="IWebhookEventStore"/>: the webhook inbox, keyed by the provider's event id.</summary>
/// <remarks>
/// <para>
/// Insert-if-absent is <c>INSERT … ON CONFLICT (event_id) DO NOTHING</c>, so a webhook redelivered after a restart is
/// a duplicate. Each event is a JSON document plus the columns its lookups need: status and received instant (lists and
/// the retry claim, indexed), the claim's end, and the notification's order and payment (a partial index of parked
/// events for <see cref="ListParkedAsync"/>).
/// </para>
/// <para>
/// A retry claim selects and re-stores the claimed events in one write transaction, and SQLite has one writer, so two
/// claimers never get the same event; each claim bumps the version, fencing the holder of an expired claim.
/// </para>
/// </remarks>
internal sealed class SqliteWebhookEventStore(SqliteDatabase database) : IWebhookEventStore
{
    private const string Columns = "event_id, version, format, document";

    private const string Select = $"SELECT {Columns} FROM webhook_events WHERE event_id = $id";

    private const string Insert =
        "INSERT INTO webhook_events (event_id, received_at, status, claimed_until, order_id, payment_id, version, format, document) " +
        "VALUES ($id, $received, $status, $until, $order, $payment, 0, $format, $document) ON CONFLICT (event_id) DO NOTHING";

    private const string Update =
        "UPDATE webhook_events SET received_at = $received, status = $status, claimed_until = $until, order_id = $order, " +
        "payment_id = $payment, version = $next, format = $format, document = $document WHERE event_id = $id AND version = $version";

    internal const string List =
        $"SELECT {Columns} FROM webhook_events WHERE status = $status ORDER BY received_at, event_id LIMIT $max";

    internal const string ListParked =
        $"SELECT {Columns} FROM webhook_events WHERE status = 3 AND order_id = $order AND payment_id = $payment ORDER BY received_at, event_id";

    // Received (0) events left by a stopped process and failed (4) ones, whose earlier claim has ended.
    internal const string Claimable =
        $"SELECT {Columns} FROM webhook_events WHERE status IN (0, 4) AND (status = 4 OR received_at < $before) " +
        "AND (claimed_until IS NULL OR claimed_until <= $now) ORDER BY received_at, event_id LIMIT $max";

    public Task<StoredWebhookEvent?> FindAsync(string eventId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        return database.ReadAsync(s => s.QueryFirst(Select, Map, ("$id", eventId)), cancellationToken);
    }

    public Task<bool> TryAddAsync(StoredWebhookEvent stored, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stored);
        StoredWebhookEvent added = stored with { Version = 0 };
        string document = CommerceDocuments.Write(added);
        return database.WriteAsync(
            s => s.Execute(
                Insert,
                ("$id", added.EventId),
                ("$received", added.ReceivedAt),
                ("$status", added.Status),
                ("$until", added.ClaimedUntil),
                ("$order", added.Notification?.Order.Value),
                ("$payment", added.Notification?.PaymentId),
                ("$format", CommerceDocuments.Format),
                ("$document", document)) == 1,
            cancellationToken);
    }

    public Task<bool> TryUpdateAsync(StoredWebhookEvent current, StoredWebhookEvent replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        StoredWebhookEvent next = replacement with { EventId = current.EventId, Version = current.Version + 1 };
        string document = CommerceDocuments.Write(next);
        return database.WriteAsync(s => Store(s, next, current.Version, document), cancellationToken);
    }

    public Task<ImmutableArray<StoredWebhookEvent>> ListAsync(WebhookEventStatus status, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return database.ReadAsync(s => s.Query(List, Map, ("$status", status), ("$max", max)).ToImmutableArray(), cancellationToken);
    }

    public Task<ImmutableArray<StoredWebhookEvent>> ListParkedAsync(OrderId order, string paymentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paymentId);
        return database.ReadAsync(
            s => s.Query(ListParked, Map, ("$order", order.Value), ("$payment", paymentId)).ToImmutableArray(),
            cancellationToken);
    }

    public Task<ImmutableArray<StoredWebhookEvent>> ClaimRetriesAsync(Instant now, Instant receivedBefore, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentNullException.ThrowIfNull(owner);
        if (lease <= Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "The lease must be positive.");
        }

        Instant until = now + lease;
        return database.WriteAsync(
            s =>
            {
                List<StoredWebhookEvent> due = s.Query(Claimable, Map, ("$before", receivedBefore), ("$now", now), ("$max", max));
                ImmutableArray<StoredWebhookEvent>.Builder claimed = ImmutableArray.CreateBuilder<StoredWebhookEvent>(due.Count);
                foreach (StoredWebhookEvent e in due)
                {
                    StoredWebhookEvent next = e with { ClaimedBy = owner, ClaimedUntil = until, Version = e.Version + 1 };
                    if (!Store(s, next, e.Version, CommerceDocuments.Write(next)))
                    {
                        throw new InvalidOperationException($"Webhook event {e.EventId} changed inside the write that claims it.");
                    }

                    claimed.Add(next);
                }

                return claimed.MoveToImmutable();
            },
            cancellationToken);
    }

    private static bool Store(SqliteSession s, StoredWebhookEvent next, long version, string document) =>
        s.Execute(
            Update,
            ("$id", next.EventId),
            ("$version", version),
            ("$next", next.Version),
            ("$received", next.ReceivedAt),
            ("$status", next.Status),
            ("$until", next.ClaimedUntil),
            ("$order", next.Notification?.Order.Value),
            ("$payment", next.Notification?.PaymentId),
            ("$format", CommerceDocuments.Format),
            ("$document", document)) == 1;

    private static StoredWebhookEvent Map(SqliteDataReader r) =>
        CommerceDocuments.Read<StoredWebhookEvent>(r.GetString(3), r.GetInt64(2), "Webhook event", r.GetString(0)) with
        {
            EventId = r.GetString(0),
            Version = r.GetInt64(1),
        };
}
