using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.CartRecovery;

/// <summary>Keeps the <see cref="ICheckoutStore"/> in step with the log: a <see cref="CheckoutStarted"/> opens (or restarts) the lead's checkout for the offer, an <see cref="OrderPlaced"/> for it closes it.</summary>
/// <remarks>
/// Idempotent by event: a redelivered <see cref="CheckoutStarted"/> finds its own id stored and changes nothing, and an
/// older one (delivered late) never replaces a newer checkout. An order closes only an open checkout started at or
/// before it; an abandonment already emitted stays emitted (the order then counts as a recovery).
/// </remarks>
internal sealed class CheckoutTrackingHandler(ICheckoutStore store, IOptions<CartRecoveryOptions> options) : IFunnelHandler
{
    /// <summary>The handler's name in the pipeline.</summary>
    public const string Name = "cart-recovery";

    private readonly Duration _abandonAfter = options.Value.AbandonAfter;

    public async Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        switch (funnelEvent)
        {
            case CheckoutStarted started:
                await UpdateAsync(started.LeadId, started.Offer, current => Open(current, started), cancellationToken).ConfigureAwait(false);
                break;
            case OrderPlaced order:
                await UpdateAsync(order.LeadId, order.Offer, current => Close(current, order), cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private TrackedCheckout? Open(TrackedCheckout? current, CheckoutStarted started)
    {
        if (current is not null && (current.Checkout == started.Id || current.StartedAt > started.OccurredAt))
        {
            return null;
        }

        return new TrackedCheckout
        {
            Lead = started.LeadId,
            Offer = started.Offer,
            Checkout = started.Id,
            StartedAt = started.OccurredAt,
            DueAt = started.OccurredAt + _abandonAfter,
            Status = CheckoutStatus.Open,
            Version = current?.Version ?? 0,
        };
    }

    private static TrackedCheckout? Close(TrackedCheckout? current, OrderPlaced order) =>
        current is { Status: CheckoutStatus.Open } && current.StartedAt <= order.OccurredAt
            ? current with { Status = CheckoutStatus.Ordered, ClaimedBy = null, ClaimedUntil = null }
            : null;

    private async Task UpdateAsync(LeadId lead, OfferId offer, Func<TrackedCheckout?, TrackedCheckout?> change, CancellationToken cancellationToken) =>
        _ = await OptimisticConcurrency.UpdateAsync(
            c => store.FindAsync(lead, offer, c),
            change,
            store.TryAddAsync,
            store.TryUpdateAsync,
            static (current, next) => next with { Version = current.Version + 1 },
            $"Checkout of lead {lead} for offer '{offer}'",
            cancellationToken).ConfigureAwait(false);
}
