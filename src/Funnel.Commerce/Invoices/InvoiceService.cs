using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Offers;
using Funnel.Tax;
using NodaTime;

namespace Funnel.Invoices;

/// <summary>Issues the invoice of a paid order and the credit note of each refund, numbered by the <see cref="IInvoiceStore"/>.</summary>
/// <remarks>
/// <para>
/// An invoice reuses the order's tax exactly: each <see cref="TaxLine"/> of <see cref="Order.Tax"/> becomes a line with
/// its rate, net, tax and gross, so the invoice totals what the buyer was charged (<see cref="Order.Total"/>) to the
/// minor unit. An order without tax (no <c>AddFunnelTax</c>) is invoiced at rate 0. One invoice covers the whole order,
/// installment plans included, and is issued once its first payment is recorded.
/// </para>
/// <para>
/// A credit note credits a refund (gross). A full refund credits every line exactly. A partial refund is spread over
/// the amounts not yet credited in proportion to their gross (largest remainder, <see cref="Money.Allocate(IReadOnlyList{long})"/>),
/// and each share's tax is the same fraction of the line's remaining tax, rounded half away from zero; the last refund
/// therefore always credits what is left, so an order's credit notes never add up to more, or less, than its invoice.
/// </para>
/// <para>
/// Both calls are idempotent: the invoice is keyed by the order, a credit note by the refund key the caller passes
/// (the pipeline uses the <c>refund_issued</c> event id). Each document is recorded once as an <see cref="InvoiceIssued"/>
/// event, the hook for sending the receipt. The <c>invoices</c> pipeline handler of
/// <c>AddFunnelInvoices</c> calls them, so a host writes no code to issue documents.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class InvoiceService
{
    private readonly IInvoiceStore _store;
    private readonly IOrderStore _orders;
    private readonly ILeadStore _leads;
    private readonly InvoiceOptions _options;
    private readonly IClock _clock;
    private readonly DateTimeZone _zone;
    private readonly IFunnelEventLog _log;
    private readonly Catalogue? _catalogue;
    private readonly InvoiceParty _seller;

    /// <summary>Creates the service.</summary>
    /// <param name="store">Numbers and keeps the documents.</param>
    /// <param name="orders">Reads the orders.</param>
    /// <param name="leads">Reads the buyer's email, name and address.</param>
    /// <param name="options">The seller and the series; validated.</param>
    /// <param name="clock">Gives the time of issue.</param>
    /// <param name="zone">The seller's time zone, for the dates printed.</param>
    /// <param name="log">Records an <see cref="InvoiceIssued"/> per document.</param>
    /// <param name="catalogue">Names the offers on the lines; without it a line shows the offer id.</param>
    /// <exception cref="ArgumentNullException">An argument other than <paramref name="catalogue"/> is <see langword="null"/>.</exception>
    public InvoiceService(IInvoiceStore store, IOrderStore orders, ILeadStore leads, InvoiceOptions options, IClock clock,
        DateTimeZone zone, IFunnelEventLog log, Catalogue? catalogue = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(orders);
        ArgumentNullException.ThrowIfNull(leads);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(zone);
        ArgumentNullException.ThrowIfNull(log);
        _log = log;
        _store = store;
        _orders = orders;
        _leads = leads;
        _options = options;
        _clock = clock;
        _zone = zone;
        _catalogue = catalogue;
        _seller = new InvoiceParty
        {
            Name = options.SellerName,
            Address = [.. options.SellerAddress],
            Country = options.SellerCountry,
            VatNumber = VatNumbers.Check(options.SellerVatNumber).Normalized ?? options.SellerVatNumber,
            Email = options.SellerEmail,
        };
    }

    /// <summary>Gets the seller printed on every document; its VAT number scopes the numbering.</summary>
    public InvoiceParty Seller => _seller;

    /// <summary>Issues the invoice of a paid order, or returns the one already issued.</summary>
    /// <param name="order">The order.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The invoice; <see langword="null"/> when the order is unknown or no payment is recorded on it.</returns>
    public async Task<Invoice?> IssueInvoiceAsync(OrderId order, CancellationToken cancellationToken = default)
    {
        Order? current = await _orders.FindAsync(order, cancellationToken).ConfigureAwait(false);
        if (current is null || current.Status == OrderStatus.AwaitingPayment)
        {
            return null;
        }

        // Each later installment is a payment too: its invoice is the one already issued, found without taking a number.
        ImmutableArray<Invoice> issued = await _store.ListForOrderAsync(_seller.VatNumber!, order, cancellationToken).ConfigureAwait(false);
        // Recording again is a no-op (the event id is the document's), and completes an issue whose event a crash lost.
        return issued.FirstOrDefault(i => i.Kind == InvoiceKind.Invoice) is { } existing
            ? await RecordAsync(existing, cancellationToken).ConfigureAwait(false)
            : await IssueInvoiceAsync(current, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Issues the credit note of a refund, or returns the one already issued for <paramref name="refundKey"/>.</summary>
    /// <remarks>Issues the order's invoice first when it has none yet, so the credit note always has one to amend.</remarks>
    /// <param name="order">The refunded order.</param>
    /// <param name="amount">The amount refunded, with tax.</param>
    /// <param name="refundKey">Identifies the refund, such as the <c>refund_issued</c> event id; the same key returns the same credit note.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The credit note; <see langword="null"/> when the order is unknown or unpaid.</returns>
    /// <exception cref="ArgumentException"><paramref name="refundKey"/> is empty, or <paramref name="amount"/> is in another currency than the invoice.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is not positive or exceeds what the invoice has left to credit.</exception>
    public async Task<Invoice?> IssueCreditNoteAsync(OrderId order, Money amount, string refundKey, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(refundKey);
        if (!amount.IsPositive)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, "A refund to credit must be positive.");
        }

        string key = "refund:" + refundKey;
        ImmutableArray<Invoice> issued = await _store.ListForOrderAsync(_seller.VatNumber!, order, cancellationToken).ConfigureAwait(false);
        if (issued.FirstOrDefault(i => i.IssueKey == key) is { } done)
        {
            return await RecordAsync(done, cancellationToken).ConfigureAwait(false);
        }

        Invoice? invoice = issued.FirstOrDefault(i => i.Kind == InvoiceKind.Invoice);
        if (invoice is null)
        {
            invoice = await IssueInvoiceAsync(order, cancellationToken).ConfigureAwait(false);
            if (invoice is null)
            {
                return null;
            }
        }

        Invoice draft = CreditNote(invoice, [.. issued.Where(i => i.Kind == InvoiceKind.CreditNote)], amount, key);
        return await RecordAsync(await _store.IssueAsync(draft, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
    }

    private async Task<Invoice> IssueInvoiceAsync(Order order, CancellationToken cancellationToken)
    {
        InvoiceParty buyer = await BuyerAsync(order, cancellationToken).ConfigureAwait(false);
        Instant now = _clock.GetCurrentInstant();
        Currency currency = order.Total.Currency;
        ImmutableArray<TaxLine> taxes = order.Tax is { } t && t.Lines.Length == order.Lines.Length ? t.Lines : [];
        var lines = ImmutableArray.CreateBuilder<InvoiceLine>(order.Lines.Length);
        for (int i = 0; i < order.Lines.Length; i++)
        {
            OrderLine line = order.Lines[i];
            TaxLine? tax = taxes.IsEmpty ? null : taxes[i];
            lines.Add(new InvoiceLine
            {
                Position = i + 1,
                Offer = line.Offer,
                Description = _catalogue?.FindOffer(line.Offer)?.Name ?? line.Offer.Value,
                Quantity = line.Quantity,
                Rate = tax?.Rate ?? 0m,
                Net = tax?.Net ?? line.Total,
                Tax = tax?.Tax ?? Money.Zero(currency),
                Gross = tax?.Gross ?? line.Total,
                Note = tax?.Note,
            });
        }

        Invoice draft = Document(InvoiceKind.Invoice, _options.Series, "order:" + order.Id.Value.ToString("N"), order.Id, order.Lead,
            buyer, now, order.PlacedAt.InZone(_zone).Date, currency, lines.MoveToImmutable(), order.Tax?.ReverseCharge ?? false, null);
        return await RecordAsync(await _store.IssueAsync(draft, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records the document's <see cref="InvoiceIssued"/>, with an id derived from the document, so it is recorded once.</summary>
    private async Task<Invoice> RecordAsync(Invoice issued, CancellationToken cancellationToken)
    {
        EventId id = EventId.Derive(new EventId(issued.Order.Value), $"{InvoiceEventTypes.InvoiceIssued}:{issued.Seller.VatNumber}:{issued.DisplayNumber}");
        await _log.AppendAsync(
            [new InvoiceIssued
            {
                Id = id, LeadId = issued.Lead, OccurredAt = issued.IssuedAt, Order = issued.Order, Kind = issued.Kind,
                Series = issued.Series, Number = issued.Number, Amount = issued.Gross,
            }],
            cancellationToken).ConfigureAwait(false);
        return issued;
    }

    private Invoice CreditNote(Invoice invoice, ImmutableArray<Invoice> earlier, Money amount, string key)
    {
        if (amount.Currency != invoice.Currency)
        {
            throw new ArgumentException($"The refund is in {amount.Currency}, invoice {invoice.DisplayNumber} in {invoice.Currency}.", nameof(amount));
        }

        // What each invoice line has left to credit after the earlier credit notes.
        long[] grossLeft = new long[invoice.Lines.Length];
        long[] taxLeft = new long[invoice.Lines.Length];
        for (int i = 0; i < invoice.Lines.Length; i++)
        {
            InvoiceLine line = invoice.Lines[i];
            grossLeft[i] = line.Gross.MinorUnits;
            taxLeft[i] = line.Tax.MinorUnits;
            foreach (InvoiceLine credited in earlier.SelectMany(c => c.Lines).Where(l => l.Position == line.Position))
            {
                grossLeft[i] -= credited.Gross.MinorUnits;
                taxLeft[i] -= credited.Tax.MinorUnits;
            }
        }

        long left = grossLeft.Sum();
        if (amount.MinorUnits > left)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount,
                $"Invoice {invoice.DisplayNumber} has {new Money(left, invoice.Currency)} left to credit; {amount} exceeds it.");
        }

        ImmutableArray<Money> shares = amount.Allocate(grossLeft);
        var lines = ImmutableArray.CreateBuilder<InvoiceLine>();
        for (int i = 0; i < invoice.Lines.Length; i++)
        {
            long gross = shares[i].MinorUnits;
            if (gross == 0)
            {
                continue;
            }

            long tax = gross == grossLeft[i] ? taxLeft[i] : Proportion(taxLeft[i], gross, grossLeft[i]);
            lines.Add(invoice.Lines[i] with
            {
                Net = new Money(gross - tax, invoice.Currency),
                Tax = new Money(tax, invoice.Currency),
                Gross = shares[i],
            });
        }

        return Document(InvoiceKind.CreditNote, _options.CreditNoteSeries, key, invoice.Order, invoice.Lead, invoice.Buyer,
            _clock.GetCurrentInstant(), invoice.SuppliedOn, invoice.Currency, lines.ToImmutable(), invoice.ReverseCharge,
            new InvoiceReference(invoice.Series, invoice.Number, invoice.IssueDate));
    }

    private Invoice Document(InvoiceKind kind, string series, string key, OrderId order, LeadId lead, InvoiceParty buyer, Instant now,
        LocalDate suppliedOn, Currency currency, ImmutableArray<InvoiceLine> lines, bool reverseCharge, InvoiceReference? corrects)
    {
        var totals = new List<InvoiceTaxTotal>();
        foreach (InvoiceLine line in lines)
        {
            int at = totals.FindIndex(t => t.Rate == line.Rate);
            if (at < 0)
            {
                totals.Add(new InvoiceTaxTotal(line.Rate, line.Net, line.Tax, line.Gross));
            }
            else
            {
                InvoiceTaxTotal t = totals[at];
                totals[at] = t with { Net = t.Net + line.Net, Tax = t.Tax + line.Tax, Gross = t.Gross + line.Gross };
            }
        }

        return new Invoice
        {
            Kind = kind,
            Series = series,
            IssueKey = key,
            Order = order,
            Lead = lead,
            Seller = _seller,
            Buyer = buyer,
            IssuedAt = now,
            IssueDate = now.InZone(_zone).Date,
            SuppliedOn = suppliedOn,
            Currency = currency,
            Lines = lines,
            TaxTotals = [.. totals],
            Net = Money.Sum(lines.Select(l => l.Net), currency),
            Tax = Money.Sum(lines.Select(l => l.Tax), currency),
            Gross = Money.Sum(lines.Select(l => l.Gross), currency),
            ReverseCharge = reverseCharge,
            Notes = [.. lines.Select(l => l.Note).OfType<string>().Distinct(StringComparer.Ordinal)],
            Corrects = corrects,
        };
    }

    private async Task<InvoiceParty> BuyerAsync(Order order, CancellationToken cancellationToken)
    {
        LeadProfile? lead = await _leads.FindAsync(order.Lead, cancellationToken).ConfigureAwait(false);
        string? email = lead is null || lead.ErasedAt is not null ? null : lead.Email.ToString();
        string? name = lead?.CustomFields.GetValueOrDefault(_options.BuyerNameField);
        string? address = lead?.CustomFields.GetValueOrDefault(_options.BuyerAddressField);
        return new InvoiceParty
        {
            Name = !string.IsNullOrWhiteSpace(name) ? name : email ?? order.Lead.ToString(),
            Address = address is null ? [] : [.. address.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            Country = order.Tax?.PlaceOfSupply.Country,
            VatNumber = order.Tax?.VatNumber,
            Email = email,
        };
    }

    /// <summary><c>value × part / whole</c>, rounded half away from zero; <paramref name="whole"/> is positive.</summary>
    private static long Proportion(long value, long part, long whole) => TaxMath.DivideRounded((Int128)value * part, whole);
}
