using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Waitlists;

/// <summary>An in-memory <see cref="IWaitlistStore"/> for tests and samples; its waitlists are lost when the process ends.</summary>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class InMemoryWaitlistStore : IWaitlistStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<OfferId, Waitlist> _waitlists = [];

    /// <inheritdoc/>
    public Task<Waitlist?> FindAsync(OfferId offer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_waitlists.GetValueOrDefault(offer));
        }
    }

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(Waitlist waitlist, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(waitlist);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_waitlists.TryAdd(waitlist.Offer, waitlist with { Version = 0 }));
        }
    }

    /// <inheritdoc/>
    public Task<bool> TryUpdateAsync(Waitlist current, Waitlist replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_waitlists.TryGetValue(current.Offer, out Waitlist? stored) || stored.Version != current.Version)
            {
                return Task.FromResult(false);
            }

            _waitlists[current.Offer] = replacement with { Offer = current.Offer, Version = current.Version + 1 };
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<Waitlist>> FindDueAsync(Instant now, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult<ImmutableArray<Waitlist>>([.. _waitlists.Values
                .Where(w => w.NextExpiry <= now)
                .OrderBy(static w => w.NextExpiry)
                .ThenBy(static w => w.Offer.Value, StringComparer.Ordinal)
                .Take(max)]);
        }
    }
}
