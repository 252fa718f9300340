using System.Collections.Immutable;
using Funnel.Advocacy;
using Funnel.Storage.PostgreSql.Internal;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.PostgreSql.Advocacy;

/// <summary>The PostgreSQL <see cref="IAffiliatePayoutStore"/>: table <c>affiliate_payouts</c>, in the order the payouts were added.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class PgAffiliatePayoutStore(PgDatabase database) : IAffiliatePayoutStore
{
    private readonly PgDocumentTable<Payout> _payouts = new(
        database,
        "affiliate_payouts",
        [new("id", PrimaryKey, static p => p.Id), new("affiliate_id", Kept, static p => p.Affiliate.Value)],
        versioning: null);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="payout"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(Payout payout, CancellationToken cancellationToken = default) =>
        _payouts.TryAddAsync(payout, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<Payout>> ListAsync(AffiliateId affiliate, int max, CancellationToken cancellationToken = default) =>
        _payouts.ListAsync(
            $"SELECT document FROM {_payouts.Name} WHERE affiliate_id = @affiliate ORDER BY seq LIMIT @max",
            [("affiliate", affiliate.Value)],
            max,
            cancellationToken);
}
