using Funnel.Events;
using Funnel.Payments;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Advocacy;

/// <summary>
/// The <c>referrals</c> handler: a referred friend's <c>order_placed</c> starts the referrer's reward
/// (<see cref="ReferralProgram.RecordPurchaseAsync"/>); a refund on it within the refund window cancels it, and a
/// chargeback holds it (<see cref="ReferralStatus.Disputed"/>) until the dispute closes: won, it is pending again; lost,
/// it is cancelled.
/// </summary>
/// <remarks>
/// Does nothing unless <see cref="ReferralProgramSettings"/> are registered. Idempotent by event id: only a referral
/// still in <see cref="ReferralStatus.Referred"/> records a purchase (once, with an id derived from the order event),
/// only a <see cref="ReferralStatus.Purchased"/> one is cancelled or held, and only a held one is settled. The reward itself is credited by the
/// <c>advocacy-clearing</c> job once the refund window has passed.
/// </remarks>
internal sealed class ReferralRewardHandler(IServiceProvider services) : IFunnelHandler
{
    private readonly Lazy<ReferralProgram?> _program = new(() =>
        services.GetService<ReferralProgramSettings>() is null ? null : services.GetRequiredService<ReferralProgram>());

    public async Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        if (funnelEvent is not (OrderPlaced or RefundIssued or PaymentDisputed or DisputeClosed) || _program.Value is not { } program)
        {
            return;
        }

        switch (funnelEvent)
        {
            case OrderPlaced order:
                await program.RecordPurchaseAsync(order, cancellationToken: cancellationToken).ConfigureAwait(false);
                break;
            case RefundIssued refund:
                await program.RecordRefundAsync(refund, cancellationToken).ConfigureAwait(false);
                break;
            case PaymentDisputed dispute:
                await program.RecordDisputeAsync(dispute, cancellationToken).ConfigureAwait(false);
                break;
            case DisputeClosed closed:
                await program.RecordDisputeClosedAsync(closed, cancellationToken).ConfigureAwait(false);
                break;
        }
    }
}
