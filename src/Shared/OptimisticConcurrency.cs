namespace Funnel;

/// <summary>The one read-modify-write loop over a store's compare-and-set members (find, insert-if-absent, replace-if-version).</summary>
/// <remarks>
/// Each attempt re-reads the stored document and re-applies <c>change</c>, which must be a pure function of what it is
/// given (it may run more than once): draw randomness and read the clock before the call. A lost compare-and-set
/// retries, up to <see cref="MaxAttempts"/> attempts.
/// </remarks>
internal static class OptimisticConcurrency
{
    /// <summary>The most attempts before giving up on a document that keeps changing.</summary>
    internal const int MaxAttempts = 16;

    /// <summary>Reads, changes and writes a document with optimistic concurrency.</summary>
    /// <typeparam name="T">The stored document.</typeparam>
    /// <param name="findAsync">Reads the stored document, or <see langword="null"/> when there is none.</param>
    /// <param name="change">Returns the new document from the stored one; <see langword="null"/> or the same instance writes nothing. A new document (from <see langword="null"/>) has version 0.</param>
    /// <param name="tryAddAsync">Inserts a new document if absent; <see langword="null"/> when a missing document is left missing.</param>
    /// <param name="tryUpdateAsync">Replaces the first document with the second if its version is unchanged.</param>
    /// <param name="stored">Returns the document as stored by a successful update (the replacement with the next version).</param>
    /// <param name="subject">Names the document in the exception message.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The document read by the winning attempt, the document now stored, and whether anything was written.</returns>
    /// <exception cref="InvalidOperationException">The document changed under every one of <see cref="MaxAttempts"/> attempts.</exception>
    internal static async Task<Update<T>> UpdateAsync<T>(
        Func<CancellationToken, Task<T?>> findAsync,
        Func<T?, T?> change,
        Func<T, CancellationToken, Task<bool>>? tryAddAsync,
        Func<T, T, CancellationToken, Task<bool>> tryUpdateAsync,
        Func<T, T, T> stored,
        string subject,
        CancellationToken cancellationToken)
        where T : class
    {
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            T? current = await findAsync(cancellationToken).ConfigureAwait(false);
            if (current is null && tryAddAsync is null)
            {
                return new Update<T>(null, null, false);
            }

            T? next = change(current);
            if (next is null || ReferenceEquals(next, current))
            {
                return new Update<T>(current, current, false);
            }

            if (current is null)
            {
                if (await tryAddAsync!(next, cancellationToken).ConfigureAwait(false))
                {
                    return new Update<T>(null, next, true);
                }
            }
            else if (await tryUpdateAsync(current, next, cancellationToken).ConfigureAwait(false))
            {
                return new Update<T>(current, stored(current, next), true);
            }
        }

        throw new InvalidOperationException($"{subject} kept changing under {MaxAttempts} concurrent updates; try again.");
    }

    /// <summary>The outcome of <see cref="UpdateAsync"/>.</summary>
    /// <param name="Before">The document the winning attempt read, or <see langword="null"/> when there was none.</param>
    /// <param name="After">The document now stored, or <see langword="null"/> when there is none.</param>
    /// <param name="Changed">Whether anything was written.</param>
    internal readonly record struct Update<T>(T? Before, T? After, bool Changed)
        where T : class;

    /// <summary>Runs a read-decide-write <paramref name="attempt"/> until it completes or <paramref name="maxAttempts"/> attempts lost their race.</summary>
    /// <typeparam name="T">The result.</typeparam>
    /// <param name="attempt">One attempt: <c>(true, result)</c> when done, <c>(false, _)</c> when its write lost a race.</param>
    /// <param name="what">What is being updated, for the error message.</param>
    /// <param name="cancellationToken">Cancels the loop between attempts.</param>
    /// <param name="maxAttempts">The most attempts; <see cref="MaxAttempts"/> unless a document is known to be hot (one waitlist all joins of an offer go through).</param>
    /// <returns>The result of the attempt that completed.</returns>
    /// <exception cref="InvalidOperationException">Every attempt lost its race.</exception>
    internal static async Task<T> RetryAsync<T>(
        Func<CancellationToken, Task<(bool Done, T Result)>> attempt, string what, CancellationToken cancellationToken,
        int maxAttempts = MaxAttempts)
    {
        for (int i = 0; i < maxAttempts; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            (bool done, T result) = await attempt(cancellationToken).ConfigureAwait(false);
            if (done)
            {
                return result;
            }
        }

        throw new InvalidOperationException($"Gave up updating {what} after {maxAttempts} concurrent changes.");
    }
}
