using System.Collections.Immutable;
using System.Text.Json;
using Funnel.Payments;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Commerce;

/// <summary>The PostgreSQL <see cref="IWebhookEventStore"/>: the webhook inbox, keyed by the provider's event id.</summary>
/// <remarks>
/// <para>
/// Insert-if-absent is <c>INSERT … ON CONFLICT (event_id) DO NOTHING</c>, so of the instances that receive one event at
/// once exactly one stores it, and a redelivery after a restart is a duplicate. Each event is a jsonb document (the one
/// Funnel.Storage.Sqlite writes) plus the columns its lookups need: status and received instant (lists and the retry
/// claim, indexed), the claim's end, and the notification's order and payment (a partial index of parked events).
/// </para>
/// <para>
/// A retry claim is one statement: it selects the oldest claimable events <c>FOR UPDATE SKIP LOCKED</c> and stores the
/// claim (owner, end, next version) in the same statement, so instances claiming at once take different events, and an
/// event whose claim ended (its holder crashed) is claimable again. Each claim bumps the version, fencing the holder of
/// an expired claim. Columns keep microseconds: <c>claimed_until</c> is rounded up, so a claim never ends early; the
/// received instant is compared to the microsecond. The document keeps both to the nanosecond.
/// </para>
/// </remarks>
internal sealed class PgWebhookEventStore : IWebhookEventStore
{
    private const string Columns = "event_id, version, format, document";

    private static readonly Duration BelowMicrosecond = Duration.FromNanoseconds(999);

    private readonly PgDatabase _database;
    private readonly string _select;
    private readonly string _insert;
    private readonly string _update;
    private readonly string _claim;

    public PgWebhookEventStore(PgDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
        string events = database.Table("webhook_events");
        _select = $"SELECT {Columns} FROM {events} WHERE event_id = $1";
        _insert =
            $"INSERT INTO {events} (event_id, received_at, status, claimed_until, order_id, payment_id, version, format, document) " +
            "VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8::jsonb) ON CONFLICT (event_id) DO NOTHING";
        _update =
            $"UPDATE {events} SET received_at = $2, status = $3, claimed_until = $4, order_id = $5, payment_id = $6, version = $9 + 1, " +
            "format = $7, document = $8::jsonb WHERE event_id = $1 AND version = $9";
        List = $"SELECT {Columns} FROM {events} WHERE status = $1 ORDER BY received_at, event_id LIMIT $2";
        ListParked =
            $"SELECT {Columns} FROM {events} WHERE status = 3 AND order_id = $1 AND payment_id = $2 ORDER BY received_at, event_id";

        // Received (0) events left by a stopped process and failed (4) ones, whose earlier claim has ended.
        Claimable =
            $"SELECT event_id FROM {events} WHERE status IN (0, 4) AND (status = 4 OR received_at < $1) " +
            "AND (claimed_until IS NULL OR claimed_until <= $2) ORDER BY received_at, event_id LIMIT $3";
        _claim =
            $"WITH due AS ({Claimable} FOR UPDATE SKIP LOCKED) " +
            $"UPDATE {events} AS w SET claimed_until = $4, version = w.version + 1, " +
            "document = w.document || jsonb_build_object('claimedBy', $5::text, 'claimedUntil', $6::jsonb, 'version', w.version + 1) " +
            "FROM due WHERE w.event_id = due.event_id RETURNING w.event_id, w.version, w.format, w.document";
    }

    /// <summary>Gets the query of <see cref="ListAsync"/> (<c>$1</c> status, <c>$2</c> max), for query-plan tests.</summary>
    internal string List { get; }

    /// <summary>Gets the query of <see cref="ListParkedAsync"/> (<c>$1</c> order, <c>$2</c> payment).</summary>
    internal string ListParked { get; }

    /// <summary>Gets the selection of <see cref="ClaimRetriesAsync"/> (<c>$1</c> received before, <c>$2</c> now, <c>$3</c> max).</summary>
    internal string Claimable { get; }

    public Task<StoredWebhookEvent?> FindAsync(string eventId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        return _database.QueryFirstAsync(_select, [eventId], Map, cancellationToken);
    }

    public Task<bool> TryAddAsync(StoredWebhookEvent stored, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stored);
        StoredWebhookEvent added = stored with { Version = 0 };
        return _database.ExecuteAsync(_insert, Row(added), cancellationToken);
    }

    public Task<bool> TryUpdateAsync(StoredWebhookEvent current, StoredWebhookEvent replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        StoredWebhookEvent next = replacement with { EventId = current.EventId, Version = current.Version + 1 };
        return _database.ExecuteAsync(_update, [.. Row(next), current.Version], cancellationToken);
    }

    public Task<ImmutableArray<StoredWebhookEvent>> ListAsync(WebhookEventStatus status, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return _database.QueryAsync(List, [status, max], Map, cancellationToken);
    }

    public Task<ImmutableArray<StoredWebhookEvent>> ListParkedAsync(OrderId order, string paymentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paymentId);
        return _database.QueryAsync(ListParked, [order.Value, paymentId], Map, cancellationToken);
    }

    public async Task<ImmutableArray<StoredWebhookEvent>> ClaimRetriesAsync(
        Instant now, Instant receivedBefore, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentNullException.ThrowIfNull(owner);
        if (lease <= Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "The lease must be positive.");
        }

        Instant until = now + lease;
        ImmutableArray<StoredWebhookEvent> claimed = await _database.QueryAsync(
            _claim,
            [Ceiling(receivedBefore), now, max, Ceiling(until), owner, JsonSerializer.Serialize(until, FunnelJson.Options)],
            Map,
            cancellationToken).ConfigureAwait(false);

        // RETURNING follows no order; the claim's order is the selection's.
        return [.. claimed.OrderBy(static e => e.ReceivedAt).ThenBy(static e => e.EventId, StringComparer.Ordinal)];
    }

    /// <summary>Returns the parameters <c>$1</c>…<c>$8</c> of the insert and update.</summary>
    private static object?[] Row(StoredWebhookEvent e) =>
    [
        e.EventId,
        e.ReceivedAt,
        e.Status,
        e.ClaimedUntil is { } until ? Ceiling(until) : null,
        e.Notification?.Order.Value,
        e.Notification?.PaymentId,
        CommerceDocuments.Format,
        CommerceDocuments.Write(e),
    ];

    /// <summary>Rounds an instant up to the microsecond (a <c>timestamptz</c> parameter truncates).</summary>
    private static Instant Ceiling(Instant instant) => instant >= Instant.MaxValue - BelowMicrosecond ? instant : instant + BelowMicrosecond;

    private static StoredWebhookEvent Map(NpgsqlDataReader r) =>
        CommerceDocuments.Read<StoredWebhookEvent>(r.GetString(3), r.GetInt16(2), "Webhook event", r.GetString(0)) with
        {
            EventId = r.GetString(0),
            Version = r.GetInt64(1),
        };
}
