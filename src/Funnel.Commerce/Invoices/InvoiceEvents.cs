using Funnel.Events;

namespace Funnel.Invoices;

/// <summary>The <see cref="FunnelEvent.EventType"/> names of the invoice events (Funnel.Commerce).</summary>
/// <remarks>These names are part of the stored format: they never change once released.</remarks>
/// <threadsafety>This type holds constants only.</threadsafety>
public static class InvoiceEventTypes
{
    /// <summary>An invoice or credit note was issued (<see cref="Funnel.Invoices.InvoiceIssued"/>).</summary>
    public const string InvoiceIssued = "invoice_issued";
}

/// <summary>An invoice or credit note was issued and numbered: the hook to send the receipt or file the PDF.</summary>
/// <remarks>
/// Recorded once per document by <see cref="InvoiceService"/>: its id is derived from the order and the document's
/// seller, series and number, so issuing the same document again (a redelivered payment, a later installment) records
/// nothing more. Read the document with <see cref="IInvoiceStore.ListForOrderAsync"/>.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(InvoiceEventTypes.InvoiceIssued)]
public sealed record InvoiceIssued : LeadEvent
{
    /// <summary>Gets the order the document is for.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets whether it is an invoice or a credit note.</summary>
    public required InvoiceKind Kind { get; init; }

    /// <summary>Gets the document's series.</summary>
    public required string Series { get; init; }

    /// <summary>Gets the document's number in its series.</summary>
    public required long Number { get; init; }

    /// <summary>Gets the document's total with tax (for a credit note, the amount credited).</summary>
    public required Money Amount { get; init; }

    /// <inheritdoc/>
    public override string EventType => InvoiceEventTypes.InvoiceIssued;
}
