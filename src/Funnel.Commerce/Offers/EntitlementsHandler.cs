using Funnel.Events;
using Funnel.Payments;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Offers;

/// <summary>The <c>entitlements</c> handler: finishes the grants and revocations a payment, refund, pause or dispute left pending.</summary>
/// <remarks>
/// <para>
/// <see cref="OrderService"/> stores each grant and revocation as pending on the order, in the same update as the
/// payment, refund, pause, restore or dispute that causes it (a dispute pauses or revokes access by
/// <see cref="DunningPolicy.OnDispute"/>, and a won dispute restores what it paused), and hands it to the <see cref="IEntitlementGrantor"/> at once.
/// When the grantor throws, the entitlement stays pending; this handler, reacting to the event that the state change
/// recorded, calls <see cref="OrderService.RetryEntitlementsAsync"/> and throws when the grantor fails again, so the
/// pipeline retries with backoff and finally parks the event: access is never left ungranted silently.
/// </para>
/// <para>
/// Idempotent by construction: it hands over only what is still pending on the stored order and each entitlement is
/// cleared once it went through, so a redelivered event (or one whose grants already went through inline) grants
/// nothing twice. It reads the order from the <see cref="IOrderStore"/> first and resolves the
/// <see cref="OrderService"/> only when the stored order has pending entitlements, so a host that registers
/// <c>AddFunnelCommerce()</c> without a catalogue still starts, and an event for an order the store does not hold
/// (one the host appended itself, such as the raw inputs Funnel.Advocacy reacts to) is skipped rather than retried
/// and parked: nothing can be pending for it.
/// </para>
/// </remarks>
/// <param name="services">Resolves the <see cref="IOrderStore"/>, and the <see cref="OrderService"/> when an order has pending entitlements.</param>
internal sealed class EntitlementsHandler(IServiceProvider services) : IFunnelHandler
{
    /// <summary>The name the handler is registered under.</summary>
    public const string Name = "entitlements";

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The grantor failed; the pipeline retries the event.</exception>
    public async Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        OrderId? order = funnelEvent switch
        {
            PaymentSucceeded e => e.Order,
            RefundIssued e => e.Order,
            AccessPaused e => e.Order,
            AccessRestored e => e.Order,
            PaymentDisputed e => e.Order,
            DisputeClosed e => e.Order,
            _ => null,
        };
        if (order is not { } id)
        {
            return;
        }

        Order? stored = await services.GetRequiredService<IOrderStore>().FindAsync(id, cancellationToken).ConfigureAwait(false);
        if (stored is not { HasPendingEntitlements: true })
        {
            return;
        }

        OrderResult result = await services.GetRequiredService<OrderService>().RetryEntitlementsAsync(id, cancellationToken).ConfigureAwait(false);
        if (result.EntitlementError is { } error)
        {
            throw new InvalidOperationException($"Granting or revoking access for order {id} failed: {error.Message}", error);
        }
    }
}
