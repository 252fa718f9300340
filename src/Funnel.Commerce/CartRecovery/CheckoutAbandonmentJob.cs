using Funnel.Pipeline;
using Microsoft.Extensions.Options;

namespace Funnel.CartRecovery;

/// <summary>Runs <see cref="CheckoutAbandonment.EmitDueAsync"/> every <see cref="CartRecoveryOptions.Interval"/>.</summary>
internal sealed class CheckoutAbandonmentJob(CheckoutAbandonment abandonment, IOptions<CartRecoveryOptions> options) : IFunnelJob
{
    /// <inheritdoc/>
    public string Name => "cart-recovery";

    /// <inheritdoc/>
    public TimeSpan Interval => options.Value.Interval;

    /// <inheritdoc/>
    public Task RunAsync(CancellationToken cancellationToken = default) => abandonment.EmitDueAsync(cancellationToken);
}
