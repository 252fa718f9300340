using System.Collections.Immutable;
using Funnel.Onboarding;
using Funnel.Storage.PostgreSql.Internal;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.PostgreSql.Advocacy;

/// <summary>The PostgreSQL <see cref="IEntitlementStore"/>: table <c>entitlements</c>, keyed by lead, product and order.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class PgEntitlementStore(PgDatabase database) : IEntitlementStore
{
    private readonly PgDocumentTable<EntitlementRecord> _records = new(
        database,
        "entitlements",
        [
            new("lead_id", PrimaryKey, static r => r.Lead.Value),
            new("product", PrimaryKey, static r => r.Product),
            new("order_id", PrimaryKey, static r => r.Order.Value),
        ],
        new(static r => r.Version, static (r, v) => r with { Version = v }));

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="product"/> is <see langword="null"/>.</exception>
    public Task<EntitlementRecord?> FindAsync(
        LeadId lead, string product, OrderId order, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(product);
        return _records.FindAsync([lead.Value, product, order.Value], cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="product"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<EntitlementRecord>> ListAsync(
        LeadId lead, string product, int max, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(product);
        return _records.ListAsync(
            $"SELECT document, version FROM {_records.Name} WHERE lead_id = @lead AND product = @product ORDER BY order_id LIMIT @max",
            [("lead", lead.Value), ("product", product)],
            max,
            cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="record"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(EntitlementRecord record, CancellationToken cancellationToken = default) =>
        _records.TryAddAsync(record, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another key.</exception>
    public Task<bool> TryUpdateAsync(
        EntitlementRecord current, EntitlementRecord replacement, CancellationToken cancellationToken = default) =>
        _records.TryUpdateAsync(current, replacement, cancellationToken);
}
