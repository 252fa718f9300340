using Funnel.Invoices;
using Funnel.Storage.Sqlite;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/invoices.md.</summary>
internal static class InvoiceSnippets
{
    public static void Register(IServiceCollection services)
    {
        // <snippet:invoices-register>
        services.AddFunnelTax(o => o.SellerCountry = "DE");
        services.AddFunnelInvoices(o =>
        {
            o.SellerName = "Ebook Masterclass GmbH";
            o.SellerAddress.Add("Unter den Linden 1");
            o.SellerAddress.Add("10117 Berlin");
            o.SellerCountry = "DE";
            o.SellerVatNumber = "DE136695976";   // checked offline at start-up; scopes the numbering
            o.Series = "INV";                    // the defaults: INV-000001, INV-000002, …
            o.CreditNoteSeries = "CN";           // CN-000001, … numbered apart from invoices
        });
        services.AddFunnelInvoicePdf();          // Funnel.Invoices.Pdf: IInvoiceRenderer renders PDF
        services.AddFunnelSqlite("Data Source=funnel.db");   // a durable, gapless IInvoiceStore
        // </snippet:invoices-register>
    }

    public static async Task DownloadAsync(IInvoiceStore store, IInvoiceRenderer renderer, OrderId order)
    {
        // <snippet:invoices-download>
        foreach (Invoice document in await store.ListForOrderAsync("DE136695976", order))
        {
            RenderedInvoice pdf = await renderer.RenderAsync(document);   // application/pdf, "INV-000001.pdf"
            string receipt = HtmlInvoiceRenderer.Render(document);        // the same document as an HTML receipt
            await File.WriteAllBytesAsync(pdf.FileName, [.. pdf.Content]);
        }
        // </snippet:invoices-download>
    }

    public static async Task ByHandAsync(InvoiceService invoices, OrderId order, Money refunded, string refundId)
    {
        // <snippet:invoices-by-hand>
        Invoice? invoice = await invoices.IssueInvoiceAsync(order);                      // null while unpaid
        Invoice? note = await invoices.IssueCreditNoteAsync(order, refunded, refundId);  // same refundId, same note
        // </snippet:invoices-by-hand>
    }
}
