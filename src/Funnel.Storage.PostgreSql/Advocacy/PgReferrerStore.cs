using Funnel.Advocacy;
using Funnel.Storage.PostgreSql.Internal;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.PostgreSql.Advocacy;

/// <summary>The PostgreSQL <see cref="IReferrerStore"/>: table <c>referrers</c>, keyed by lead, with a unique code.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class PgReferrerStore(PgDatabase database) : IReferrerStore
{
    private readonly PgDocumentTable<Referrer> _referrers = new(
        database,
        "referrers",
        [new("lead_id", PrimaryKey, static r => r.Lead.Value), new("code", Kept, static r => r.Code)],
        new(static r => r.Version, static (r, v) => r with { Version = v }));

    /// <inheritdoc/>
    public Task<Referrer?> FindAsync(LeadId lead, CancellationToken cancellationToken = default) =>
        _referrers.FindAsync([lead.Value], cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="code"/> is <see langword="null"/>.</exception>
    public Task<Referrer?> FindByCodeAsync(string code, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        return _referrers.QueryFirstAsync(
            $"SELECT document, version FROM {_referrers.Name} WHERE code = @code", [("code", code)], cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="referrer"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(Referrer referrer, CancellationToken cancellationToken = default) =>
        _referrers.TryAddAsync(referrer, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another lead or code.</exception>
    public Task<bool> TryUpdateAsync(Referrer current, Referrer replacement, CancellationToken cancellationToken = default) =>
        _referrers.TryUpdateAsync(current, replacement, cancellationToken);
}
