using System.Collections.Immutable;

namespace Funnel.Advocacy;

/// <summary>The in-memory <see cref="IAffiliatePayoutStore"/>: state lives only as long as the process.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
public sealed class InMemoryAffiliatePayoutStore : IAffiliatePayoutStore
{
    private readonly Lock _gate = new();
    private readonly HashSet<Guid> _ids = [];
    private readonly List<Payout> _payouts = [];

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="payout"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(Payout payout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payout);
        lock (_gate)
        {
            if (!_ids.Add(payout.Id))
            {
                return Task.FromResult(false);
            }

            _payouts.Add(payout with { Version = 0 });
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<Payout>> ListAsync(AffiliateId affiliate, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        lock (_gate)
        {
            return Task.FromResult<ImmutableArray<Payout>>([.. _payouts.Where(p => p.Affiliate == affiliate).Take(max)]);
        }
    }
}
