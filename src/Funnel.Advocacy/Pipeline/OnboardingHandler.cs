using Funnel.Events;
using Funnel.Offers;
using Funnel.Pipeline;

namespace Funnel.Onboarding;

/// <summary>
/// The <c>onboarding</c> handler: keeps the <see cref="EntitlementLedger"/> (who holds which course, read by the
/// <see cref="CourseProgressTracker"/>) current from <c>entitlement_granted</c> and <c>entitlement_revoked</c>.
/// </summary>
/// <remarks>
/// The onboarding emails are sequences (the guide's welcome starts on <c>entitlement_granted</c>), delivered by the
/// sequences handler; this handler does the course-access bookkeeping only. Idempotent by event id: a grant or revoke
/// sets the order's record to a state, and a record changed later than the event is left alone.
/// </remarks>
internal sealed class OnboardingHandler(EntitlementLedger ledger) : IFunnelHandler
{
    public Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        return funnelEvent is EntitlementGranted or EntitlementRevoked
            ? ledger.ApplyAsync(funnelEvent, cancellationToken)
            : Task.CompletedTask;
    }
}
