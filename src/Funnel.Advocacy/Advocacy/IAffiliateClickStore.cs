using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Advocacy;

/// <summary>Stores the clicks on affiliate links, for attribution; replace the in-memory default with durable storage.</summary>
/// <remarks>Clicks are inserted once and never changed. Run the <c>AffiliateClickStoreSpecification</c> tests against an implementation.</remarks>
/// <threadsafety>Implementations must be thread-safe; each member is atomic.</threadsafety>
public interface IAffiliateClickStore
{
    /// <summary>Adds a click unless its id exists; the stored version is 0.</summary>
    /// <param name="click">The click.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added; <see langword="false"/> when the id exists.</returns>
    Task<bool> TryAddAsync(AffiliateClick click, CancellationToken cancellationToken = default);

    /// <summary>Returns a visitor's clicks at or after an instant, in the order they were added.</summary>
    /// <param name="visitor">The visitor.</param>
    /// <param name="since">The earliest click instant to return.</param>
    /// <param name="max">The most clicks to return (the first added); positive.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The clicks; empty when none.</returns>
    Task<ImmutableArray<AffiliateClick>> ListAsync(
        LeadId visitor, Instant since, int max, CancellationToken cancellationToken = default);
}
