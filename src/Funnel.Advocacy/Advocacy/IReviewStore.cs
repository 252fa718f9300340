using System.Collections.Immutable;

namespace Funnel.Advocacy;

/// <summary>Stores reviews; replace the in-memory default with durable storage.</summary>
/// <remarks>
/// The store follows Funnel's store convention: <see cref="TryAddAsync"/> inserts a review only when its id is absent,
/// and <see cref="TryUpdateAsync"/> replaces one only when the stored <see cref="Review.Version"/> is still the one read,
/// so concurrent moderation never loses a change.
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IReviewStore
{
    /// <summary>Returns a review.</summary>
    /// <param name="id">The review id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The review, or <see langword="null"/> when unknown.</returns>
    Task<Review?> FindAsync(ReviewId id, CancellationToken cancellationToken = default);

    /// <summary>Adds a review unless one with its id exists (insert-if-absent).</summary>
    /// <param name="review">The review; it is stored with version 0.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added; <see langword="false"/> when the id is taken.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="review"/> is <see langword="null"/>.</exception>
    Task<bool> TryAddAsync(Review review, CancellationToken cancellationToken = default);

    /// <summary>Replaces <paramref name="current"/> with <paramref name="replacement"/> if the stored version is still <paramref name="current"/>'s (replace-if-version).</summary>
    /// <param name="current">The review as read.</param>
    /// <param name="replacement">Its new state; it is stored with <paramref name="current"/>'s id and version plus one.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when it changed first.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    Task<bool> TryUpdateAsync(Review current, Review replacement, CancellationToken cancellationToken = default);

    /// <summary>Returns up to <paramref name="max"/> reviews of a product, newest first.</summary>
    /// <param name="product">The product key.</param>
    /// <param name="max">The most reviews to return.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The reviews, by submission instant (newest first), then id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="product"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    Task<ImmutableArray<Review>> ListAsync(string product, int max, CancellationToken cancellationToken = default);
}
