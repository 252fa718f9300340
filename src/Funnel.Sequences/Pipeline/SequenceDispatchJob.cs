using System.Diagnostics;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Sequences;

/// <summary>The interval of the sequence dispatcher job.</summary>
internal sealed record SequenceDispatcherSettings(TimeSpan Interval);

/// <summary>Runs <see cref="SequenceEngine.DispatchDueAsync"/> on the job runner; the engine records the events itself.</summary>
/// <remarks>
/// The engine is resolved on the first run, not at construction; a missing <see cref="Email.IEmailSender"/> is
/// reported at start-up by the prerequisite that <c>AddFunnelSequenceDispatcher</c> declares.
/// </remarks>
internal sealed class SequenceDispatchJob(IServiceProvider services, SequenceDispatcherSettings settings) : IFunnelJob
{
    // The same source name as Funnel.AspNetCore's FunnelDiagnostics, so an app that traces "Funnel" keeps these spans.
    internal static readonly ActivitySource Source = new("Funnel");

    public string Name => "sequence-dispatch";

    public TimeSpan Interval => settings.Interval;

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        SequenceEngine engine = services.GetRequiredService<SequenceEngine>();
        using Activity? activity = Source.StartActivity("funnel.sequence.dispatch");
        DispatchResult result = await engine.DispatchDueAsync(cancellationToken).ConfigureAwait(false);
        activity?.SetTag("funnel.claimed", result.Claimed);
        activity?.SetTag("funnel.sent", result.Sent);
        activity?.SetTag("funnel.failed", result.Failed);
        activity?.SetTag("funnel.suppressed", result.Suppressed);
        activity?.SetTag("funnel.released", result.Released);
    }
}
