namespace Funnel.Advocacy;

/// <summary>The in-memory <see cref="IReferrerStore"/>: state lives only as long as the process.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
public sealed class InMemoryReferrerStore : IReferrerStore
{
    private readonly InMemoryDocuments<LeadId, Referrer> _referrers = new(r => r.Lead, r => r.Version, (r, v) => r with { Version = v });
    private readonly Dictionary<string, LeadId> _byCode = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public Task<Referrer?> FindAsync(LeadId lead, CancellationToken cancellationToken = default) =>
        Task.FromResult(_referrers.Find(lead));

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="code"/> is <see langword="null"/>.</exception>
    public Task<Referrer?> FindByCodeAsync(string code, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        lock (_referrers.Gate)
        {
            return Task.FromResult(_byCode.TryGetValue(code, out LeadId lead) ? _referrers.Find(lead) : null);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="referrer"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(Referrer referrer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(referrer);
        lock (_referrers.Gate)
        {
            if (_byCode.ContainsKey(referrer.Code) || !_referrers.TryAdd(referrer))
            {
                return Task.FromResult(false);
            }

            _byCode[referrer.Code] = referrer.Lead;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another lead or code.</exception>
    public Task<bool> TryUpdateAsync(Referrer current, Referrer replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        if (!string.Equals(current.Code, replacement.Code, StringComparison.Ordinal))
        {
            throw new ArgumentException("The replacement must keep the referral code.", nameof(replacement));
        }

        return Task.FromResult(_referrers.TryUpdate(current, replacement));
    }
}
