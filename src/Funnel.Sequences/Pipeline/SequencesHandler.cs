using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Sequences;

/// <summary>The <c>sequences</c> pipeline handler: enrols on triggers, ends on exit goals and starts enrolments awaiting consent, for every logged event.</summary>
/// <remarks>
/// Idempotent by event id: enrolments and the events they cause take ids derived from the event, so a redelivered
/// event enrols, schedules and records nothing twice. The engine is resolved on the first event, not at start.
/// </remarks>
internal sealed class SequencesHandler(IServiceProvider services) : IFunnelHandler
{
    public Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default) =>
        services.GetRequiredService<SequenceEngine>().HandleAsync(funnelEvent, cancellationToken);
}
