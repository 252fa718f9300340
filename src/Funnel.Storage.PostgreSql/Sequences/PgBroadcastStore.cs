using System.Collections.Immutable;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql.Advocacy;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.PostgreSql.Sequences;

/// <summary>The PostgreSQL <see cref="IBroadcastStore"/>: table <c>broadcasts</c>, one jsonb document per key.</summary>
/// <remarks>
/// <para>
/// <see cref="Broadcast.Status"/> and <see cref="Broadcast.DueAt"/> are copied into columns with each write, and the
/// partial index <c>broadcasts_due</c> holds exactly the open broadcasts in the order <see cref="ListDueAsync"/>
/// returns them. Racing claims from several app instances are settled by <see cref="TryUpdateAsync"/>'s
/// compare-and-set, not by the list, which only reads.
/// </para>
/// <para>
/// <c>due_at</c> keeps microseconds: the store drops a broadcast due later within <c>now</c>'s microsecond (see
/// <see cref="MicrosecondBound"/>) and orders a page by the documents' own instants, so two broadcasts due within one
/// microsecond come in the exact order too (a page cut between them may end with the later one: the next call lists
/// the other).
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class PgBroadcastStore : IBroadcastStore
{
    private readonly PgDocumentTable<Broadcast> _broadcasts;

    public PgBroadcastStore(PgDatabase database)
    {
        _broadcasts = new(
            database,
            "broadcasts",
            [
                new("key", PrimaryKey, static b => b.Key),
                new("status", Derived, static b => b.Status),
                new("due_at", Derived, static b => b.DueAt),
            ],
            new(static b => b.Version, static (b, v) => b with { Version = v }));
        DueSql = $"SELECT document, version FROM {_broadcasts.Name} WHERE status IN (0, 1) AND due_at <= @now " +
            "ORDER BY due_at, key LIMIT @max";
        ListSql = $"SELECT document, version FROM {_broadcasts.Name} ORDER BY due_at DESC, key LIMIT @max";
    }

    /// <summary>Gets the listing, latest due first; the table is small (a creator's broadcasts), so it is sorted whole.</summary>
    internal string ListSql { get; }

    /// <summary>Gets the due list; its predicate is the one of the partial index <c>broadcasts_due</c>, so the index serves it.</summary>
    internal string DueSql { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is <see langword="null"/>.</exception>
    public Task<Broadcast?> FindAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _broadcasts.FindAsync([key], cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="broadcast"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(Broadcast broadcast, CancellationToken cancellationToken = default) =>
        _broadcasts.TryAddAsync(broadcast, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another key.</exception>
    public Task<bool> TryUpdateAsync(Broadcast current, Broadcast replacement, CancellationToken cancellationToken = default) =>
        _broadcasts.TryUpdateAsync(current, replacement, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public async Task<ImmutableArray<Broadcast>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken = default)
    {
        ImmutableArray<Broadcast> due = MicrosecondBound.Keep(
            await _broadcasts.ListAsync(DueSql, [("now", now)], max, cancellationToken).ConfigureAwait(false),
            b => b.DueAt <= now);
        // Two due within one microsecond come in key order from the database: order the page by the exact instants.
        return [.. due.OrderBy(static b => b.DueAt).ThenBy(static b => b.Key, StringComparer.Ordinal)];
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public async Task<ImmutableArray<Broadcast>> ListAsync(int max, CancellationToken cancellationToken = default)
    {
        ImmutableArray<Broadcast> page = await _broadcasts.ListAsync(ListSql, [], max, cancellationToken).ConfigureAwait(false);
        // due_at keeps microseconds: order the page by the documents' exact instants.
        return [.. page.OrderByDescending(static b => b.DueAt).ThenBy(static b => b.Key, StringComparer.Ordinal)];
    }
}
