using System.Collections.Immutable;
using Funnel.Storage.Sqlite.Internal;
using Funnel.Waitlists;
using NodaTime;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.Sqlite.Commerce;

/// <summary>The SQLite <see cref="IWaitlistStore"/>: table <c>waitlists</c>, one JSON document per offer, with the earliest hold's lapse copied out for the due list.</summary>
/// <remarks>
/// Insert-if-absent is <c>INSERT … ON CONFLICT DO NOTHING</c> and replace-if-version an <c>UPDATE … WHERE version =
/// $version</c> that also rewrites <c>next_expiry</c>; SQLite has one writer, so of two instances changing one
/// waitlist from the same version exactly one succeeds.
/// </remarks>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class SqliteWaitlistStore(SqliteDatabase database) : IWaitlistStore
{
    private const string Due =
        "SELECT document, version FROM waitlists WHERE next_expiry IS NOT NULL AND next_expiry <= $now ORDER BY next_expiry, offer LIMIT $max";

    private readonly SqliteDocumentTable<Waitlist> _waitlists = new(
        database,
        "waitlists",
        [new("offer", PrimaryKey, static w => w.Offer.Value), new("next_expiry", Derived, static w => w.NextExpiry)],
        new(static w => w.Version, static (w, v) => w with { Version = v }));

    /// <inheritdoc/>
    public Task<Waitlist?> FindAsync(OfferId offer, CancellationToken cancellationToken = default) =>
        _waitlists.FindAsync([offer.Value], cancellationToken);

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(Waitlist waitlist, CancellationToken cancellationToken = default) =>
        _waitlists.TryAddAsync(waitlist, cancellationToken);

    /// <inheritdoc/>
    public Task<bool> TryUpdateAsync(Waitlist current, Waitlist replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        return _waitlists.TryUpdateAsync(current, replacement with { Offer = current.Offer }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<Waitlist>> FindDueAsync(Instant now, int max, CancellationToken cancellationToken = default) =>
        _waitlists.ListAsync(Due, [("$now", InstantBound.Of(now))], max, cancellationToken);
}
