namespace Funnel.Advocacy;

/// <summary>The keyed, versioned table behind the in-memory stores: insert-if-absent and replace-if-version under one lock.</summary>
/// <typeparam name="TKey">The document key.</typeparam>
/// <typeparam name="T">The stored document.</typeparam>
/// <param name="keyOf">Returns a document's key.</param>
/// <param name="versionOf">Returns a document's version.</param>
/// <param name="withVersion">Returns a document with another version.</param>
/// <param name="comparer">Compares keys, or <see langword="null"/> for the default.</param>
/// <threadsafety>All members are thread-safe; each is atomic.</threadsafety>
internal sealed class InMemoryDocuments<TKey, T>(
    Func<T, TKey> keyOf, Func<T, long> versionOf, Func<T, long, T> withVersion, IEqualityComparer<TKey>? comparer = null)
    where TKey : notnull
    where T : class
{
    private readonly Dictionary<TKey, T> _documents = new(comparer);

    /// <summary>Gets the lock that makes a caller's check and write one atomic step.</summary>
    internal Lock Gate { get; } = new();

    /// <summary>Returns the document with a key, or <see langword="null"/>.</summary>
    internal T? Find(TKey key)
    {
        lock (Gate)
        {
            return _documents.GetValueOrDefault(key);
        }
    }

    /// <summary>Returns the documents that match, ordered by <paramref name="orderBy"/>, at most <paramref name="max"/>.</summary>
    internal List<T> List<TOrder>(Func<T, bool> match, Func<T, TOrder> orderBy, int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        lock (Gate)
        {
            return [.. _documents.Values.Where(match).OrderBy(orderBy).Take(max)];
        }
    }

    /// <summary>Adds the document with version 0 unless its key exists (or <paramref name="conflicts"/> says so).</summary>
    internal bool TryAdd(T document, Func<T, bool>? conflicts = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        lock (Gate)
        {
            TKey key = keyOf(document);
            if (_documents.ContainsKey(key) || (conflicts is not null && _documents.Values.Any(conflicts)))
            {
                return false;
            }

            _documents[key] = withVersion(document, 0);
            return true;
        }
    }

    /// <summary>Replaces the document when the stored version is <paramref name="current"/>'s, bumping the version.</summary>
    internal bool TryUpdate(T current, T replacement, Func<T, bool>? conflicts = null)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        TKey key = keyOf(current);
        if (!_documents.Comparer.Equals(key, keyOf(replacement)))
        {
            throw new ArgumentException("The replacement must have the key of the current document.", nameof(replacement));
        }

        lock (Gate)
        {
            if (!_documents.TryGetValue(key, out T? stored) || versionOf(stored) != versionOf(current)
                || (conflicts is not null && _documents.Values.Any(d => !ReferenceEquals(d, stored) && conflicts(d))))
            {
                return false;
            }

            _documents[key] = withVersion(replacement, versionOf(current) + 1);
            return true;
        }
    }
}
