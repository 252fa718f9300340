using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Invoices;

/// <summary>The <c>invoices</c> handler: issues an order's invoice when a payment is recorded and a credit note for each refund.</summary>
/// <remarks>
/// Idempotent by construction: the invoice is keyed by the order and each credit note by the <see cref="RefundIssued"/>
/// event id, so a redelivered event returns the document already issued and takes no number. An event for an order the
/// <see cref="Offers.IOrderStore"/> does not hold is skipped. A store failure throws, and the pipeline retries the event.
/// </remarks>
/// <param name="services">Resolves the <see cref="InvoiceService"/> on first use.</param>
internal sealed class InvoicesHandler(IServiceProvider services) : IFunnelHandler
{
    /// <summary>The name the handler is registered under.</summary>
    public const string Name = "invoices";

    /// <inheritdoc/>
    public async Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        switch (funnelEvent)
        {
            case PaymentSucceeded paid:
                await services.GetRequiredService<InvoiceService>().IssueInvoiceAsync(paid.Order, cancellationToken).ConfigureAwait(false);
                break;
            case RefundIssued refund:
                await services.GetRequiredService<InvoiceService>()
                    .IssueCreditNoteAsync(refund.Order, refund.Amount, refund.Id.ToString(), cancellationToken).ConfigureAwait(false);
                break;
        }
    }
}
