using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Advocacy;

/// <summary>Stores the referred friends and their rewards; replace the in-memory default with durable storage.</summary>
/// <remarks>
/// Follows the store convention: insert-if-absent and replace-if-version (the store bumps
/// <see cref="Referral.Version"/>). Keyed by the friend, so of racing referrals of one friend exactly one is added,
/// and the status change to <see cref="ReferralStatus.Rewarded"/> is won once. Run the
/// <c>ReferralStoreSpecification</c> tests against an implementation.
/// </remarks>
/// <threadsafety>Implementations must be thread-safe; each member is atomic.</threadsafety>
public interface IReferralStore
{
    /// <summary>Returns a friend's referral.</summary>
    /// <param name="lead">The referred friend's lead id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The referral, or <see langword="null"/> when the lead was not referred.</returns>
    Task<Referral?> FindAsync(LeadId lead, CancellationToken cancellationToken = default);

    /// <summary>Returns the <see cref="ReferralStatus.Purchased"/> referrals whose window ended at or before <paramref name="now"/>, by <see cref="Referral.ClearsAt"/>.</summary>
    /// <param name="now">The instant the window must have ended by.</param>
    /// <param name="max">The most referrals to return; positive.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The referrals; empty when none.</returns>
    Task<ImmutableArray<Referral>> ListClearedAsync(Instant now, int max, CancellationToken cancellationToken = default);

    /// <summary>Adds a referral unless the friend has one; the stored version is 0.</summary>
    /// <param name="referral">The referral.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added; <see langword="false"/> when the friend was already referred.</returns>
    Task<bool> TryAddAsync(Referral referral, CancellationToken cancellationToken = default);

    /// <summary>Replaces a referral when its stored version is still <paramref name="current"/>'s.</summary>
    /// <param name="current">The referral as read.</param>
    /// <param name="replacement">The new referral, same friend; stored with version <c>current.Version + 1</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when replaced; <see langword="false"/> when it is missing or changed since read.</returns>
    Task<bool> TryUpdateAsync(Referral current, Referral replacement, CancellationToken cancellationToken = default);
}
