using System.Collections.Immutable;
using Funnel.Storage.PostgreSql.Advocacy;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.Waitlists;
using NodaTime;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.PostgreSql.Commerce;

/// <summary>The PostgreSQL <see cref="IWaitlistStore"/>: table <c>waitlists</c>, one jsonb document per offer, with the earliest hold's lapse copied out for the due list.</summary>
/// <remarks>
/// Insert-if-absent is <c>INSERT … ON CONFLICT DO NOTHING</c> and replace-if-version an <c>UPDATE … WHERE version =
/// @version</c> that also rewrites <c>next_expiry</c>, so of several app instances changing one waitlist from the same
/// version exactly one succeeds. <c>next_expiry</c> keeps microseconds: the store drops a waitlist whose hold lapses
/// later within <c>now</c>'s microsecond (see <see cref="MicrosecondBound"/>) and orders the page by the documents' own
/// instants.
/// </remarks>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class PgWaitlistStore : IWaitlistStore
{
    private readonly PgDocumentTable<Waitlist> _waitlists;

    public PgWaitlistStore(PgDatabase database)
    {
        _waitlists = new(
            database,
            "waitlists",
            [new("offer", PrimaryKey, static w => w.Offer.Value), new("next_expiry", Derived, static w => w.NextExpiry)],
            new(static w => w.Version, static (w, v) => w with { Version = v }));
        DueSql = $"SELECT document, version FROM {_waitlists.Name} WHERE next_expiry IS NOT NULL AND next_expiry <= @now " +
            "ORDER BY next_expiry, offer LIMIT @max";
    }

    /// <summary>Gets the due list; its predicate is the one of the partial index <c>waitlists_due</c>, so the index serves it.</summary>
    internal string DueSql { get; }

    /// <inheritdoc/>
    public Task<Waitlist?> FindAsync(OfferId offer, CancellationToken cancellationToken = default) =>
        _waitlists.FindAsync([offer.Value], cancellationToken);

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(Waitlist waitlist, CancellationToken cancellationToken = default) =>
        _waitlists.TryAddAsync(waitlist, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>The replacement is stored with <paramref name="current"/>'s offer, as the interface says.</remarks>
    public Task<bool> TryUpdateAsync(Waitlist current, Waitlist replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        return _waitlists.TryUpdateAsync(current, replacement with { Offer = current.Offer }, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<ImmutableArray<Waitlist>> FindDueAsync(Instant now, int max, CancellationToken cancellationToken = default)
    {
        ImmutableArray<Waitlist> due = MicrosecondBound.Keep(
            await _waitlists.ListAsync(DueSql, [("now", now)], max, cancellationToken).ConfigureAwait(false),
            w => w.NextExpiry <= now);
        return [.. due.OrderBy(static w => w.NextExpiry).ThenBy(static w => w.Offer.Value, StringComparer.Ordinal)];
    }
}
