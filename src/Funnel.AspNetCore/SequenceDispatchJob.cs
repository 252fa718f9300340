using Funnel.Pipeline;
using System.Diagnostics;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.AspNetCore;

/// <summary>The interval of the sequence dispatcher job.</summary>
internal sealed record SequenceDispatcherSettings(TimeSpan Interval);

/// <summary>Runs <see cref="SequenceEngine.DispatchDueAsync"/> on the job runner and records the events it returns.</summary>
/// <remarks>
/// The engine is resolved on the first run, not at start, so a missing <see cref="Email.IEmailSender"/> shows as a
/// failing job in the health check rather than stopping the host. Kept to the engine's public API on purpose.
/// </remarks>
internal sealed class SequenceDispatchJob(IServiceProvider services, FunnelEventRecorder recorder, SequenceDispatcherSettings settings) : IFunnelJob
{
    public string Name => "sequence-dispatch";

    public TimeSpan Interval => settings.Interval;

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        SequenceEngine engine = services.GetRequiredService<SequenceEngine>();
        using Activity? activity = FunnelDiagnostics.Source.StartActivity("funnel.sequence.dispatch");
        DispatchResult result = await engine.DispatchDueAsync(cancellationToken).ConfigureAwait(false);
        activity?.SetTag("funnel.claimed", result.Claimed);
        activity?.SetTag("funnel.sent", result.Sent);
        activity?.SetTag("funnel.failed", result.Failed);
        activity?.SetTag("funnel.suppressed", result.Suppressed);

        // CancellationToken.None: the sends happened, so their events are recorded even when shutdown cancels the run.
        await recorder.RecordAsync(result.Events, CancellationToken.None).ConfigureAwait(false);
    }
}
