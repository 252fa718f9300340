using Funnel.Advocacy;
using Funnel.Storage.PostgreSql.Internal;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.PostgreSql.Advocacy;

/// <summary>The PostgreSQL <see cref="IAffiliateStore"/>: table <c>affiliates</c>, whose id, code and lead are each unique.</summary>
/// <remarks>An add is one <c>INSERT … ON CONFLICT DO NOTHING</c> against the three unique indexes, so of racing enrolments
/// of one lead or one code, from any number of app instances, exactly one is added.</remarks>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class PgAffiliateStore(PgDatabase database) : IAffiliateStore
{
    private readonly PgDocumentTable<Affiliate> _affiliates = new(
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
            $"SELECT document, version FROM {_affiliates.Name} WHERE code = @code", [("code", code)], cancellationToken);
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
