using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Advocacy;

/// <summary>The in-memory <see cref="IReferralStore"/>: state lives only as long as the process.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
public sealed class InMemoryReferralStore : IReferralStore
{
    private readonly InMemoryDocuments<LeadId, Referral> _referrals = new(r => r.Friend, r => r.Version, (r, v) => r with { Version = v });

    /// <inheritdoc/>
    public Task<Referral?> FindAsync(LeadId lead, CancellationToken cancellationToken = default) =>
        Task.FromResult(_referrals.Find(lead));

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<Referral>> ListClearedAsync(Instant now, int max, CancellationToken cancellationToken = default) =>
        Task.FromResult<ImmutableArray<Referral>>(
            [.. _referrals.List(r => r.Status == ReferralStatus.Purchased && r.ClearsAt <= now, r => r.ClearsAt, max)]);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="referral"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(Referral referral, CancellationToken cancellationToken = default) =>
        Task.FromResult(_referrals.TryAdd(referral));

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another friend.</exception>
    public Task<bool> TryUpdateAsync(Referral current, Referral replacement, CancellationToken cancellationToken = default) =>
        Task.FromResult(_referrals.TryUpdate(current, replacement));
}
