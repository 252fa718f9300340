using System.Text;
using Funnel.Invoices;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tax;
using static Funnel.Tests.Tax.TaxTestKit;

namespace Funnel.Tests.Invoices;

public sealed class HtmlInvoiceRendererTests
{
    [Fact]
    public async Task Render_Invoice_HoldsEveryFieldAndEscapesTheBuyersText()
    {
        var kit = new InvoiceTestKit();
        await kit.Leads.TryAddAsync(new LeadProfile
        {
            Id = InvoiceTestKit.Lead(1),
            Email = EmailAddress.Parse("ada@example.com"),
            CreatedAt = At,
            CustomFields = System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                [KeyValuePair.Create("name", "<script>alert('x')</script> & Co")]),
        });
        Order order = await kit.BuyAsync(1, new BuyerTaxDetails { Evidence = In("DE") }, OfferPathCatalogue.Basic, EBook);
        Invoice invoice = (await kit.Invoices.IssueInvoiceAsync(order.Id))!;

        string html = HtmlInvoiceRenderer.Render(invoice);

        html.ShouldContain("<title>Invoice INV-000001</title>");
        html.ShouldContain("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co");
        html.ShouldNotContain("<script>");
        html.ShouldContain("VAT number: DE136695976");
        html.ShouldContain("<td style=\"padding:2px 8px 2px 0\">Basic Masterclass</td>");
        html.ShouldContain("<td style=\"padding:2px 8px 2px 0\">19%</td><td style=\"padding:2px 8px 2px 0\">USD 497.00</td>"
            + "<td style=\"padding:2px 8px 2px 0\">USD 94.43</td><td style=\"padding:2px 8px 2px 0\">USD 591.43</td>");
        html.ShouldContain("Total: USD 620.32");
        RenderedInvoice rendered = await new HtmlInvoiceRenderer().RenderAsync(invoice);
        Encoding.UTF8.GetString([.. rendered.Content]).ShouldBe(html);
        rendered.FileName.ShouldBe("INV-000001.html");
    }

    [Fact]
    public async Task Render_CreditNote_NamesTheInvoiceItCredits()
    {
        var kit = new InvoiceTestKit();
        Order order = await kit.BuyAsync(2, new BuyerTaxDetails { Evidence = In("DE") }, EBook);
        Invoice note = (await kit.Invoices.IssueCreditNoteAsync(order.Id, order.Total, "re_1"))!;

        string html = HtmlInvoiceRenderer.Render(note);

        html.ShouldContain("Credit note CN-000001");
        html.ShouldContain("Credits invoice INV-000001 of 2026-12-05");
        html.ShouldContain("Total credited: USD 28.89");
    }
}
