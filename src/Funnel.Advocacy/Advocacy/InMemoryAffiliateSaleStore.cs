using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Advocacy;

/// <summary>The in-memory <see cref="IAffiliateSaleStore"/>: state lives only as long as the process.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
public sealed class InMemoryAffiliateSaleStore : IAffiliateSaleStore
{
    private readonly InMemoryDocuments<OrderId, AffiliateSale> _sales = new(s => s.Order, s => s.Version, (s, v) => s with { Version = v });

    /// <inheritdoc/>
    public Task<AffiliateSale?> FindAsync(OrderId order, CancellationToken cancellationToken = default) =>
        Task.FromResult(_sales.Find(order));

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<AffiliateSale>> ListAsync(
        AffiliateId affiliate, int afterSale, int max, CancellationToken cancellationToken = default) =>
        Task.FromResult<ImmutableArray<AffiliateSale>>(
            [.. _sales.List(s => s.Affiliate == affiliate && s.SaleNumber > afterSale, s => s.SaleNumber, max)]);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<AffiliateSale>> ListClearedAsync(Instant now, int max, CancellationToken cancellationToken = default) =>
        Task.FromResult<ImmutableArray<AffiliateSale>>([.. _sales.List(
            s => s.Entries.Any(e => IsCleared(e, now)),
            s => s.Entries.Where(e => IsCleared(e, now)).Min(e => e.ClearsAt),
            max)]);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="sale"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(AffiliateSale sale, CancellationToken cancellationToken = default) =>
        Task.FromResult(_sales.TryAdd(sale));

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another order or affiliate.</exception>
    public Task<bool> TryUpdateAsync(AffiliateSale current, AffiliateSale replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        if (current.Affiliate != replacement.Affiliate)
        {
            throw new ArgumentException("The replacement must keep the affiliate.", nameof(replacement));
        }

        return Task.FromResult(_sales.TryUpdate(current, replacement));
    }

    private static bool IsCleared(CommissionEntry entry, Instant now) => entry.Status == CommissionStatus.Pending && entry.ClearsAt <= now;
}
