using System.Collections.Immutable;
using Funnel.Advocacy;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.PostgreSql.Advocacy;

/// <summary>The PostgreSQL <see cref="IAffiliateClickStore"/>: table <c>affiliate_clicks</c>, in the order the clicks were added.</summary>
/// <remarks>
/// <c>at</c> keeps microseconds: the query takes every click of <c>since</c>'s microsecond and later, and
/// the store drops those of that microsecond that the document shows to be earlier (see <see cref="MicrosecondBound"/>).
/// </remarks>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class PgAffiliateClickStore(PgDatabase database) : IAffiliateClickStore
{
    private readonly PgDocumentTable<AffiliateClick> _clicks = new(
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
    public async Task<ImmutableArray<AffiliateClick>> ListAsync(
        LeadId visitor, Instant since, int max, CancellationToken cancellationToken = default)
    {
        ImmutableArray<AffiliateClick> clicks = await _clicks.ListAsync(
            $"SELECT document FROM {_clicks.Name} WHERE visitor_id = @visitor AND at >= @since ORDER BY seq LIMIT @max",
            [("visitor", visitor.Value), ("since", since)],
            max,
            cancellationToken).ConfigureAwait(false);
        return MicrosecondBound.Keep(clicks, c => c.At >= since);
    }
}
