using System.Collections.Immutable;
using Funnel.Advocacy;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.PostgreSql.Advocacy;

/// <summary>The PostgreSQL <see cref="IReferralStore"/>: table <c>referrals</c>, keyed by the friend.</summary>
/// <remarks>
/// <c>purchased_clears_at</c> holds <see cref="Referral.ClearsAt"/> while the referral is
/// <see cref="ReferralStatus.Purchased"/>, so <see cref="ListClearedAsync"/> scans a partial index; it keeps
/// microseconds, and the store drops a referral that clears later within <c>now</c>'s microsecond
/// (see <see cref="MicrosecondBound"/>).
/// </remarks>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class PgReferralStore(PgDatabase database) : IReferralStore
{
    private readonly PgDocumentTable<Referral> _referrals = new(
        database,
        "referrals",
        [
            new("friend_id", PrimaryKey, static r => r.Friend.Value),
            new("purchased_clears_at", Derived, static r => PurchasedClearsAt(r)),
        ],
        new(static r => r.Version, static (r, v) => r with { Version = v }));

    /// <inheritdoc/>
    public Task<Referral?> FindAsync(LeadId lead, CancellationToken cancellationToken = default) =>
        _referrals.FindAsync([lead.Value], cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public async Task<ImmutableArray<Referral>> ListClearedAsync(Instant now, int max, CancellationToken cancellationToken = default)
    {
        ImmutableArray<Referral> referrals = await _referrals.ListAsync(
            $"SELECT document, version FROM {_referrals.Name} WHERE purchased_clears_at <= @now " +
            "ORDER BY purchased_clears_at, seq LIMIT @max",
            [("now", now)],
            max,
            cancellationToken).ConfigureAwait(false);
        return MicrosecondBound.Keep(referrals, r => PurchasedClearsAt(r) <= now);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="referral"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(Referral referral, CancellationToken cancellationToken = default) =>
        _referrals.TryAddAsync(referral, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another friend.</exception>
    public Task<bool> TryUpdateAsync(Referral current, Referral replacement, CancellationToken cancellationToken = default) =>
        _referrals.TryUpdateAsync(current, replacement, cancellationToken);

    private static Instant? PurchasedClearsAt(Referral referral) =>
        referral.Status == ReferralStatus.Purchased ? referral.ClearsAt : null;
}
