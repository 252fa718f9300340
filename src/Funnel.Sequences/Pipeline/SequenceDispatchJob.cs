using System.Diagnostics;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Sequences;

/// <summary>The interval of the sequence dispatcher job.</summary>
internal sealed record SequenceDispatcherSettings(TimeSpan Interval);

/// <summary>Runs <see cref="SequenceEngine.DispatchDueAsync"/> on the job runner; the engine records the events itself.</summary>
/// <remarks>
/// Each run dispatches batch after batch until one claims nothing (at most <see cref="MaxBatchesPerRun"/>), then the
/// runner waits for the interval.
/// The engine is resolved on the first run, not at construction; a missing <see cref="Email.IEmailSender"/> is
/// reported at start-up by the prerequisite that <c>AddFunnelSequenceDispatcher</c> declares.
/// </remarks>
internal sealed class SequenceDispatchJob(IServiceProvider services, SequenceDispatcherSettings settings) : IFunnelJob
{
    // The same source name as Funnel.AspNetCore's FunnelDiagnostics, so an app that traces "Funnel" keeps these spans.
    internal static readonly ActivitySource Source = new("Funnel");

    /// <summary>The most batches one run dispatches.</summary>
    internal const int MaxBatchesPerRun = 1000;

    public string Name => "sequence-dispatch";

    public TimeSpan Interval => settings.Interval;

    /// <summary>Gets <see cref="FunnelWorkSignal.Sends"/>: a store that schedules a due send wakes the dispatcher at once.</summary>
    public string? WakeTopic => FunnelWorkSignal.Sends;

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        SequenceEngine engine = services.GetRequiredService<SequenceEngine>();
        using Activity? activity = Source.StartActivity("funnel.sequence.dispatch");
        int batches = 0, claimed = 0, sent = 0, failed = 0, suppressed = 0, released = 0;
        DispatchResult result;
        do
        {
            // Back to back while there is work, so a backlog is worked off at the engine's pace, not one batch per
            // interval; at most MaxBatchesPerRun, so a run always ends.
            result = await engine.DispatchDueAsync(cancellationToken).ConfigureAwait(false);
            batches++;
            claimed += result.Claimed;
            sent += result.Sent;
            failed += result.Failed;
            suppressed += result.Suppressed;
            released += result.Released;
        }
        while (result.Claimed > 0 && batches < MaxBatchesPerRun && !cancellationToken.IsCancellationRequested);

        activity?.SetTag("funnel.batches", batches);
        activity?.SetTag("funnel.claimed", claimed);
        activity?.SetTag("funnel.sent", sent);
        activity?.SetTag("funnel.failed", failed);
        activity?.SetTag("funnel.suppressed", suppressed);
        activity?.SetTag("funnel.released", released);
    }
}
