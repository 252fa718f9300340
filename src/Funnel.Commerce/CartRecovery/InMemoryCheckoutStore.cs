using System.Collections.Immutable;
using NodaTime;

namespace Funnel.CartRecovery;

/// <summary>An in-memory <see cref="ICheckoutStore"/> for tests and samples; its checkouts are lost when the process ends.</summary>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class InMemoryCheckoutStore : ICheckoutStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(LeadId, OfferId), TrackedCheckout> _checkouts = [];

    /// <inheritdoc/>
    public Task<TrackedCheckout?> FindAsync(LeadId lead, OfferId offer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_checkouts.GetValueOrDefault((lead, offer)));
        }
    }

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(TrackedCheckout checkout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkout);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_checkouts.TryAdd((checkout.Lead, checkout.Offer), checkout with { Version = 0 }));
        }
    }

    /// <inheritdoc/>
    public Task<bool> TryUpdateAsync(TrackedCheckout current, TrackedCheckout replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_checkouts.TryGetValue((current.Lead, current.Offer), out TrackedCheckout? stored) || stored.Version != current.Version)
            {
                return Task.FromResult(false);
            }

            _checkouts[(current.Lead, current.Offer)] = replacement with { Lead = current.Lead, Offer = current.Offer, Version = current.Version + 1 };
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<TrackedCheckout>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        ArgumentNullException.ThrowIfNull(owner);
        if (lease <= Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "The lease must be positive.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            List<TrackedCheckout> due = [.. _checkouts.Values
                .Where(c => c.Status == CheckoutStatus.Open && c.DueAt <= now && (c.ClaimedUntil is not { } until || until <= now))
                .OrderBy(static c => c.DueAt)
                .ThenBy(static c => c.Lead.Value)
                .ThenBy(static c => c.Offer.Value, StringComparer.Ordinal)
                .Take(max)];
            ImmutableArray<TrackedCheckout>.Builder claimed = ImmutableArray.CreateBuilder<TrackedCheckout>(due.Count);
            foreach (TrackedCheckout c in due)
            {
                TrackedCheckout next = c with { ClaimedBy = owner, ClaimedUntil = now + lease, Version = c.Version + 1 };
                _checkouts[(c.Lead, c.Offer)] = next;
                claimed.Add(next);
            }

            return Task.FromResult(claimed.MoveToImmutable());
        }
    }
}
