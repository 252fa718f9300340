using System.Diagnostics;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>
/// The <c>sequence-outbox-retention</c> job: removes the outbox entries that reached a final state longer ago than
/// <see cref="SequenceOptions.OutboxRetention"/>, in batches, so the outbox does not grow forever.
/// </summary>
/// <remarks>
/// Each run calls <see cref="ISendOutbox.PurgeCompletedAsync"/> with batches of <see cref="BatchSize"/> until a batch
/// comes back short, at most <see cref="MaxBatchesPerRun"/> times, so one run never holds a database's writer for
/// long; a larger backlog is worked off by the next runs. Open entries are never removed, and several processes may
/// run it at once (each entry is removed once).
/// </remarks>
internal sealed class OutboxRetentionJob(IServiceProvider services) : IFunnelJob
{
    /// <summary>The most entries one purge call removes.</summary>
    internal const int BatchSize = 1000;

    /// <summary>The most purge calls one run makes.</summary>
    internal const int MaxBatchesPerRun = 100;

    public string Name => "sequence-outbox-retention";

    public TimeSpan Interval => TimeSpan.FromHours(1);

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        ISendOutbox outbox = services.GetRequiredService<ISendOutbox>();
        Duration retention = services.GetRequiredService<IOptions<SequenceOptions>>().Value.OutboxRetention;
        Instant cutoff = services.GetRequiredService<IClock>().GetCurrentInstant() - retention;
        using Activity? activity = SequenceDispatchJob.Source.StartActivity("funnel.sequence.outbox_retention");
        int purged = 0;
        for (int batch = 0; batch < MaxBatchesPerRun; batch++)
        {
            int removed = await outbox.PurgeCompletedAsync(cutoff, BatchSize, cancellationToken).ConfigureAwait(false);
            purged += removed;
            if (removed < BatchSize)
            {
                break;
            }
        }

        activity?.SetTag("funnel.purged", purged);
    }
}
