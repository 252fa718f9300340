using System.Collections.Immutable;

namespace Funnel.Onboarding;

/// <summary>Stores who holds which product through which order; replace the in-memory default with durable storage.</summary>
/// <remarks>
/// Follows the store convention: <see cref="TryAddAsync"/> inserts if absent, <see cref="TryUpdateAsync"/> replaces
/// only the version it was read at. Run the <c>EntitlementStoreSpecification</c> tests against an implementation.
/// </remarks>
/// <threadsafety>Implementations must be thread-safe; each member is atomic.</threadsafety>
public interface IEntitlementStore
{
    /// <summary>Returns the record of one order's grant of a product to a lead.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="product">The product key.</param>
    /// <param name="order">The order.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The record, or <see langword="null"/> when none.</returns>
    Task<EntitlementRecord?> FindAsync(
        LeadId lead, string product, OrderId order, CancellationToken cancellationToken = default);

    /// <summary>Returns the records of a lead's product, by order id, at most <paramref name="max"/>.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="product">The product key.</param>
    /// <param name="max">The most records to return; positive.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The records; empty when none.</returns>
    Task<ImmutableArray<EntitlementRecord>> ListAsync(
        LeadId lead, string product, int max, CancellationToken cancellationToken = default);

    /// <summary>Adds a record unless one has its lead, product and order; the stored version is 0.</summary>
    /// <param name="record">The record.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added; <see langword="false"/> when the key exists.</returns>
    Task<bool> TryAddAsync(EntitlementRecord record, CancellationToken cancellationToken = default);

    /// <summary>Replaces a record when its stored version is still <paramref name="current"/>'s.</summary>
    /// <param name="current">The record as read.</param>
    /// <param name="replacement">The new record, with the same key; stored with version <c>current.Version + 1</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when replaced; <see langword="false"/> when it is missing or changed since read.</returns>
    Task<bool> TryUpdateAsync(
        EntitlementRecord current, EntitlementRecord replacement, CancellationToken cancellationToken = default);
}
