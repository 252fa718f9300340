using Funnel.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Funnel.Hosting;

/// <summary>Runs the <see cref="FunnelPipeline"/> for as long as the host runs.</summary>
/// <remarks>
/// Start creates every handler (a missing dependency stops the host, naming the handler) and starts one loop; the loop
/// makes passes back to back while there is work and waits <see cref="FunnelPipelineOptions.PollInterval"/> once every
/// handler is caught up. Stop cancels the loop and waits for it, and may be called any number of times, in any order
/// with the host's disposal: the service owns nothing that a concurrent stop could find disposed.
/// </remarks>
#pragma warning disable CA1001 // The token source has no timer and no registrations to release; never disposing it is what makes a StopAsync after the host's Dispose safe.
internal sealed partial class FunnelPipelineService(
    FunnelPipeline pipeline,
    IOptions<FunnelPipelineOptions> options,
    FunnelWorkSignal signal,
    ILogger<FunnelPipelineService> logger) : IHostedService
#pragma warning restore CA1001
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Task _running = Task.CompletedTask;
    private bool _started;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        pipeline.EnsureHandlers();
        lock (_gate)
        {
            if (!_started && !_stopping.IsCancellationRequested)
            {
                _started = true;
                _running = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
            }
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task running;
        lock (_gate)
        {
            running = _running;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await running.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_started)
        {
            try
            {
                // Give the partitions back so other instances take them over now rather than when the leases end.
                await pipeline.ReleaseLeasesAsync(cancellationToken).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A database that is already gone must not fail the shutdown; the leases then end on their own.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogReleaseFailed(logger, ex);
            }
        }
    }

    private async Task LoopAsync(CancellationToken stopping)
    {
        TimeSpan poll = options.Value.PollInterval.ToTimeSpan();
        using FunnelWorkListener wake = signal.Listen(FunnelWorkSignal.Events);
        while (!stopping.IsCancellationRequested)
        {
            bool idle;
            try
            {
                PipelineDelivery pass = await pipeline.DeliverAsync(stopping).ConfigureAwait(false);
                foreach (PipelineFailure failure in pass.Failures)
                {
                    if (failure.Parked)
                    {
                        LogParked(logger, failure.Error, failure.Handler, failure.Position, failure.EventId, failure.Attempt);
                    }
                    else
                    {
                        LogRetrying(logger, failure.Error, failure.Handler, failure.Position, failure.EventId, failure.Attempt, failure.RetryAt);
                    }
                }

                idle = pass.CaughtUp || pass.Delivered == 0;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A store that fails (a database restarting) must not end the loop; the pass runs again after the poll.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogPassFailed(logger, ex);
                idle = true;
            }

            if (idle)
            {
                try
                {
                    _ = await wake.WaitAsync(poll, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Funnel handler {Handler} failed on event {Position} ({EventId}), attempt {Attempt}; it is retried at {RetryAt}.")]
    private static partial void LogRetrying(ILogger logger, Exception exception, string handler, long position, EventId eventId, int attempt, NodaTime.Instant? retryAt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Funnel handler {Handler} failed on event {Position} ({EventId}) {Attempt} times; the event is parked and the handler goes on.")]
    private static partial void LogParked(ILogger logger, Exception exception, string handler, long position, EventId eventId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Funnel pipeline could not give back its partition leases; other instances take them over when the leases end.")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "A Funnel pipeline pass failed; it runs again shortly.")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
