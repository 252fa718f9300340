namespace Funnel.Advocacy;

/// <summary>Stores the affiliates; replace the in-memory default with durable storage.</summary>
/// <remarks>
/// Follows the store convention: insert-if-absent and replace-if-version (the store bumps
/// <see cref="Affiliate.Version"/>). An affiliate's id, code and lead are each unique, checked by
/// <see cref="TryAddAsync"/> in one atomic step; a replacement keeps all three. Run the
/// <c>AffiliateStoreSpecification</c> tests against an implementation.
/// </remarks>
/// <threadsafety>Implementations must be thread-safe; each member is atomic.</threadsafety>
public interface IAffiliateStore
{
    /// <summary>Returns an affiliate.</summary>
    /// <param name="id">The affiliate id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The affiliate, or <see langword="null"/> when unknown.</returns>
    Task<Affiliate?> FindAsync(AffiliateId id, CancellationToken cancellationToken = default);

    /// <summary>Returns the affiliate with a tracking code.</summary>
    /// <param name="code">The tracking code.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The affiliate, or <see langword="null"/> when no affiliate has the code.</returns>
    Task<Affiliate?> FindByCodeAsync(string code, CancellationToken cancellationToken = default);

    /// <summary>Adds an affiliate unless its id or code is taken or its lead is enrolled; the stored version is 0.</summary>
    /// <param name="affiliate">The affiliate.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added; <see langword="false"/> when the id, code or lead exists.</returns>
    Task<bool> TryAddAsync(Affiliate affiliate, CancellationToken cancellationToken = default);

    /// <summary>Replaces an affiliate when its stored version is still <paramref name="current"/>'s.</summary>
    /// <param name="current">The affiliate as read.</param>
    /// <param name="replacement">The new affiliate, same id, code and lead; stored with version <c>current.Version + 1</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when replaced; <see langword="false"/> when it is missing or changed since read.</returns>
    Task<bool> TryUpdateAsync(Affiliate current, Affiliate replacement, CancellationToken cancellationToken = default);
}
