using System.Collections.Immutable;
using System.Text.Json;
using Funnel.Invoices;
using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IInvoiceStore"/>: subclass it with a <see cref="CreateStore"/> of your store.</summary>
/// <remarks>Numbers are gapless per seller and series (Article 226(2) of Council Directive 2006/112/EC) under any concurrency, and issuing is idempotent by key.</remarks>
public abstract class InvoiceStoreSpecificationTests
{
    /// <summary>How many issues race in the gapless-numbering test.</summary>
    public const int ConcurrentIssues = 200;

    private const string Seller = "DE136695976";
    private static readonly Instant At = Instant.FromUtc(2026, 12, 5, 10, 0);
    private static readonly Currency Eur = Currency.FromCode("EUR");

    /// <summary>Returns a new, empty store.</summary>
    protected abstract IInvoiceStore CreateStore();

    [Fact]
    public async Task IssueAsync_FirstDocument_GetsNumberOneAndReadsBackUnchanged()
    {
        IInvoiceStore store = CreateStore();
        Invoice draft = Draft("order:1", OrderId.New()) with { Number = 99 };

        Invoice issued = await store.IssueAsync(draft);

        issued.Number.ShouldBe(1);
        Json(issued).ShouldBe(Json(draft with { Number = 1 }));
        ImmutableArray<Invoice> listed = await store.ListForOrderAsync(Seller, draft.Order);
        listed.Select(Json).ShouldBe([Json(issued)]);
    }

    [Fact]
    public async Task IssueAsync_SameKeyTwice_ReturnsTheFirstAndTakesNoNumber()
    {
        IInvoiceStore store = CreateStore();
        var order = OrderId.New();
        Invoice first = await store.IssueAsync(Draft("order:a", order));

        Invoice again = await store.IssueAsync(Draft("order:a", order) with { IssuedAt = At + Duration.FromDays(1) });
        Invoice next = await store.IssueAsync(Draft("order:b", OrderId.New()));

        Json(again).ShouldBe(Json(first));
        next.Number.ShouldBe(2);
        (await store.ListForOrderAsync(Seller, order)).Length.ShouldBe(1);
    }

    [Fact]
    public async Task IssueAsync_OtherSeriesAndSellers_AreNumberedOnTheirOwn()
    {
        IInvoiceStore store = CreateStore();
        var order = OrderId.New();

        Invoice invoice = await store.IssueAsync(Draft("order:x", order));
        Invoice note = await store.IssueAsync(Draft("refund:1", order, InvoiceKind.CreditNote, "CN"));
        Invoice secondInvoice = await store.IssueAsync(Draft("order:y", OrderId.New()));
        Invoice otherSeller = await store.IssueAsync(Draft("order:x", order) with { Seller = Party("FR40303265045") });

        (invoice.Number, note.Number, secondInvoice.Number, otherSeller.Number).ShouldBe((1L, 1L, 2L, 1L));
    }

    [Fact]
    public async Task IssueAsync_ConcurrentIssues_NumbersOneToNWithNoGapOrRepeat()
    {
        IInvoiceStore store = CreateStore();

        Invoice[] issued = await Race.RunAsync(ConcurrentIssues, i => store.IssueAsync(Draft($"order:{i}", OrderId.New())));

        issued.Select(i => i.Number).Order().ShouldBe(Enumerable.Range(1, ConcurrentIssues).Select(n => (long)n));
        issued.Select(i => i.IssueKey).Distinct().Count().ShouldBe(ConcurrentIssues);
    }

    [Fact]
    public async Task IssueAsync_ConcurrentIssuesOfOneKey_IssueOneDocument()
    {
        IInvoiceStore store = CreateStore();
        var order = OrderId.New();

        Invoice[] issued = await Race.RunAsync(Race.Contenders, _ => store.IssueAsync(Draft("order:same", order)));

        issued.Select(i => i.Number).Distinct().ShouldBe([1L]);
        (await store.IssueAsync(Draft("order:other", OrderId.New()))).Number.ShouldBe(2);
        (await store.ListForOrderAsync(Seller, order)).Length.ShouldBe(1);
    }

    [Fact]
    public async Task ListForOrderAsync_InvoicesFirstThenCreditNotesInNumberOrder_OnlyTheSellers()
    {
        IInvoiceStore store = CreateStore();
        var order = OrderId.New();
        await store.IssueAsync(Draft("order:other", OrderId.New()));
        await store.IssueAsync(Draft("refund:2", order, InvoiceKind.CreditNote, "CN"));
        await store.IssueAsync(Draft("order:o", order));
        await store.IssueAsync(Draft("refund:3", order, InvoiceKind.CreditNote, "CN"));
        await store.IssueAsync(Draft("order:o", order) with { Seller = Party("FR40303265045") });

        ImmutableArray<Invoice> listed = await store.ListForOrderAsync(Seller, order);

        listed.Select(i => i.DisplayNumber).ShouldBe(["INV-000002", "CN-000001", "CN-000002"]);
        (await store.ListForOrderAsync(Seller, OrderId.New())).ShouldBeEmpty();
    }

    [Fact]
    public async Task IssueAsync_SellerWithoutVatNumber_Throws()
    {
        IInvoiceStore store = CreateStore();

        await Should.ThrowAsync<ArgumentException>(() => store.IssueAsync(Draft("order:1", OrderId.New()) with { Seller = Party(null) }));
    }

    private static string Json(Invoice invoice) => JsonSerializer.Serialize(invoice, FunnelJson.Options);

    private static InvoiceParty Party(string? vat) =>
        new() { Name = "Ebook Masterclass GmbH", Address = ["Unter den Linden 1", "10117 Berlin"], Country = "DE", VatNumber = vat };

    private static Invoice Draft(string key, OrderId order, InvoiceKind kind = InvoiceKind.Invoice, string series = "INV")
    {
        var line = new InvoiceLine
        {
            Position = 1,
            Offer = "masterclass-basic",
            Description = "Basic Masterclass",
            Quantity = 1,
            Rate = 19m,
            Net = new Money(49_700, Eur),
            Tax = new Money(9_443, Eur),
            Gross = new Money(59_143, Eur),
        };
        return new Invoice
        {
            Kind = kind,
            Series = series,
            IssueKey = key,
            Order = order,
            Lead = new LeadId(new Guid(18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)),
            Seller = Party(Seller),
            Buyer = new InvoiceParty { Name = "Ada Lovelace", Country = "DE", Email = "ada@example.com" },
            IssuedAt = At,
            IssueDate = new LocalDate(2026, 12, 5),
            SuppliedOn = new LocalDate(2026, 12, 4),
            Currency = Eur,
            Lines = [line],
            TaxTotals = [new InvoiceTaxTotal(19m, line.Net, line.Tax, line.Gross)],
            Net = line.Net,
            Tax = line.Tax,
            Gross = line.Gross,
            Notes = kind == InvoiceKind.CreditNote ? ["Refund"] : [],
            Corrects = kind == InvoiceKind.CreditNote ? new InvoiceReference("INV", 1, new LocalDate(2026, 12, 5)) : null,
        };
    }
}
