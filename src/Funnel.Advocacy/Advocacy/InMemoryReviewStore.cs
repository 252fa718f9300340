using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Funnel.Advocacy;

/// <summary>The in-memory <see cref="IReviewStore"/>.</summary>
/// <threadsafety>All members are thread-safe; updates are compare-and-swap on the version.</threadsafety>
public sealed class InMemoryReviewStore : IReviewStore
{
    private readonly ConcurrentDictionary<ReviewId, Review> _reviews = new();

    /// <inheritdoc/>
    public Task<Review?> FindAsync(ReviewId id, CancellationToken cancellationToken = default) =>
        Task.FromResult(_reviews.TryGetValue(id, out Review? review) ? review : null);

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(Review review, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(review);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_reviews.TryAdd(review.Id, review with { Version = 0 }));
    }

    /// <inheritdoc/>
    public Task<bool> TryUpdateAsync(Review current, Review replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_reviews.TryGetValue(current.Id, out Review? stored)
            && stored.Version == current.Version
            && _reviews.TryUpdate(current.Id, replacement with { Id = current.Id, Version = current.Version + 1 }, stored));
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<Review>> ListAsync(string product, int max, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(product);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<ImmutableArray<Review>>([.. _reviews.Values
            .Where(r => r.Submission.Product == product)
            .OrderByDescending(r => r.SubmittedAt)
            .ThenBy(r => r.Id.Value)
            .Take(max)]);
    }
}
