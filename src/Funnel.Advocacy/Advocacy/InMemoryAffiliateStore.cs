namespace Funnel.Advocacy;

/// <summary>The in-memory <see cref="IAffiliateStore"/>: state lives only as long as the process.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
public sealed class InMemoryAffiliateStore : IAffiliateStore
{
    private readonly InMemoryDocuments<AffiliateId, Affiliate> _affiliates = new(a => a.Id, a => a.Version, (a, v) => a with { Version = v });
    private readonly Dictionary<string, AffiliateId> _byCode = new(StringComparer.Ordinal);
    private readonly HashSet<LeadId> _leads = [];

    /// <inheritdoc/>
    public Task<Affiliate?> FindAsync(AffiliateId id, CancellationToken cancellationToken = default) =>
        Task.FromResult(_affiliates.Find(id));

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="code"/> is <see langword="null"/>.</exception>
    public Task<Affiliate?> FindByCodeAsync(string code, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        lock (_affiliates.Gate)
        {
            return Task.FromResult(_byCode.TryGetValue(code, out AffiliateId id) ? _affiliates.Find(id) : null);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="affiliate"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(Affiliate affiliate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(affiliate);
        lock (_affiliates.Gate)
        {
            if (_byCode.ContainsKey(affiliate.Code) || _leads.Contains(affiliate.Lead) || !_affiliates.TryAdd(affiliate))
            {
                return Task.FromResult(false);
            }

            _byCode[affiliate.Code] = affiliate.Id;
            _leads.Add(affiliate.Lead);
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another id, code or lead.</exception>
    public Task<bool> TryUpdateAsync(Affiliate current, Affiliate replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        if (!string.Equals(current.Code, replacement.Code, StringComparison.Ordinal) || current.Lead != replacement.Lead)
        {
            throw new ArgumentException("The replacement must keep the code and the lead.", nameof(replacement));
        }

        return Task.FromResult(_affiliates.TryUpdate(current, replacement));
    }
}
