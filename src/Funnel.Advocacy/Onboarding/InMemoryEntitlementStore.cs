using System.Collections.Immutable;
using Funnel.Advocacy;

namespace Funnel.Onboarding;

/// <summary>The in-memory <see cref="IEntitlementStore"/>: state lives only as long as the process.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
public sealed class InMemoryEntitlementStore : IEntitlementStore
{
    private readonly InMemoryDocuments<(LeadId Lead, string Product, OrderId Order), EntitlementRecord> _records =
        new(r => (r.Lead, r.Product, r.Order), r => r.Version, (r, v) => r with { Version = v });

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="product"/> is <see langword="null"/>.</exception>
    public Task<EntitlementRecord?> FindAsync(
        LeadId lead, string product, OrderId order, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(product);
        return Task.FromResult(_records.Find((lead, product, order)));
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="product"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<EntitlementRecord>> ListAsync(
        LeadId lead, string product, int max, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(product);
        return Task.FromResult<ImmutableArray<EntitlementRecord>>(
            [.. _records.List(r => r.Lead == lead && r.Product == product, r => r.Order.Value, max)]);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="record"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(EntitlementRecord record, CancellationToken cancellationToken = default) =>
        Task.FromResult(_records.TryAdd(record));

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another key.</exception>
    public Task<bool> TryUpdateAsync(
        EntitlementRecord current, EntitlementRecord replacement, CancellationToken cancellationToken = default) =>
        Task.FromResult(_records.TryUpdate(current, replacement));
}
