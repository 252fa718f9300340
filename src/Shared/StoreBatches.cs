namespace Funnel;

/// <summary>Argument checks shared by the batch members of the store seams and their implementations.</summary>
internal static class StoreBatches
{
    /// <summary>Throws when a batch is <see langword="null"/> or names one key twice.</summary>
    /// <typeparam name="T">The item.</typeparam>
    /// <typeparam name="TKey">The item's key.</typeparam>
    /// <param name="items">The batch.</param>
    /// <param name="key">Returns an item's key.</param>
    /// <param name="parameter">The parameter name for the exception.</param>
    /// <exception cref="ArgumentNullException"><paramref name="items"/>, an item or a key is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A key appears more than once.</exception>
    internal static void CheckDistinct<T, TKey>(IEnumerable<T> items, Func<T, TKey> key, string parameter)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(items, parameter);
        HashSet<TKey> seen = [];
        foreach (T item in items)
        {
            TKey k = item is null ? throw new ArgumentNullException(parameter) : key(item);
            if (k is null)
            {
                throw new ArgumentNullException(parameter);
            }

            if (!seen.Add(k))
            {
                throw new ArgumentException($"The batch names '{k}' more than once.", parameter);
            }
        }
    }
}
