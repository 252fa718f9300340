using System.Collections.Concurrent;

namespace Funnel.Offers;

/// <summary>The in-memory <see cref="ICouponRedemptionStore"/>.</summary>
/// <threadsafety>All members are thread-safe: each coupon's counts change under a lock, so limits are never exceeded.</threadsafety>
public sealed class InMemoryCouponRedemptionStore : ICouponRedemptionStore
{
    private readonly ConcurrentDictionary<string, Counts> coupons = new(StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc/>
    public Task<bool> TryRedeemAsync(string code, LeadId lead, int? maxTotal, int? maxPerLead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        Counts counts = coupons.GetOrAdd(code, static _ => new Counts());
        lock (counts)
        {
            int mine = counts.PerLead.GetValueOrDefault(lead);
            if ((maxTotal is { } total && counts.Total >= total) || (maxPerLead is { } perLead && mine >= perLead))
            {
                return Task.FromResult(false);
            }

            counts.Total++;
            counts.PerLead[lead] = mine + 1;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task ReleaseAsync(string code, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        if (coupons.TryGetValue(code, out Counts? counts))
        {
            lock (counts)
            {
                if (counts.PerLead.TryGetValue(lead, out int mine) && mine > 0)
                {
                    counts.PerLead[lead] = mine - 1;
                    counts.Total--;
                }
            }
        }

        return Task.CompletedTask;
    }

    private sealed class Counts
    {
        public int Total { get; set; }

        public Dictionary<LeadId, int> PerLead { get; } = [];
    }
}
