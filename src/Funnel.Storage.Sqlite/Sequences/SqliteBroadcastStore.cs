using System.Collections.Immutable;
using Funnel.Sequences;
using Funnel.Storage.Sqlite.Internal;
using NodaTime;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.Sqlite.Sequences;

/// <summary>The SQLite <see cref="IBroadcastStore"/>: table <c>broadcasts</c>, one JSON document per key.</summary>
/// <remarks>
/// <see cref="Broadcast.Status"/> and <see cref="Broadcast.DueAt"/> are copied into columns with each write, and the
/// partial index <c>broadcasts_due</c> holds exactly the open broadcasts in the order <see cref="ListDueAsync"/>
/// returns them.
/// </remarks>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class SqliteBroadcastStore(SqliteDatabase database) : IBroadcastStore
{
    /// <summary>The due list; its predicate is the one of the partial index <c>broadcasts_due</c>, so the index serves it.</summary>
    internal const string DueSql =
        "SELECT document, version FROM broadcasts WHERE status IN (0, 1) AND due_at <= $now ORDER BY due_at, key LIMIT $max";

    /// <summary>The listing, latest due first; the table is small (a creator's broadcasts), so it is sorted whole.</summary>
    internal const string ListSql = "SELECT document, version FROM broadcasts ORDER BY due_at DESC, key LIMIT $max";

    private readonly SqliteDocumentTable<Broadcast> _broadcasts = new(
        database,
        "broadcasts",
        [
            new("key", PrimaryKey, static b => b.Key),
            new("status", Derived, static b => b.Status),
            new("due_at", Derived, static b => b.DueAt),
        ],
        new(static b => b.Version, static (b, v) => b with { Version = v }));

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
    public Task<ImmutableArray<Broadcast>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken = default) =>
        _broadcasts.ListAsync(DueSql, [("$now", InstantBound.Of(now))], max, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<Broadcast>> ListAsync(int max, CancellationToken cancellationToken = default) =>
        _broadcasts.ListAsync(ListSql, [], max, cancellationToken);
}
