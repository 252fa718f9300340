using System.Collections.Immutable;
using System.Globalization;
using NodaTime;

namespace Funnel.Invoices;

/// <summary>Whether a document is an invoice or a credit note.</summary>
public enum InvoiceKind
{
    /// <summary>An invoice for a supply (Article 220 of Council Directive 2006/112/EC).</summary>
    Invoice = 0,

    /// <summary>A credit note: a document that amends an earlier invoice after a refund (Article 219 of the Directive).</summary>
    CreditNote = 1,
}

/// <summary>The seller or the buyer named on an invoice.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record InvoiceParty
{
    /// <summary>Gets the full name (a person's or a company's).</summary>
    public required string Name { get; init; }

    /// <summary>Gets the address lines, in print order.</summary>
    /// <value>Defaults to none (a consumer whose address the checkout did not collect).</value>
    public ImmutableArray<string> Address { get; init; } = [];

    /// <summary>Gets the ISO 3166-1 alpha-2 country, upper case, or <see langword="null"/> when unknown.</summary>
    public string? Country { get; init; }

    /// <summary>Gets the VAT identification number, with its country prefix, or <see langword="null"/> for a consumer.</summary>
    public string? VatNumber { get; init; }

    /// <summary>Gets the email address, or <see langword="null"/>.</summary>
    public string? Email { get; init; }
}

/// <summary>One line of an invoice or credit note: what was supplied, its tax rate and its exact amounts.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record InvoiceLine
{
    /// <summary>Gets the 1-based position of the line on the invoice; a credit note's line keeps the position of the invoice line it credits.</summary>
    public required int Position { get; init; }

    /// <summary>Gets the offer sold.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets the description printed on the line (the offer's name).</summary>
    public required string Description { get; init; }

    /// <summary>Gets the quantity.</summary>
    public required int Quantity { get; init; }

    /// <summary>Gets the tax rate applied, in percent; 0 for a reverse charge or a sale outside the scope of the tax.</summary>
    public required decimal Rate { get; init; }

    /// <summary>Gets the taxable amount, before tax.</summary>
    public required Money Net { get; init; }

    /// <summary>Gets the tax.</summary>
    public required Money Tax { get; init; }

    /// <summary>Gets the amount with tax: exactly <see cref="Net"/> + <see cref="Tax"/>.</summary>
    public required Money Gross { get; init; }

    /// <summary>Gets what the invoice must say about the line, such as the reverse-charge wording, or <see langword="null"/>.</summary>
    public string? Note { get; init; }
}

/// <summary>The totals of an invoice for one tax rate (Article 226(8) of Council Directive 2006/112/EC).</summary>
/// <param name="Rate">The rate, in percent.</param>
/// <param name="Net">The taxable amount at this rate.</param>
/// <param name="Tax">The tax at this rate.</param>
/// <param name="Gross">The amount with tax at this rate.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct InvoiceTaxTotal(decimal Rate, Money Net, Money Tax, Money Gross);

/// <summary>The number and date of the invoice a credit note amends.</summary>
/// <param name="Series">The invoice's series.</param>
/// <param name="Number">The invoice's number in its series.</param>
/// <param name="IssueDate">The invoice's date of issue.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct InvoiceReference(string Series, long Number, LocalDate IssueDate)
{
    /// <summary>Gets the number as printed, such as <c>INV-000042</c> (<see cref="Invoice.Format"/>).</summary>
    public string DisplayNumber => Invoice.Format(Series, Number);
}

/// <summary>An invoice issued for a paid order, or a credit note issued for a refund of it, with the fields EU law requires.</summary>
/// <remarks>
/// <para>
/// The fields follow Article 226 of Council Directive 2006/112/EC: the date of issue (<see cref="IssueDate"/>), a
/// sequential number that identifies the invoice uniquely (<see cref="Series"/> and <see cref="Number"/>), the seller's
/// VAT number, name and address (<see cref="Seller"/>), the buyer's name and, for a business, its VAT number
/// (<see cref="Buyer"/>), the date of supply (<see cref="SuppliedOn"/>), what was supplied and the taxable amount, rate
/// and tax per line (<see cref="Lines"/>), the totals per rate (<see cref="TaxTotals"/>) and the reverse-charge mention
/// (<see cref="Notes"/>). A credit note names the invoice it amends (<see cref="Corrects"/>, Article 219).
/// </para>
/// <para>
/// Amounts are exact <see cref="Money"/> and positive on both kinds: a credit note's amounts are what it credits.
/// <see cref="InvoiceService"/> builds invoices from orders and the <see cref="IInvoiceStore"/> gives each its number;
/// before that, <see cref="Number"/> is 0.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Invoice
{
    /// <summary>Gets whether this is an invoice or a credit note.</summary>
    public required InvoiceKind Kind { get; init; }

    /// <summary>Gets the numbering series, such as <c>INV</c> or <c>CN</c>; numbers run 1, 2, 3… per seller and series.</summary>
    public required string Series { get; init; }

    /// <summary>Gets the sequential number in the series, given by <see cref="IInvoiceStore.IssueAsync"/>.</summary>
    /// <value>0 until issued.</value>
    public long Number { get; init; }

    /// <summary>Gets the key that makes issuing idempotent: issuing a document with the same key for the same seller returns the first one.</summary>
    /// <remarks><c>order:{id}</c> for an order's invoice; <c>refund:{event id}</c> for a credit note.</remarks>
    public required string IssueKey { get; init; }

    /// <summary>Gets the order the document is for.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the buyer's lead id.</summary>
    public required LeadId Lead { get; init; }

    /// <summary>Gets the seller; its <see cref="InvoiceParty.VatNumber"/> scopes the numbering.</summary>
    public required InvoiceParty Seller { get; init; }

    /// <summary>Gets the buyer.</summary>
    public required InvoiceParty Buyer { get; init; }

    /// <summary>Gets when the document was issued.</summary>
    public required Instant IssuedAt { get; init; }

    /// <summary>Gets the date of issue, in the seller's time zone.</summary>
    public required LocalDate IssueDate { get; init; }

    /// <summary>Gets the date of the supply (the order's date), in the seller's time zone.</summary>
    public required LocalDate SuppliedOn { get; init; }

    /// <summary>Gets the currency of every amount.</summary>
    public required Currency Currency { get; init; }

    /// <summary>Gets the lines, in order.</summary>
    public required ImmutableArray<InvoiceLine> Lines { get; init; }

    /// <summary>Gets the totals per tax rate, in the order the rates first appear in <see cref="Lines"/>.</summary>
    public required ImmutableArray<InvoiceTaxTotal> TaxTotals { get; init; }

    /// <summary>Gets the sum of the lines' taxable amounts.</summary>
    public required Money Net { get; init; }

    /// <summary>Gets the sum of the lines' tax.</summary>
    public required Money Tax { get; init; }

    /// <summary>Gets the amount payable (or, for a credit note, credited): <see cref="Net"/> + <see cref="Tax"/>.</summary>
    public required Money Gross { get; init; }

    /// <summary>Gets whether the buyer accounts for the tax (reverse charge, Article 196 of the Directive).</summary>
    public bool ReverseCharge { get; init; }

    /// <summary>Gets the mentions the document must carry, such as the reverse-charge wording, each once.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableArray<string> Notes { get; init; } = [];

    /// <summary>Gets the invoice a credit note amends, or <see langword="null"/> for an invoice.</summary>
    public InvoiceReference? Corrects { get; init; }

    /// <summary>Gets the number as printed: the series, a dash and the number with at least six digits, such as <c>INV-000042</c>.</summary>
    public string DisplayNumber => Format(Series, Number);

    /// <summary>Returns the printed form of a number in a series.</summary>
    /// <param name="series">The series.</param>
    /// <param name="number">The number.</param>
    /// <returns><c>{series}-{number:D6}</c>.</returns>
    public static string Format(string series, long number) =>
        string.Create(CultureInfo.InvariantCulture, $"{series}-{number:D6}");
}
