using System.Collections.Immutable;
using Funnel.CartRecovery;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Commerce;

/// <summary>The PostgreSQL <see cref="ICheckoutStore"/>: one row per lead and offer.</summary>
/// <remarks>
/// Insert-if-absent is <c>INSERT … ON CONFLICT (lead_id, offer) DO NOTHING</c> and replace-if-version an
/// <c>UPDATE … WHERE version = $n</c>. A claim is one statement: it selects the earliest due open checkouts
/// <c>FOR UPDATE SKIP LOCKED</c> and stores the claim (owner, end, next version) in the same statement, so instances
/// claiming at once take different checkouts. Instants are kept to the microsecond; <c>claimed_until</c> is rounded up,
/// so a claim never ends early.
/// </remarks>
internal sealed class PgCheckoutStore : ICheckoutStore
{
    private const string Columns = "lead_id, offer, checkout_id, started_at, due_at, status, claimed_by, claimed_until, version";

    private static readonly Duration BelowMicrosecond = Duration.FromNanoseconds(999);

    private readonly PgDatabase _database;
    private readonly string _select;
    private readonly string _insert;
    private readonly string _update;
    private readonly string _claim;

    public PgCheckoutStore(PgDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
        string checkouts = database.Table("checkouts");
        _select = $"SELECT {Columns} FROM {checkouts} WHERE lead_id = $1 AND offer = $2";
        _insert =
            $"INSERT INTO {checkouts} ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0) ON CONFLICT (lead_id, offer) DO NOTHING";
        _update =
            $"UPDATE {checkouts} SET checkout_id = $3, started_at = $4, due_at = $5, status = $6, claimed_by = $7, claimed_until = $8, " +
            "version = $9 + 1 WHERE lead_id = $1 AND offer = $2 AND version = $9";
        Claimable =
            $"SELECT lead_id, offer FROM {checkouts} WHERE status = 0 AND due_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1) " +
            "ORDER BY due_at LIMIT $2";
        _claim =
            $"WITH due AS ({Claimable} FOR UPDATE SKIP LOCKED) " +
            $"UPDATE {checkouts} AS c SET claimed_by = $3, claimed_until = $4, version = c.version + 1 " +
            "FROM due WHERE c.lead_id = due.lead_id AND c.offer = due.offer " +
            "RETURNING c.lead_id, c.offer, c.checkout_id, c.started_at, c.due_at, c.status, c.claimed_by, c.claimed_until, c.version";
    }

    /// <summary>Gets the selection of <see cref="ClaimDueAsync"/> (<c>$1</c> now, <c>$2</c> max), for query-plan tests.</summary>
    internal string Claimable { get; }

    public Task<TrackedCheckout?> FindAsync(LeadId lead, OfferId offer, CancellationToken cancellationToken = default) =>
        _database.QueryFirstAsync(_select, [lead.Value, offer.Value], Map, cancellationToken);

    public Task<bool> TryAddAsync(TrackedCheckout checkout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkout);
        return _database.ExecuteAsync(_insert, Row(checkout, checkout.Lead, checkout.Offer), cancellationToken);
    }

    public Task<bool> TryUpdateAsync(TrackedCheckout current, TrackedCheckout replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        return _database.ExecuteAsync(_update, [.. Row(replacement, current.Lead, current.Offer), current.Version], cancellationToken);
    }

    public async Task<ImmutableArray<TrackedCheckout>> ClaimDueAsync(
        Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentNullException.ThrowIfNull(owner);
        if (lease <= Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "The lease must be positive.");
        }

        ImmutableArray<TrackedCheckout> claimed = await _database.QueryAsync(
            _claim, [now, max, owner, Ceiling(now + lease)], Map, cancellationToken).ConfigureAwait(false);

        // RETURNING follows no order; the claim's order is the selection's.
        return [.. claimed.OrderBy(static c => c.DueAt)];
    }

    /// <summary>Returns the parameters <c>$1</c>…<c>$8</c> of the insert and update.</summary>
    private static object?[] Row(TrackedCheckout c, LeadId lead, OfferId offer) =>
    [
        lead.Value,
        offer.Value,
        c.Checkout.Value,
        c.StartedAt,
        c.DueAt,
        c.Status,
        c.ClaimedBy,
        c.ClaimedUntil is { } until ? Ceiling(until) : null,
    ];

    /// <summary>Rounds an instant up to the microsecond (a <c>timestamptz</c> parameter truncates).</summary>
    private static Instant Ceiling(Instant instant) => instant >= Instant.MaxValue - BelowMicrosecond ? instant : instant + BelowMicrosecond;

    private static TrackedCheckout Map(NpgsqlDataReader r) => new()
    {
        Lead = new LeadId(r.GetGuid(0)),
        Offer = new OfferId(r.GetString(1)),
        Checkout = new EventId(r.GetGuid(2)),
        StartedAt = r.GetInstant(3),
        DueAt = r.GetInstant(4),
        Status = (CheckoutStatus)r.GetInt16(5),
        ClaimedBy = r.GetNullableString(6),
        ClaimedUntil = r.GetNullableInstant(7),
        Version = r.GetInt64(8),
    };
}
