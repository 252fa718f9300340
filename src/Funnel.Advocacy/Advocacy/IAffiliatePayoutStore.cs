using System.Collections.Immutable;

namespace Funnel.Advocacy;

/// <summary>Stores the payouts made to affiliates; replace the in-memory default with durable storage.</summary>
/// <remarks>Payouts are inserted once and never changed. Run the <c>AffiliatePayoutStoreSpecification</c> tests against an implementation.</remarks>
/// <threadsafety>Implementations must be thread-safe; each member is atomic.</threadsafety>
public interface IAffiliatePayoutStore
{
    /// <summary>Adds a payout unless its id exists; the stored version is 0.</summary>
    /// <param name="payout">The payout.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added; <see langword="false"/> when the id exists.</returns>
    Task<bool> TryAddAsync(Payout payout, CancellationToken cancellationToken = default);

    /// <summary>Returns an affiliate's payouts, oldest first.</summary>
    /// <param name="affiliate">The affiliate.</param>
    /// <param name="max">The most payouts to return (the oldest); positive.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The payouts; empty when none.</returns>
    Task<ImmutableArray<Payout>> ListAsync(AffiliateId affiliate, int max, CancellationToken cancellationToken = default);
}
