using Funnel.Events;
using Funnel.Payments;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Advocacy;

/// <summary>
/// The <c>affiliates</c> handler: attributes orders, earns commission on payments and claws it back on refunds and
/// chargebacks, through <see cref="AffiliateProgram.ApplyAsync"/>.
/// </summary>
/// <remarks>
/// Does nothing unless <see cref="AffiliateProgramSettings"/> are registered (the program is resolved on the first
/// event it cares about, so the settings may be registered after <c>AddFunnelAdvocacy</c>). Idempotent by event id:
/// the program records each applied payment, refund or dispute on the order's sale and attributes an order once, and
/// the events it records take ids derived from the cause.
/// </remarks>
internal sealed class AffiliateCommissionHandler(IServiceProvider services) : IFunnelHandler
{
    private readonly Lazy<AffiliateProgram?> _program = new(() =>
        services.GetService<AffiliateProgramSettings>() is null ? null : services.GetRequiredService<AffiliateProgram>());

    public async Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        if (funnelEvent is not (OrderPlaced or PaymentSucceeded or RefundIssued or PaymentDisputed or DisputeClosed) || _program.Value is not { } program)
        {
            return;
        }

        await program.ApplyAsync(funnelEvent, cancellationToken).ConfigureAwait(false);
    }
}
