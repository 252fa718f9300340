namespace Funnel.Advocacy;

/// <summary>Stores the customers who refer friends; replace the in-memory default with durable storage.</summary>
/// <remarks>
/// Follows the store convention: insert-if-absent and replace-if-version (the store bumps
/// <see cref="Referrer.Version"/>). A lead has one referrer document and a code belongs to one lead; both are checked
/// by <see cref="TryAddAsync"/> in one atomic step. Run the <c>ReferrerStoreSpecification</c> tests against an
/// implementation.
/// </remarks>
/// <threadsafety>Implementations must be thread-safe; each member is atomic.</threadsafety>
public interface IReferrerStore
{
    /// <summary>Returns a customer's referrer document.</summary>
    /// <param name="lead">The customer.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The document, or <see langword="null"/> when none.</returns>
    Task<Referrer?> FindAsync(LeadId lead, CancellationToken cancellationToken = default);

    /// <summary>Returns the referrer who owns a code.</summary>
    /// <param name="code">The referral code.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The document, or <see langword="null"/> when no referrer has the code.</returns>
    Task<Referrer?> FindByCodeAsync(string code, CancellationToken cancellationToken = default);

    /// <summary>Adds a referrer unless the lead has one or the code is taken; the stored version is 0.</summary>
    /// <param name="referrer">The referrer.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added; <see langword="false"/> when the lead or the code exists.</returns>
    Task<bool> TryAddAsync(Referrer referrer, CancellationToken cancellationToken = default);

    /// <summary>Replaces a referrer when its stored version is still <paramref name="current"/>'s.</summary>
    /// <param name="current">The document as read.</param>
    /// <param name="replacement">The new document, same lead and code; stored with version <c>current.Version + 1</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when replaced; <see langword="false"/> when it is missing or changed since read.</returns>
    Task<bool> TryUpdateAsync(Referrer current, Referrer replacement, CancellationToken cancellationToken = default);
}
