using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>Stores the scheduled broadcasts; replace the in-memory default with durable storage.</summary>
/// <remarks>
/// Follows the store convention: keyed finds, insert-if-absent and replace-if-version (the store bumps
/// <see cref="Broadcast.Version"/>). A database implementation keeps <see cref="Broadcast.Status"/> and
/// <see cref="Broadcast.DueAt"/> in columns with an index for <see cref="ListDueAsync"/>. Run the
/// <c>BroadcastStoreSpecification</c> tests against an implementation.
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads and processes at once; each member is atomic.</threadsafety>
public interface IBroadcastStore
{
    /// <summary>Finds a broadcast by key.</summary>
    /// <param name="key">The broadcast key.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The broadcast, or <see langword="null"/> when there is none.</returns>
    Task<Broadcast?> FindAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Adds a broadcast unless one with its key exists; it is stored with version 0.</summary>
    /// <param name="broadcast">The broadcast.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added; <see langword="false"/> when the key exists.</returns>
    Task<bool> TryAddAsync(Broadcast broadcast, CancellationToken cancellationToken = default);

    /// <summary>Replaces a broadcast when its stored version is still <paramref name="current"/>'s.</summary>
    /// <param name="current">The broadcast as read.</param>
    /// <param name="replacement">The new state, same key; stored with version <c>current.Version + 1</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when replaced; <see langword="false"/> when it is missing or changed since read.</returns>
    Task<bool> TryUpdateAsync(Broadcast current, Broadcast replacement, CancellationToken cancellationToken = default);

    /// <summary>Lists up to <paramref name="max"/> broadcasts that need queuing work at <paramref name="now"/>: <see cref="BroadcastStatus.Scheduled"/> or <see cref="BroadcastStatus.Queuing"/> with <see cref="Broadcast.DueAt"/> at or before it, earliest first (then by key).</summary>
    /// <remarks>A read, not a claim: claim one by compare-and-set with <see cref="TryUpdateAsync"/>.</remarks>
    /// <param name="now">The current instant.</param>
    /// <param name="max">The most broadcasts to return; positive.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The broadcasts as stored.</returns>
    Task<ImmutableArray<Broadcast>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken = default);

    /// <summary>Lists up to <paramref name="max"/> broadcasts in every status, the latest <see cref="Broadcast.DueAt"/> first (then by key), for a listing such as the dashboard's.</summary>
    /// <remarks>
    /// <see cref="Broadcast.DueAt"/> is the start, or for a broadcast being queued the end of its claim's lease, so the
    /// order is by start, newest first. A creator keeps tens or hundreds of broadcasts, so a store may sort them all.
    /// </remarks>
    /// <param name="max">The most broadcasts to return; positive.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The broadcasts as stored.</returns>
    Task<ImmutableArray<Broadcast>> ListAsync(int max, CancellationToken cancellationToken = default);
}
