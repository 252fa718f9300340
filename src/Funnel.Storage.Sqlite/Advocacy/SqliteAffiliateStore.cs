using Funnel.Advocacy;
using Funnel.Storage.Sqlite.Internal;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.Sqlite.Advocacy;

/// <summary>The SQLite <see cref="IAffiliateStore"/>: table <c>affiliates</c>, whose id, code and lead are each unique.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class SqliteAffiliateStore(SqliteDatabase database) : IAffiliateStore
{
    private readonly SqliteDocumentTable<Affiliate> _affiliates = new(
        database,
        "affiliates",
        [new("id", PrimaryKey, static a => a.Id.Value), new("code", Kept, static a => a.Code), new("lead_id", Kept, static a => a.Lead.Value)],
        new(static a => a.Version, static (a, v) => a with { Version = v }));

    /// <inheritdoc/>
    public Task<Affiliate?> FindAsync(AffiliateId id, CancellationToken cancellationToken = default) =>
        _affiliates.FindAsync([id.Value], cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="code"/> is <see langword="null"/>.</exception>
    public Task<Affiliate?> FindByCodeAsync(string code, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        return _affiliates.QueryFirstAsync(
            "SELECT document, version FROM affiliates WHERE code = $code", [("$code", code)], cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="affiliate"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(Affiliate affiliate, CancellationToken cancellationToken = default) =>
        _affiliates.TryAddAsync(affiliate, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another id, code or lead.</exception>
    public Task<bool> TryUpdateAsync(Affiliate current, Affiliate replacement, CancellationToken cancellationToken = default) =>
        _affiliates.TryUpdateAsync(current, replacement, cancellationToken);
}
