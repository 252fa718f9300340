using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Advocacy;

/// <summary>The in-memory <see cref="IAffiliateClickStore"/>: state lives only as long as the process.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
public sealed class InMemoryAffiliateClickStore : IAffiliateClickStore
{
    private readonly Lock _gate = new();
    private readonly HashSet<Guid> _ids = [];
    private readonly Dictionary<LeadId, List<AffiliateClick>> _byVisitor = [];

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="click"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(AffiliateClick click, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(click);
        lock (_gate)
        {
            if (!_ids.Add(click.Id))
            {
                return Task.FromResult(false);
            }

            if (!_byVisitor.TryGetValue(click.Visitor, out List<AffiliateClick>? clicks))
            {
                _byVisitor[click.Visitor] = clicks = [];
            }

            clicks.Add(click with { Version = 0 });
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<AffiliateClick>> ListAsync(
        LeadId visitor, Instant since, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        lock (_gate)
        {
            return Task.FromResult<ImmutableArray<AffiliateClick>>(_byVisitor.TryGetValue(visitor, out List<AffiliateClick>? clicks)
                ? [.. clicks.Where(c => c.At >= since).Take(max)]
                : []);
        }
    }
}
