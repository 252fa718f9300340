using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Advocacy;

/// <summary>Stores the orders attributed to affiliates with their commission ledgers; replace the in-memory default with durable storage.</summary>
/// <remarks>
/// Follows the store convention: insert-if-absent and replace-if-version (the store bumps
/// <see cref="AffiliateSale.Version"/>). Keyed by order, so of racing attributions of one order exactly one is
/// added. Five members: besides the keyed find and the two writes, the ledger is read per affiliate and the
/// commissions past their refund window across affiliates. Run the <c>AffiliateSaleStoreSpecification</c> tests
/// against an implementation.
/// </remarks>
/// <threadsafety>Implementations must be thread-safe; each member is atomic.</threadsafety>
public interface IAffiliateSaleStore
{
    /// <summary>Returns the sale of an order.</summary>
    /// <param name="order">The order.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The sale, or <see langword="null"/> when the order is not attributed.</returns>
    Task<AffiliateSale?> FindAsync(OrderId order, CancellationToken cancellationToken = default);

    /// <summary>Returns a page of an affiliate's sales, by sale number.</summary>
    /// <param name="affiliate">The affiliate.</param>
    /// <param name="afterSale">The last sale number of the previous page; 0 for the first page.</param>
    /// <param name="max">The most sales to return; positive.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The sales with a greater sale number; fewer than <paramref name="max"/> on the last page.</returns>
    Task<ImmutableArray<AffiliateSale>> ListAsync(
        AffiliateId affiliate, int afterSale, int max, CancellationToken cancellationToken = default);

    /// <summary>Returns sales with a <see cref="CommissionStatus.Pending"/> entry that clears at or before <paramref name="now"/>.</summary>
    /// <param name="now">The instant the entries must clear by.</param>
    /// <param name="max">The most sales to return; positive.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The sales, earliest clearing first; empty when none.</returns>
    Task<ImmutableArray<AffiliateSale>> ListClearedAsync(Instant now, int max, CancellationToken cancellationToken = default);

    /// <summary>Adds a sale unless its order is attributed; the stored version is 0.</summary>
    /// <param name="sale">The sale.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added; <see langword="false"/> when the order exists.</returns>
    Task<bool> TryAddAsync(AffiliateSale sale, CancellationToken cancellationToken = default);

    /// <summary>Replaces a sale when its stored version is still <paramref name="current"/>'s.</summary>
    /// <param name="current">The sale as read.</param>
    /// <param name="replacement">The new sale, same order and affiliate; stored with version <c>current.Version + 1</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when replaced; <see langword="false"/> when it is missing or changed since read.</returns>
    Task<bool> TryUpdateAsync(AffiliateSale current, AffiliateSale replacement, CancellationToken cancellationToken = default);
}
