using System.Text.RegularExpressions;
using Funnel.Invoices;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Invoices.Pdf.Tests;

public sealed partial class PdfInvoiceRendererTests
{
    private static readonly Currency Eur = Currency.FromCode("EUR");

    [Fact]
    public async Task RenderAsync_Invoice_TextHoldsTheNumberLinesTaxAndTotals()
    {
        IInvoiceRenderer renderer = Renderer();

        RenderedInvoice pdf = await renderer.RenderAsync(Invoice());

        pdf.ContentType.ShouldBe("application/pdf");
        pdf.FileName.ShouldBe("INV-000042.pdf");
        string text = Squeeze(await PdfToText.ExtractAsync([.. pdf.Content]));
        text.ShouldContain("Invoice INV-000042");
        text.ShouldContain("Date of issue: 2026-12-05");
        text.ShouldContain("Ebook Masterclass GmbH");
        text.ShouldContain("VAT number: DE136695976");
        text.ShouldContain("Ada Lovelace");
        text.ShouldContain("1 Basic Masterclass 1 19% EUR 497.00 EUR 94.43 EUR 591.43");
        text.ShouldContain("2 The E-Book 1 7% EUR 27.00 EUR 1.89 EUR 28.89");
        text.ShouldContain("19% EUR 497.00 EUR 94.43 EUR 591.43");
        text.ShouldContain("7% EUR 27.00 EUR 1.89 EUR 28.89");
        text.ShouldContain("Total VAT: EUR 96.32");
        text.ShouldContain("Total: EUR 620.32");
    }

    [Fact]
    public async Task RenderAsync_ReverseChargedCreditNote_NamesTheInvoiceAndTheMention()
    {
        const string mention = "Reverse charge: VAT to be accounted for by the customer (Article 196, Council Directive 2006/112/EC).";
        Invoice invoice = Invoice();
        Invoice note = invoice with
        {
            Kind = InvoiceKind.CreditNote,
            Series = "CN",
            Number = 7,
            ReverseCharge = true,
            Notes = [mention],
            Corrects = new InvoiceReference("INV", 42, invoice.IssueDate),
        };

        string text = Squeeze(await PdfToText.ExtractAsync([.. (await Renderer().RenderAsync(note)).Content]));

        text.ShouldContain("Credit note CN-000007");
        text.ShouldContain("Credits invoice INV-000042 of 2026-12-05");
        text.ShouldContain("Total credited: EUR 620.32");
        text.ShouldContain(mention);
    }

    [Fact]
    public async Task RenderAsync_ManyLines_ContinuesOnMorePages()
    {
        Invoice invoice = Invoice();
        InvoiceLine line = invoice.Lines[1];
        Invoice many = invoice with { Lines = [.. Enumerable.Range(1, 120).Select(i => line with { Position = i, Description = $"Item {i}" })] };

        string text = Squeeze(await PdfToText.ExtractAsync([.. (await Renderer().RenderAsync(many)).Content]));

        text.ShouldContain("120 Item 120 1 7%");
        text.ShouldContain("Total: EUR 620.32");
    }

    [Fact]
    public async Task RenderAsync_NoteWiderThanThePage_WrapsItOntoMoreLines()
    {
        string note = string.Join(' ', Enumerable.Range(1, 60).Select(i => $"word{i}"));

        string text = await PdfToText.ExtractAsync([.. (await Renderer().RenderAsync(Invoice() with { Notes = [note] })).Content]);

        string[] lines = [.. text.Split('\n').Where(l => l.Contains("word", StringComparison.Ordinal)).Select(l => l.Trim())];
        lines.Length.ShouldBeGreaterThan(1);
        string.Join(' ', lines).ShouldBe(note);
    }

    [Fact]
    public void AddFunnelInvoicePdf_AfterAddFunnelInvoices_ReplacesTheHtmlRenderer()
    {
        using ServiceProvider services = new ServiceCollection()
            .AddFunnelInvoices(_ => { })
            .AddFunnelInvoicePdf()
            .AddFunnelInvoicePdf()
            .BuildServiceProvider();

        services.GetServices<IInvoiceRenderer>().Single().ShouldBeOfType<PdfInvoiceRenderer>();
    }

    private static IInvoiceRenderer Renderer() =>
        new ServiceCollection().AddFunnelInvoicePdf().BuildServiceProvider().GetRequiredService<IInvoiceRenderer>();

    /// <summary>Collapses the layout's runs of spaces, so assertions read the row's cells in order.</summary>
    private static string Squeeze(string text) => Spaces().Replace(text, " ");

    [GeneratedRegex("[ \t]+")]
    private static partial Regex Spaces();

    private static Invoice Invoice()
    {
        InvoiceLine basic = Line(1, "Basic Masterclass", 19m, 49_700, 9_443);
        InvoiceLine ebook = Line(2, "The E-Book", 7m, 2_700, 189);
        return new Invoice
        {
            Kind = InvoiceKind.Invoice,
            Series = "INV",
            Number = 42,
            IssueKey = "order:1",
            Order = OrderId.New(),
            Lead = LeadId.New(),
            Seller = new InvoiceParty
            {
                Name = "Ebook Masterclass GmbH", Address = ["Unter den Linden 1", "10117 Berlin"], Country = "DE", VatNumber = "DE136695976",
            },
            Buyer = new InvoiceParty { Name = "Ada Lovelace", Address = ["12 Rue de Rivoli", "75001 Paris"], Country = "FR", Email = "ada@example.com" },
            IssuedAt = Instant.FromUtc(2026, 12, 5, 10, 0),
            IssueDate = new LocalDate(2026, 12, 5),
            SuppliedOn = new LocalDate(2026, 12, 5),
            Currency = Eur,
            Lines = [basic, ebook],
            TaxTotals = [new InvoiceTaxTotal(19m, basic.Net, basic.Tax, basic.Gross), new InvoiceTaxTotal(7m, ebook.Net, ebook.Tax, ebook.Gross)],
            Net = new Money(52_400, Eur),
            Tax = new Money(9_632, Eur),
            Gross = new Money(62_032, Eur),
        };
    }

    private static InvoiceLine Line(int position, string description, decimal rate, long net, long tax) => new()
    {
        Position = position,
        Offer = "offer-" + position,
        Description = description,
        Quantity = 1,
        Rate = rate,
        Net = new Money(net, Eur),
        Tax = new Money(tax, Eur),
        Gross = new Money(net + tax, Eur),
    };
}
