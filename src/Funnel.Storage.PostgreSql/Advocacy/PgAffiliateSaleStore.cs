using System.Collections.Immutable;
using Funnel.Advocacy;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.PostgreSql.Advocacy;

/// <summary>The PostgreSQL <see cref="IAffiliateSaleStore"/>: table <c>affiliate_sales</c>, keyed by order.</summary>
/// <remarks>
/// <c>pending_clears_at</c> holds the earliest <see cref="CommissionEntry.ClearsAt"/> of the sale's pending entries:
/// a sale has a pending entry cleared by <c>now</c> exactly when that earliest one is, and it is the sale's earliest
/// cleared entry, so <see cref="ListClearedAsync"/> is one range scan of a partial index. The column keeps
/// microseconds; a sale whose earliest pending entry clears later within <c>now</c>'s microsecond is dropped by the
/// store (see <see cref="MicrosecondBound"/>).
/// </remarks>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class PgAffiliateSaleStore(PgDatabase database) : IAffiliateSaleStore
{
    private readonly PgDocumentTable<AffiliateSale> _sales = new(
        database,
        "affiliate_sales",
        [
            new("order_id", PrimaryKey, static s => s.Order.Value),
            new("affiliate_id", Kept, static s => s.Affiliate.Value),
            new("sale_number", Derived, static s => s.SaleNumber),
            new("pending_clears_at", Derived, static s => EarliestPending(s)),
        ],
        new(static s => s.Version, static (s, v) => s with { Version = v }));

    /// <inheritdoc/>
    public Task<AffiliateSale?> FindAsync(OrderId order, CancellationToken cancellationToken = default) =>
        _sales.FindAsync([order.Value], cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<AffiliateSale>> ListAsync(
        AffiliateId affiliate, int afterSale, int max, CancellationToken cancellationToken = default) =>
        _sales.ListAsync(
            $"SELECT document, version FROM {_sales.Name} WHERE affiliate_id = @affiliate AND sale_number > @after " +
            "ORDER BY sale_number, seq LIMIT @max",
            [("affiliate", affiliate.Value), ("after", afterSale)],
            max,
            cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public async Task<ImmutableArray<AffiliateSale>> ListClearedAsync(Instant now, int max, CancellationToken cancellationToken = default)
    {
        ImmutableArray<AffiliateSale> sales = await _sales.ListAsync(
            $"SELECT document, version FROM {_sales.Name} WHERE pending_clears_at <= @now ORDER BY pending_clears_at, seq LIMIT @max",
            [("now", now)],
            max,
            cancellationToken).ConfigureAwait(false);
        return MicrosecondBound.Keep(sales, s => EarliestPending(s) <= now);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="sale"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(AffiliateSale sale, CancellationToken cancellationToken = default) =>
        _sales.TryAddAsync(sale, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another order or affiliate.</exception>
    public Task<bool> TryUpdateAsync(AffiliateSale current, AffiliateSale replacement, CancellationToken cancellationToken = default) =>
        _sales.TryUpdateAsync(current, replacement, cancellationToken);

    private static Instant? EarliestPending(AffiliateSale sale) =>
        sale.Entries.Where(static e => e.Status == CommissionStatus.Pending).Select(static e => (Instant?)e.ClearsAt).Min();
}
