using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Invoices;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tax;
using NodaTime;
using static Funnel.Tests.Tax.TaxTestKit;

namespace Funnel.Tests.Invoices;

public sealed class InvoiceServiceTests
{
    private static readonly Currency Usd = Currency.USD;

    [Fact]
    public async Task IssueInvoiceAsync_GermanConsumer_CarriesTheOrdersTaxLinesAndTotalsPerRate()
    {
        var kit = new InvoiceTestKit();
        Order order = await kit.BuyAsync(1, new BuyerTaxDetails { Evidence = In("DE") }, OfferPathCatalogue.Basic, EBook);

        Invoice invoice = (await kit.Invoices.IssueInvoiceAsync(order.Id)).ShouldNotBeNull();

        invoice.Kind.ShouldBe(InvoiceKind.Invoice);
        invoice.DisplayNumber.ShouldBe("INV-000001");
        invoice.Seller.VatNumber.ShouldBe("DE136695976");
        invoice.Seller.Address.ShouldBe(["Unter den Linden 1", "10117 Berlin"]);
        invoice.Buyer.Country.ShouldBe("DE");
        invoice.IssueDate.ShouldBe(new LocalDate(2026, 12, 5));
        invoice.Lines.Select(l => (l.Position, l.Description, l.Rate, l.Net.MinorUnits, l.Tax.MinorUnits, l.Gross.MinorUnits)).ShouldBe(
        [
            (1, "Basic Masterclass", 19m, 49_700L, 9_443L, 59_143L),
            (2, "The E-Book", 7m, 2_700L, 189L, 2_889L),
        ]);
        invoice.TaxTotals.ShouldBe(
        [
            new InvoiceTaxTotal(19m, new Money(49_700, Usd), new Money(9_443, Usd), new Money(59_143, Usd)),
            new InvoiceTaxTotal(7m, new Money(2_700, Usd), new Money(189, Usd), new Money(2_889, Usd)),
        ]);
        invoice.Gross.ShouldBe(order.Total);
        invoice.Tax.ShouldBe(order.Tax!.Tax);
        invoice.Notes.ShouldBeEmpty();
        invoice.ReverseCharge.ShouldBeFalse();
    }

    [Fact]
    public async Task IssueInvoiceAsync_ReverseChargedBusiness_NamesItsVatNumberAndCarriesTheMention()
    {
        var kit = new InvoiceTestKit();
        Order order = await kit.BuyAsync(2, new BuyerTaxDetails { Evidence = In("FR"), VatNumber = "FR40303265045" }, OfferPathCatalogue.Basic);

        Invoice invoice = (await kit.Invoices.IssueInvoiceAsync(order.Id)).ShouldNotBeNull();

        invoice.ReverseCharge.ShouldBeTrue();
        invoice.Buyer.VatNumber.ShouldBe("FR40303265045");
        invoice.Tax.ShouldBe(Money.Zero(Usd));
        invoice.Gross.ShouldBe(new Money(49_700, Usd));
        invoice.Notes.ShouldBe([VatCalculator.ReverseChargeNote]);
        invoice.TaxTotals.ShouldBe([new InvoiceTaxTotal(0m, new Money(49_700, Usd), Money.Zero(Usd), new Money(49_700, Usd))]);
    }

    [Fact]
    public async Task IssueInvoiceAsync_BuyerFieldsOnTheLead_NameAndAddressTheBuyer()
    {
        var kit = new InvoiceTestKit();
        await kit.Leads.TryAddAsync(new LeadProfile
        {
            Id = InvoiceTestKit.Lead(3),
            Email = EmailAddress.Parse("ada@example.com"),
            CreatedAt = At,
            CustomFields = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                [KeyValuePair.Create("name", "Ada Lovelace"), KeyValuePair.Create("address", "12 Rue de Rivoli\n75001 Paris")]),
        });
        Order order = await kit.BuyAsync(3, new BuyerTaxDetails { Evidence = In("FR") }, OfferPathCatalogue.Basic);

        Invoice invoice = (await kit.Invoices.IssueInvoiceAsync(order.Id)).ShouldNotBeNull();

        invoice.Buyer.Name.ShouldBe("Ada Lovelace");
        invoice.Buyer.Address.ShouldBe(["12 Rue de Rivoli", "75001 Paris"]);
        invoice.Buyer.Email.ShouldBe("ada@example.com");
    }

    [Fact]
    public async Task IssueInvoiceAsync_Twice_ReturnsTheSameInvoiceAndTheNextOrderGetsTheNextNumber()
    {
        var kit = new InvoiceTestKit();
        Order first = await kit.BuyAsync(4, new BuyerTaxDetails { Evidence = In("IE") }, OfferPathCatalogue.Basic);
        Order second = await kit.BuyAsync(5, new BuyerTaxDetails { Evidence = In("IE") }, EBook);

        Invoice once = (await kit.Invoices.IssueInvoiceAsync(first.Id))!;
        Invoice twice = (await kit.Invoices.IssueInvoiceAsync(first.Id))!;
        Invoice next = (await kit.Invoices.IssueInvoiceAsync(second.Id))!;

        twice.ShouldBe(once);
        once.Number.ShouldBe(1);
        next.Number.ShouldBe(2);
    }

    [Fact]
    public async Task IssueInvoiceAsync_UnpaidOrUnknownOrder_ReturnsNullAndTakesNoNumber()
    {
        var kit = new InvoiceTestKit();
        Checkout checkout = await kit.Service.StartCheckoutAsync(InvoiceTestKit.Lead(6),
            new Cart { Lines = [new CartLine(EBook)], Buyer = new BuyerTaxDetails { Evidence = In("DE") } }, DateTimeZone.Utc);
        Order unpaid = (await kit.Service.PlaceOrderAsync(checkout, "pm_1")).Order!;

        (await kit.Invoices.IssueInvoiceAsync(unpaid.Id)).ShouldBeNull();
        (await kit.Invoices.IssueInvoiceAsync(OrderId.New())).ShouldBeNull();

        Order paid = await kit.BuyAsync(7, new BuyerTaxDetails { Evidence = In("DE") }, EBook);
        (await kit.Invoices.IssueInvoiceAsync(paid.Id))!.Number.ShouldBe(1);
    }

    [Fact]
    public async Task IssueCreditNoteAsync_FullRefund_CreditsEveryLineAndReferencesTheInvoice()
    {
        var kit = new InvoiceTestKit();
        Order order = await kit.BuyAsync(8, new BuyerTaxDetails { Evidence = In("DE") }, OfferPathCatalogue.Basic, EBook);
        Invoice invoice = (await kit.Invoices.IssueInvoiceAsync(order.Id))!;

        Invoice note = (await kit.Invoices.IssueCreditNoteAsync(order.Id, order.Total, "re_1")).ShouldNotBeNull();

        note.Kind.ShouldBe(InvoiceKind.CreditNote);
        note.DisplayNumber.ShouldBe("CN-000001");
        note.Corrects.ShouldBe(new InvoiceReference("INV", 1, invoice.IssueDate));
        note.Lines.ShouldBe(invoice.Lines);
        note.TaxTotals.ShouldBe(invoice.TaxTotals);
        note.Gross.ShouldBe(order.Total);
    }

    [Fact]
    public async Task IssueCreditNoteAsync_SameRefundKey_ReturnsTheSameCreditNote()
    {
        var kit = new InvoiceTestKit();
        Order order = await kit.BuyAsync(9, new BuyerTaxDetails { Evidence = In("DE") }, OfferPathCatalogue.Basic);

        Invoice first = (await kit.Invoices.IssueCreditNoteAsync(order.Id, new Money(10_000, Usd), "re_1"))!;
        Invoice again = (await kit.Invoices.IssueCreditNoteAsync(order.Id, new Money(10_000, Usd), "re_1"))!;
        Invoice other = (await kit.Invoices.IssueCreditNoteAsync(order.Id, new Money(10_000, Usd), "re_2"))!;

        again.ShouldBe(first);
        (first.Number, other.Number).ShouldBe((1L, 2L));
        (await kit.Store.ListForOrderAsync("DE136695976", order.Id)).Select(i => i.DisplayNumber).ShouldBe(["INV-000001", "CN-000001", "CN-000002"]);
    }

    [Fact]
    public async Task IssueCreditNoteAsync_PartialRefund_SplitsTheTaxInProportion()
    {
        var kit = new InvoiceTestKit();
        Order order = await kit.BuyAsync(10, new BuyerTaxDetails { Evidence = In("DE") }, OfferPathCatalogue.Basic);

        Invoice note = (await kit.Invoices.IssueCreditNoteAsync(order.Id, new Money(11_900, Usd), "re_1"))!;

        note.Lines.Single().Net.ShouldBe(new Money(10_000, Usd));
        note.Lines.Single().Tax.ShouldBe(new Money(1_900, Usd));
    }

    [Fact]
    public async Task IssueCreditNoteAsync_MoreThanIsLeftToCredit_Throws()
    {
        var kit = new InvoiceTestKit();
        Order order = await kit.BuyAsync(11, new BuyerTaxDetails { Evidence = In("DE") }, EBook);
        await kit.Invoices.IssueCreditNoteAsync(order.Id, new Money(2_000, Usd), "re_1");

        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => kit.Invoices.IssueCreditNoteAsync(order.Id, new Money(900, Usd), "re_2"));
    }

    [Property(MaxTest = 40)]
    public Property IssueCreditNoteAsync_RefundsInAnyParts_CreditExactlyTheInvoicePerLine(PositiveInt seed, PositiveInt partsSeed)
    {
        var kit = new InvoiceTestKit();
        Order order = kit.BuyAsync(12, new BuyerTaxDetails { Evidence = In("DE") }, OfferPathCatalogue.Basic, EBook).GetAwaiter().GetResult();
        Invoice invoice = kit.Invoices.IssueInvoiceAsync(order.Id).GetAwaiter().GetResult()!;
        var random = new Random(seed.Get);
        int parts = 1 + (partsSeed.Get % 5);
        long left = order.Total.MinorUnits;
        var notes = new List<Invoice>();
        for (int i = 0; i < parts && left > 0; i++)
        {
            long amount = i == parts - 1 ? left : random.NextInt64(1, left + 1);
            notes.Add(kit.Invoices.IssueCreditNoteAsync(order.Id, new Money(amount, Usd), $"re_{i}").GetAwaiter().GetResult()!);
            left -= amount;
        }

        bool exact = invoice.Lines.All(line =>
        {
            InvoiceLine[] credited = [.. notes.SelectMany(n => n.Lines).Where(l => l.Position == line.Position)];
            return credited.Sum(l => l.Gross.MinorUnits) == line.Gross.MinorUnits
                && credited.Sum(l => l.Tax.MinorUnits) == line.Tax.MinorUnits
                && credited.All(l => l.Net + l.Tax == l.Gross && !l.Tax.IsNegative && !l.Net.IsNegative);
        });
        return (left == 0 && exact).Label($"parts {parts}, left {left}");
    }
}
