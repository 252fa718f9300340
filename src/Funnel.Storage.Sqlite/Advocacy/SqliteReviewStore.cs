using System.Collections.Immutable;
using Funnel.Advocacy;
using Funnel.Storage.Sqlite.Internal;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.Sqlite.Advocacy;

/// <summary>The SQLite <see cref="IReviewStore"/>: table <c>reviews</c>, listed per product newest first.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class SqliteReviewStore(SqliteDatabase database) : IReviewStore
{
    private readonly SqliteDocumentTable<Review> _reviews = new(
        database,
        "reviews",
        [
            new("id", PrimaryKey, static r => r.Id.Value),
            new("product", Derived, static r => r.Submission.Product),
            new("submitted_at", Derived, static r => r.SubmittedAt),
        ],
        new(static r => r.Version, static (r, v) => r with { Version = v }));

    /// <inheritdoc/>
    public Task<Review?> FindAsync(ReviewId id, CancellationToken cancellationToken = default) =>
        _reviews.FindAsync([id.Value], cancellationToken);

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(Review review, CancellationToken cancellationToken = default) =>
        _reviews.TryAddAsync(review, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>The replacement is stored with <paramref name="current"/>'s id, as the interface says.</remarks>
    public Task<bool> TryUpdateAsync(Review current, Review replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        return _reviews.TryUpdateAsync(current, replacement with { Id = current.Id }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<Review>> ListAsync(string product, int max, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(product);
        return _reviews.ListAsync(
            "SELECT document, version FROM reviews WHERE product = $product ORDER BY submitted_at DESC, id LIMIT $max",
            [("$product", product)],
            max,
            cancellationToken);
    }
}
