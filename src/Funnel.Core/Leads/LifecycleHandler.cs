using Funnel.Events;
using Funnel.Pipeline;

namespace Funnel.Leads;

/// <summary>The "lifecycle" handler: moves a lead's stored stage for events the engines did not apply themselves.</summary>
/// <remarks>
/// <para>
/// Lead capture and scoring store the stage they reach; an order placed, a payment, a review or a referral reach a
/// stage through <see cref="LeadLifecycle.Transition"/> here. The stage change is stored (compare-and-set) and then
/// one <see cref="LifecycleStageChanged"/> is recorded with an id derived from the cause, so a redelivered cause
/// finds the stage already moved and records nothing. Events of visitors without a stored profile change nothing.
/// </para>
/// <para>
/// A crash between storing the stage and appending the event loses that one event (the stage is kept); the
/// durable stores that append in the same transaction close that gap.
/// </para>
/// </remarks>
internal sealed class LifecycleHandler(ILeadStore store, IFunnelEventLog log, LeadLifecycle lifecycle) : IFunnelHandler
{
    /// <summary>The name under which <c>AddFunnel</c> registers the handler.</summary>
    public const string Name = "lifecycle";

    public async Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        if (funnelEvent is not LeadEvent leadEvent)
        {
            return;
        }

        LifecycleStageChanged? change = null;
        OptimisticConcurrency.Update<LeadProfile> update = await OptimisticConcurrency.UpdateAsync(
            c => store.FindAsync(leadEvent.LeadId, c),
            current =>
            {
                change = current is null ? null : lifecycle.Transition(current.Stage, leadEvent);
                return change is null ? current : current! with { Stage = change.To };
            },
            tryAddAsync: null,
            store.TryUpdateAsync,
            static (current, next) => next with { Version = current.Version + 1 },
            $"Lead {leadEvent.LeadId}",
            cancellationToken).ConfigureAwait(false);
        if (update.Changed && change is not null)
        {
            await log.AppendAsync(
                [change with { Id = EventId.Derive(leadEvent.Id, "lifecycle:stage_changed") }],
                cancellationToken).ConfigureAwait(false);
        }
    }
}
