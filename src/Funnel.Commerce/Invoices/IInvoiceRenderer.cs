using System.Collections.Immutable;

namespace Funnel.Invoices;

/// <summary>Renders an invoice or credit note as a document to send or download: the seam to a PDF (or other) renderer.</summary>
/// <remarks>
/// Funnel.Commerce registers the <see cref="HtmlInvoiceRenderer"/>; the Funnel.Invoices.Pdf package replaces it with a
/// PDF renderer (<c>AddFunnelInvoicePdf()</c>). The HTML receipt stays available as <see cref="HtmlInvoiceRenderer"/>.
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IInvoiceRenderer
{
    /// <summary>Renders a document.</summary>
    /// <param name="invoice">The issued invoice or credit note.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The rendered file.</returns>
    Task<RenderedInvoice> RenderAsync(Invoice invoice, CancellationToken cancellationToken = default);
}

/// <summary>A rendered invoice: its bytes, media type and a file name.</summary>
/// <param name="ContentType">The media type, such as <c>application/pdf</c>.</param>
/// <param name="FileName">A file name for an attachment or download, such as <c>INV-000042.pdf</c>.</param>
/// <param name="Content">The bytes.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record RenderedInvoice(string ContentType, string FileName, ImmutableArray<byte> Content);
