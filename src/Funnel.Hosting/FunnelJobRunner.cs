using System.Collections.Concurrent;
using System.Diagnostics;
using Funnel.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Funnel.Hosting;

/// <summary>The last outcome of each job, read by the health check.</summary>
internal sealed class FunnelJobStatus
{
    private readonly ConcurrentDictionary<string, string?> lastErrors = new(StringComparer.Ordinal);

    public void Succeeded(string job) => lastErrors[job] = null;

    public void Failed(string job, Exception error) => lastErrors[job] = $"{error.GetType().Name}: {error.Message}";

    public IReadOnlyDictionary<string, string?> Snapshot() => new Dictionary<string, string?>(lastErrors, StringComparer.Ordinal);
}

/// <summary>Runs every registered <see cref="IFunnelJob"/> on its interval, and stops gracefully.</summary>
/// <remarks>
/// Shutdown is race-free: the host may call <see cref="StopAsync"/> more than once, and before or after
/// <see cref="Dispose"/>, from different threads. Nothing is disposed that a concurrent stop could still use: the
/// token sources hold no timer and no registration, so they are left to the collector.
/// </remarks>
#pragma warning disable CA1001, CA2213 // See the remarks: not disposing the token sources is what makes a stop after Dispose safe.
internal sealed partial class FunnelJobRunner(
    IEnumerable<IFunnelJob> jobs,
    FunnelJobStatus status,
    FunnelWorkSignal signal,
    TimeProvider time,
    ILogger<FunnelJobRunner> logger) : IHostedService, IDisposable
#pragma warning restore CA1001, CA2213
{
    private readonly IFunnelJob[] jobs = [.. jobs];
    private readonly CancellationTokenSource stopping = new();
    private readonly CancellationTokenSource abort = new();
    private readonly TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task running = Task.CompletedTask;
    private int stopRequested;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // A zero interval spins, a negative one makes Task.Delay throw (or, at -1 ms, wait forever) and ends the
        // job's loop without a log: refuse both while the host starts.
        if (jobs.FirstOrDefault(j => j.Interval <= TimeSpan.Zero) is { } bad)
        {
            throw new InvalidOperationException($"The Funnel job '{bad.Name}' has Interval {bad.Interval}; it must be positive.");
        }

        running = Task.WhenAll(jobs.Select(job => Task.Run(() => LoopAsync(job), CancellationToken.None)));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Hosts may call StopAsync more than once, even after disposing the service; stopping happens once.
        if (Interlocked.Exchange(ref stopRequested, 1) == 1)
        {
            return;
        }

        // Completing this wakes every loop between runs, whatever state the delay's cancellation is in.
        stopped.TrySetResult();
        await stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await running.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The shutdown timeout passed: cancel the runs still going and wait for them to notice.
            await abort.CancelAsync().ConfigureAwait(false);
            await running.ConfigureAwait(false);
        }
    }

    public void Dispose() => stopped.TrySetResult();

    private async Task LoopAsync(IFunnelJob job)
    {
        using FunnelWorkListener? wake = job.WakeTopic is { } topic ? signal.Listen(topic) : null;
        while (!stopped.Task.IsCompleted)
        {
            await RunOnceAsync(job).ConfigureAwait(false);
            using var pause = new CancellationTokenSource();
            Task delay = wake is null ? Task.Delay(job.Interval, time, pause.Token) : wake.WaitAsync(job.Interval, pause.Token);
            if (await Task.WhenAny(delay, stopped.Task).ConfigureAwait(false) != delay)
            {
                await pause.CancelAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    private async Task RunOnceAsync(IFunnelJob job)
    {
        using Activity? activity = HostingDiagnostics.Source.StartActivity("funnel.job");
        activity?.SetTag("funnel.job", job.Name);
        string outcome = "succeeded";
        try
        {
            await job.RunAsync(abort.Token).ConfigureAwait(false);
            status.Succeeded(job.Name);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            outcome = "cancelled";
        }
#pragma warning disable CA1031 // A failing job must not stop the runner or the host; the failure is logged and reported by the health check.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            outcome = "failed";
            status.Failed(job.Name, ex);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            LogJobFailed(logger, ex, job.Name);
        }

        HostingDiagnostics.JobRuns.Add(1, new KeyValuePair<string, object?>("funnel.job", job.Name), new KeyValuePair<string, object?>("funnel.outcome", outcome));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Funnel job {Job} failed; it runs again after its interval.")]
    private static partial void LogJobFailed(ILogger logger, Exception exception, string job);
}
