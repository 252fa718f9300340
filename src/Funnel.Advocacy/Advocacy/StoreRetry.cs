namespace Funnel.Advocacy;

/// <summary>The bounded compare-and-set retry loop of the engines that read, modify and write a stored document.</summary>
/// <remarks>
/// A stand-in for the shared <c>OptimisticConcurrency</c> helper (built on another branch): one attempt reads the
/// current document, decides, and tries a replace-if-version; a lost race runs the attempt again on a fresh read.
/// </remarks>
internal static class StoreRetry
{
    /// <summary>How many times an attempt runs before the loop gives up.</summary>
    internal const int MaxAttempts = 16;

    /// <summary>Runs <paramref name="attempt"/> until it completes or <see cref="MaxAttempts"/> attempts lost their race.</summary>
    /// <typeparam name="T">The result.</typeparam>
    /// <param name="attempt">One read-decide-write attempt: <c>(true, result)</c> when done, <c>(false, _)</c> when its write lost a race.</param>
    /// <param name="what">What is being updated, for the error message.</param>
    /// <param name="cancellationToken">Cancels the loop between attempts.</param>
    /// <returns>The result of the attempt that completed.</returns>
    /// <exception cref="InvalidOperationException">Every attempt lost its race.</exception>
    internal static async Task<T> RetryAsync<T>(
        Func<CancellationToken, Task<(bool Done, T Result)>> attempt, string what, CancellationToken cancellationToken)
    {
        for (int i = 0; i < MaxAttempts; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            (bool done, T result) = await attempt(cancellationToken).ConfigureAwait(false);
            if (done)
            {
                return result;
            }
        }

        throw new InvalidOperationException($"Gave up updating {what} after {MaxAttempts} concurrent changes.");
    }
}
