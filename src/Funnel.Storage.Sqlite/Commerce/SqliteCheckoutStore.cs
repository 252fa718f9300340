using System.Collections.Immutable;
using Funnel.CartRecovery;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;
using NodaTime;

namespace Funnel.Storage.Sqlite.Commerce;

/// <summary>The SQLite <see cref="ICheckoutStore"/>: one row per lead and offer.</summary>
/// <remarks>
/// Insert-if-absent is <c>INSERT … ON CONFLICT (lead_id, offer) DO NOTHING</c> and replace-if-version an
/// <c>UPDATE … WHERE version = $version</c>. A claim selects the due open checkouts and stores the claim in one write
/// transaction, and SQLite has one writer (across processes too), so two claimers never take the same checkout.
/// </remarks>
internal sealed class SqliteCheckoutStore(SqliteDatabase database) : ICheckoutStore
{
    private const string Columns = "lead_id, offer, checkout_id, started_at, due_at, status, claimed_by, claimed_until, version";

    private const string Select = $"SELECT {Columns} FROM checkouts WHERE lead_id = $lead AND offer = $offer";

    private const string Insert =
        $"INSERT INTO checkouts ({Columns}) VALUES ($lead, $offer, $checkout, $started, $due, $status, $by, $until, 0) " +
        "ON CONFLICT (lead_id, offer) DO NOTHING";

    private const string Update =
        "UPDATE checkouts SET checkout_id = $checkout, started_at = $started, due_at = $due, status = $status, claimed_by = $by, " +
        "claimed_until = $until, version = $version + 1 WHERE lead_id = $lead AND offer = $offer AND version = $version";

    internal const string Claimable =
        $"SELECT {Columns} FROM checkouts WHERE status = 0 AND due_at <= $now AND (claimed_until IS NULL OR claimed_until <= $now) " +
        "ORDER BY due_at, lead_id, offer LIMIT $max";

    public Task<TrackedCheckout?> FindAsync(LeadId lead, OfferId offer, CancellationToken cancellationToken = default) =>
        database.ReadAsync(s => s.QueryFirst(Select, Map, ("$lead", lead.Value), ("$offer", offer.Value)), cancellationToken);

    public Task<bool> TryAddAsync(TrackedCheckout checkout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkout);
        return database.WriteAsync(s => Store(s, Insert, checkout, checkout.Lead, checkout.Offer, 0), cancellationToken);
    }

    public Task<bool> TryUpdateAsync(TrackedCheckout current, TrackedCheckout replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        return database.WriteAsync(s => Store(s, Update, replacement, current.Lead, current.Offer, current.Version), cancellationToken);
    }

    public Task<ImmutableArray<TrackedCheckout>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentNullException.ThrowIfNull(owner);
        if (lease <= Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "The lease must be positive.");
        }

        return database.WriteAsync(
            s =>
            {
                List<TrackedCheckout> due = s.Query(Claimable, Map, ("$now", now), ("$max", max));
                ImmutableArray<TrackedCheckout>.Builder claimed = ImmutableArray.CreateBuilder<TrackedCheckout>(due.Count);
                foreach (TrackedCheckout c in due)
                {
                    TrackedCheckout next = c with { ClaimedBy = owner, ClaimedUntil = now + lease };
                    if (!Store(s, Update, next, c.Lead, c.Offer, c.Version))
                    {
                        throw new InvalidOperationException($"The checkout of lead {c.Lead} for offer '{c.Offer}' changed inside the write that claims it.");
                    }

                    claimed.Add(next with { Version = c.Version + 1 });
                }

                return claimed.MoveToImmutable();
            },
            cancellationToken);
    }

    private static bool Store(SqliteSession s, string sql, TrackedCheckout c, LeadId lead, OfferId offer, long version) =>
        s.Execute(
            sql,
            ("$lead", lead.Value),
            ("$offer", offer.Value),
            ("$checkout", c.Checkout.Value),
            ("$started", c.StartedAt),
            ("$due", c.DueAt),
            ("$status", c.Status),
            ("$by", c.ClaimedBy),
            ("$until", c.ClaimedUntil),
            ("$version", version)) == 1;

    private static TrackedCheckout Map(SqliteDataReader r) => new()
    {
        Lead = new LeadId(Guid.Parse(r.GetString(0))),
        Offer = new OfferId(r.GetString(1)),
        Checkout = new EventId(Guid.Parse(r.GetString(2))),
        StartedAt = r.GetInstant(3),
        DueAt = r.GetInstant(4),
        Status = (CheckoutStatus)r.GetInt32(5),
        ClaimedBy = r.GetNullableString(6),
        ClaimedUntil = r.GetNullableInstant(7),
        Version = r.GetInt64(8),
    };
}
