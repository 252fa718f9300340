using System.Collections.Immutable;
using System.Diagnostics;
using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Sequences;

/// <summary>The <c>sequence-tests</c> job: decides the sequence emails' automatic winner tests whose variants have their samples.</summary>
/// <remarks>
/// Each run calls <see cref="SequenceEngine.DecideTestsAsync"/>, which returns at once when no step has a winner test.
/// Several processes may run it at once: the first decision stored wins and its event is recorded once.
/// </remarks>
internal sealed class SequenceTestJob(IServiceProvider services) : IFunnelJob
{
    public string Name => "sequence-tests";

    public TimeSpan Interval => TimeSpan.FromMinutes(1);

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        using Activity? activity = SequenceDispatchJob.Source.StartActivity("funnel.sequence.tests");
        ImmutableArray<FunnelEvent> decided = await services.GetRequiredService<SequenceEngine>().DecideTestsAsync(cancellationToken).ConfigureAwait(false);
        activity?.SetTag("funnel.decided", decided.Length);
    }
}
