using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Text;

namespace Funnel.Invoices;

/// <summary>Renders an invoice or credit note as a self-contained HTML receipt, every value HTML-escaped.</summary>
/// <remarks>
/// The receipt carries every field of the document (see <see cref="Invoice"/>): number, dates, seller and buyer, each
/// line's description, quantity, rate, net, tax and gross, the totals per rate, the total and the mentions. It uses
/// inline styles only, so it can be sent as the body of an email. Amounts print as <c>EUR 497.00</c> and dates as
/// ISO 8601, independent of the server's culture.
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class HtmlInvoiceRenderer : IInvoiceRenderer
{
    /// <inheritdoc/>
    public Task<RenderedInvoice> RenderAsync(Invoice invoice, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        byte[] bytes = Encoding.UTF8.GetBytes(Render(invoice));
        return Task.FromResult(new RenderedInvoice("text/html; charset=utf-8", invoice.DisplayNumber + ".html", ImmutableArray.Create(bytes)));
    }

    /// <summary>Returns the HTML receipt of a document.</summary>
    /// <param name="invoice">The issued invoice or credit note.</param>
    /// <returns>A complete HTML document.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="invoice"/> is <see langword="null"/>.</exception>
    public static string Render(Invoice invoice)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        string title = (invoice.Kind == InvoiceKind.CreditNote ? "Credit note " : "Invoice ") + invoice.DisplayNumber;
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title></head>\n")
            .Append("<body style=\"font-family:sans-serif;color:#222;max-width:720px;margin:auto\">\n")
            .Append("<h1>").Append(E(title)).Append("</h1>\n<p>Date of issue: ").Append(E(Date(invoice.IssueDate)))
            .Append("<br>Date of supply: ").Append(E(Date(invoice.SuppliedOn)));
        if (invoice.Corrects is { } original)
        {
            html.Append("<br>Credits invoice ").Append(E(original.DisplayNumber)).Append(" of ").Append(E(Date(original.IssueDate)));
        }

        html.Append("</p>\n<table style=\"width:100%\"><tr><td style=\"vertical-align:top\"><strong>Seller</strong><br>");
        Party(html, invoice.Seller);
        html.Append("</td><td style=\"vertical-align:top\"><strong>Buyer</strong><br>");
        Party(html, invoice.Buyer);
        html.Append("</td></tr></table>\n<table style=\"width:100%;border-collapse:collapse\">\n<tr>");
        foreach (string head in (ReadOnlySpan<string>)["#", "Description", "Qty", "VAT rate", "Net", "VAT", "Gross"])
        {
            html.Append("<th style=\"text-align:left;border-bottom:1px solid #999\">").Append(head).Append("</th>");
        }

        html.Append("</tr>\n");
        foreach (InvoiceLine line in invoice.Lines)
        {
            Row(html, line.Position.ToString(CultureInfo.InvariantCulture), line.Description,
                line.Quantity.ToString(CultureInfo.InvariantCulture), Rate(line.Rate), line.Net.ToString(), line.Tax.ToString(), line.Gross.ToString());
        }

        html.Append("</table>\n<h2>VAT summary</h2>\n<table style=\"border-collapse:collapse\">\n<tr><th style=\"text-align:left\">Rate</th>"
            + "<th style=\"text-align:left\">Net</th><th style=\"text-align:left\">VAT</th><th style=\"text-align:left\">Gross</th></tr>\n");
        foreach (InvoiceTaxTotal total in invoice.TaxTotals)
        {
            Row(html, Rate(total.Rate), total.Net.ToString(), total.Tax.ToString(), total.Gross.ToString());
        }

        html.Append("</table>\n<p>Total net: ").Append(E(invoice.Net.ToString()))
            .Append("<br>Total VAT: ").Append(E(invoice.Tax.ToString()))
            .Append("<br><strong>").Append(invoice.Kind == InvoiceKind.CreditNote ? "Total credited: " : "Total: ")
            .Append(E(invoice.Gross.ToString())).Append("</strong></p>\n");
        foreach (string note in invoice.Notes)
        {
            html.Append("<p>").Append(E(note)).Append("</p>\n");
        }

        return html.Append("</body></html>\n").ToString();
    }

    private static void Party(StringBuilder html, InvoiceParty party)
    {
        html.Append(E(party.Name));
        foreach (string line in party.Address)
        {
            html.Append("<br>").Append(E(line));
        }

        if (party.Country is { } country)
        {
            html.Append("<br>").Append(E(country));
        }

        if (party.VatNumber is { } vat)
        {
            html.Append("<br>VAT number: ").Append(E(vat));
        }

        if (party.Email is { } email)
        {
            html.Append("<br>").Append(E(email));
        }
    }

    private static void Row(StringBuilder html, params ReadOnlySpan<string> cells)
    {
        html.Append("<tr>");
        foreach (string cell in cells)
        {
            html.Append("<td style=\"padding:2px 8px 2px 0\">").Append(E(cell)).Append("</td>");
        }

        html.Append("</tr>\n");
    }

    private static string Rate(decimal rate) => rate.ToString("0.##", CultureInfo.InvariantCulture) + "%";

    private static string Date(NodaTime.LocalDate date) => date.ToString("uuuu-MM-dd", CultureInfo.InvariantCulture);

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
