using System.Collections.Immutable;
using System.Globalization;
using PdfSharp.Drawing;
using PdfSharp.Pdf;

namespace Funnel.Invoices.Pdf;

/// <summary>Renders an invoice or credit note as an A4 PDF with PDFsharp.</summary>
/// <remarks>
/// The PDF carries every field of the document: the title and number, the dates of issue and supply, the invoice a
/// credit note amends, seller and buyer with their VAT numbers, one row per line (description, quantity, rate, net, tax,
/// gross), the totals per rate, the total and the mentions such as the reverse charge. Text is set in the embedded
/// DejaVu Sans, so it renders on machines without fonts and can be extracted (copied, searched, read by
/// <c>pdftotext</c>). Lines that do not fit continue on a new page.
/// </remarks>
/// <threadsafety>All members are thread-safe: each call builds its own document.</threadsafety>
internal sealed class PdfInvoiceRenderer : IInvoiceRenderer
{
    private const double Margin = 50;
    private const double Line = 14;
    private static readonly double[] Columns = [0, 24, 250, 285, 335, 400, 450];

    public Task<RenderedInvoice> RenderAsync(Invoice invoice, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        cancellationToken.ThrowIfCancellationRequested();
        EmbeddedFontResolver.Install();
        using var document = new PdfDocument();
        string title = (invoice.Kind == InvoiceKind.CreditNote ? "Credit note " : "Invoice ") + invoice.DisplayNumber;
        document.Info.Title = title;
        document.Info.Author = invoice.Seller.Name;
        var page = new Writer(document);

        page.Text(title, 18, bold: true);
        page.Gap(6);
        page.Text("Date of issue: " + Date(invoice.IssueDate));
        page.Text("Date of supply: " + Date(invoice.SuppliedOn));
        if (invoice.Corrects is { } original)
        {
            page.Text($"Credits invoice {original.DisplayNumber} of {Date(original.IssueDate)}");
        }

        page.Gap(10);
        page.Parties(invoice.Seller, invoice.Buyer);
        page.Gap(10);
        page.Row(["#", "Description", "Qty", "VAT rate", "Net", "VAT", "Gross"], bold: true);
        foreach (InvoiceLine line in invoice.Lines)
        {
            page.Row([line.Position.ToString(CultureInfo.InvariantCulture), line.Description, line.Quantity.ToString(CultureInfo.InvariantCulture),
                Rate(line.Rate), Amount(line.Net), Amount(line.Tax), Amount(line.Gross)]);
        }

        page.Gap(10);
        page.Text("VAT summary", 11, bold: true);
        page.Row(["", "Rate", "", "", "Net", "VAT", "Gross"], bold: true);
        foreach (InvoiceTaxTotal total in invoice.TaxTotals)
        {
            page.Row(["", Rate(total.Rate), "", "", Amount(total.Net), Amount(total.Tax), Amount(total.Gross)]);
        }

        page.Gap(10);
        page.Text("Total net: " + invoice.Net);
        page.Text("Total VAT: " + invoice.Tax);
        page.Text((invoice.Kind == InvoiceKind.CreditNote ? "Total credited: " : "Total: ") + invoice.Gross, 12, bold: true);
        page.Gap(6);
        foreach (string note in invoice.Notes)
        {
            page.Text(note);
        }

        page.Dispose();
        using var output = new MemoryStream();
        document.Save(output, closeStream: false);
        return Task.FromResult(new RenderedInvoice("application/pdf", invoice.DisplayNumber + ".pdf", ImmutableArray.Create(output.ToArray())));
    }

    private static string Date(NodaTime.LocalDate date) => date.ToString("uuuu-MM-dd", CultureInfo.InvariantCulture);

    private static string Rate(decimal rate) => rate.ToString("0.##", CultureInfo.InvariantCulture) + "%";

    private static string Amount(Money money) => money.ToString();

    /// <summary>Draws text top to bottom, starting a new page when the current one is full.</summary>
    private sealed class Writer(PdfDocument document) : IDisposable
    {
        private PdfPage? _page;
        private XGraphics? _graphics;
        private double _y;

        private XGraphics Graphics => _graphics ?? NewPage();

        /// <summary>Draws a paragraph, wrapped at spaces to the width between the margins.</summary>
        public void Text(string text, double size = 9, bool bold = false)
        {
            XFont font = Font(size, bold);
            string line = string.Empty;
            foreach (string word in text.Split(' '))
            {
                string longer = line.Length == 0 ? word : line + " " + word;
                if (line.Length > 0 && Graphics.MeasureString(longer, font).Width > _page!.Width.Point - (2 * Margin))
                {
                    Draw(line, font, size);
                    longer = word;
                }

                line = longer;
            }

            Draw(line, font, size);
        }

        private void Draw(string line, XFont font, double size)
        {
            Ensure(size + 5);
            Graphics.DrawString(line, font, XBrushes.Black, new XPoint(Margin, _y + size));
            _y += size + 5;
        }

        public void Gap(double height) => _y += height;

        public void Row(string[] cells, bool bold = false)
        {
            Ensure(Line);
            XFont font = Font(8, bold);
            for (int i = 0; i < cells.Length; i++)
            {
                double width = (i + 1 < Columns.Length ? Columns[i + 1] : Columns[i] + 95) - Columns[i] - 4;
                Graphics.DrawString(Fit(cells[i], font, width), font, XBrushes.Black, new XPoint(Margin + Columns[i], _y + 8));
            }

            _y += Line;
        }

        public void Parties(Funnel.Invoices.InvoiceParty seller, Funnel.Invoices.InvoiceParty buyer)
        {
            string[] left = ["Seller", .. Lines(seller)];
            string[] right = ["Buyer", .. Lines(buyer)];
            Ensure(Line * Math.Max(left.Length, right.Length));
            for (int i = 0; i < Math.Max(left.Length, right.Length); i++)
            {
                XFont font = Font(9, i == 0);
                if (i < left.Length)
                {
                    Graphics.DrawString(left[i], font, XBrushes.Black, new XPoint(Margin, _y + 9));
                }

                if (i < right.Length)
                {
                    Graphics.DrawString(right[i], font, XBrushes.Black, new XPoint(Margin + 260, _y + 9));
                }

                _y += Line;
            }
        }

        public void Dispose() => _graphics?.Dispose();

        private static IEnumerable<string> Lines(Funnel.Invoices.InvoiceParty party)
        {
            yield return party.Name;
            foreach (string line in party.Address)
            {
                yield return line;
            }

            if (party.Country is { } country)
            {
                yield return country;
            }

            if (party.VatNumber is { } vat)
            {
                yield return "VAT number: " + vat;
            }

            if (party.Email is { } email)
            {
                yield return email;
            }
        }

        private static XFont Font(double size, bool bold) =>
            new(EmbeddedFontResolver.Family, size, bold ? XFontStyleEx.Bold : XFontStyleEx.Regular);

        /// <summary>Shortens text that is wider than its column, ending it with an ellipsis.</summary>
        private string Fit(string text, XFont font, double width)
        {
            if (Graphics.MeasureString(text, font).Width <= width)
            {
                return text;
            }

            string cut = text;
            while (cut.Length > 1 && Graphics.MeasureString(cut + "…", font).Width > width)
            {
                cut = cut[..^1];
            }

            return cut + "…";
        }

        private void Ensure(double height)
        {
            if (_graphics is null || _y + height > _page!.Height.Point - Margin)
            {
                NewPage();
            }
        }

        private XGraphics NewPage()
        {
            _graphics?.Dispose();
            _page = document.AddPage();
            _page.Size = PdfSharp.PageSize.A4;
            _graphics = XGraphics.FromPdfPage(_page);
            _y = Margin;
            return _graphics;
        }
    }
}
