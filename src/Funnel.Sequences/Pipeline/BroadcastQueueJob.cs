using System.Diagnostics;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Sequences;

/// <summary>The <c>broadcast-queue</c> job: queues the sends of the broadcasts that have started, for the dispatcher to send.</summary>
/// <remarks>
/// Each run calls <see cref="BroadcastService.QueueDueAsync"/> until it queues nothing (at most
/// <see cref="MaxCallsPerRun"/> times). Several processes may run it at once: each broadcast is queued by one of them
/// at a time, and a crashed one's broadcast is resumed by another after the lease.
/// </remarks>
internal sealed class BroadcastQueueJob(IServiceProvider services) : IFunnelJob
{
    /// <summary>The most queuing calls one run makes.</summary>
    internal const int MaxCallsPerRun = 100;

    public string Name => "broadcast-queue";

    public TimeSpan Interval => TimeSpan.FromSeconds(15);

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        BroadcastService broadcasts = services.GetRequiredService<BroadcastService>();
        using Activity? activity = SequenceDispatchJob.Source.StartActivity("funnel.broadcast.queue");
        int queued = 0;
        for (int call = 0; call < MaxCallsPerRun; call++)
        {
            int added = await broadcasts.QueueDueAsync(cancellationToken).ConfigureAwait(false);
            queued += added;
            if (added == 0)
            {
                break;
            }
        }

        activity?.SetTag("funnel.queued", queued);
    }
}
