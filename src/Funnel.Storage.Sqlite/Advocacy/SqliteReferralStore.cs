using System.Collections.Immutable;
using Funnel.Advocacy;
using Funnel.Storage.Sqlite.Internal;
using NodaTime;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.Sqlite.Advocacy;

/// <summary>The SQLite <see cref="IReferralStore"/>: table <c>referrals</c>, keyed by the friend.</summary>
/// <remarks><c>purchased_clears_at</c> holds <see cref="Referral.ClearsAt"/> while the referral is <see cref="ReferralStatus.Purchased"/>, so <see cref="ListClearedAsync"/> scans a partial index.</remarks>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class SqliteReferralStore(SqliteDatabase database) : IReferralStore
{
    private readonly SqliteDocumentTable<Referral> _referrals = new(
        database,
        "referrals",
        [
            new("friend_id", PrimaryKey, static r => r.Friend.Value),
            new("purchased_clears_at", Derived, static r => r.Status == ReferralStatus.Purchased ? r.ClearsAt : null),
        ],
        new(static r => r.Version, static (r, v) => r with { Version = v }));

    /// <inheritdoc/>
    public Task<Referral?> FindAsync(LeadId lead, CancellationToken cancellationToken = default) =>
        _referrals.FindAsync([lead.Value], cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<Referral>> ListClearedAsync(Instant now, int max, CancellationToken cancellationToken = default) =>
        _referrals.ListAsync(
            "SELECT document, version FROM referrals WHERE purchased_clears_at <= $now ORDER BY purchased_clears_at, rowid LIMIT $max",
            [("$now", InstantBound.Of(now))],
            max,
            cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="referral"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(Referral referral, CancellationToken cancellationToken = default) =>
        _referrals.TryAddAsync(referral, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another friend.</exception>
    public Task<bool> TryUpdateAsync(Referral current, Referral replacement, CancellationToken cancellationToken = default) =>
        _referrals.TryUpdateAsync(current, replacement, cancellationToken);
}
