namespace Funnel.Storage.ConformanceTests;

/// <summary>Runs contenders that start together, so the store sees them at once.</summary>
public static class Race
{
    /// <summary>How many tasks race in the concurrency tests.</summary>
    public const int Contenders = 16;

    /// <summary>Starts <paramref name="count"/> attempts on the thread pool, released together, and returns their results.</summary>
    public static async Task<T[]> RunAsync<T>(int count, Func<int, Task<T>> attempt)
    {
        TaskCompletionSource start = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<T>[] tasks = [.. Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await attempt(i);
        }))];
        start.SetResult();
        return await Task.WhenAll(tasks);
    }
}
