using System.Collections.Immutable;
using Funnel.Advocacy;
using Funnel.Storage.Sqlite.Internal;
using NodaTime;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.Sqlite.Advocacy;

/// <summary>The SQLite <see cref="IAffiliateClickStore"/>: table <c>affiliate_clicks</c>, in the order the clicks were added.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class SqliteAffiliateClickStore(SqliteDatabase database) : IAffiliateClickStore
{
    private readonly SqliteDocumentTable<AffiliateClick> _clicks = new(
        database,
        "affiliate_clicks",
        [new("id", PrimaryKey, static c => c.Id), new("visitor_id", Kept, static c => c.Visitor.Value), new("at", Kept, static c => c.At)],
        versioning: null);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="click"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(AffiliateClick click, CancellationToken cancellationToken = default) =>
        _clicks.TryAddAsync(click, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<AffiliateClick>> ListAsync(
        LeadId visitor, Instant since, int max, CancellationToken cancellationToken = default) =>
        _clicks.ListAsync(
            "SELECT document FROM affiliate_clicks WHERE visitor_id = $visitor AND at >= $since ORDER BY seq LIMIT $max",
            [("$visitor", visitor.Value), ("$since", InstantBound.Of(since))],
            max,
            cancellationToken);
}
