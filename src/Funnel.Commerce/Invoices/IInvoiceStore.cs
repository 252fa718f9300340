using System.Collections.Immutable;

namespace Funnel.Invoices;

/// <summary>Stores invoices and credit notes and gives each the next number of its series, without gaps: replace the in-memory default with durable storage.</summary>
/// <remarks>
/// <para>
/// EU law requires "a sequential number, based on one or more series, which uniquely identifies the invoice"
/// (Article 226(2) of Council Directive 2006/112/EC); most member states read it as gapless. So a number is given
/// only in the same atomic operation that saves the document: <see cref="IssueAsync"/> takes the next number of the
/// seller's series and stores the document with it, or does neither. Numbers run 1, 2, 3… per seller
/// (<see cref="InvoiceParty.VatNumber"/> of <see cref="Invoice.Seller"/>) and <see cref="Invoice.Series"/>, with no
/// gap or repeat however many callers, threads or app instances issue at once.
/// </para>
/// <para>
/// Issuing is idempotent by <see cref="Invoice.IssueKey"/>: a second <see cref="IssueAsync"/> with a key the seller
/// already used takes no number and returns the stored document unchanged.
/// </para>
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IInvoiceStore
{
    /// <summary>Gives a draft the next number of its seller and series and saves it, or returns the document already issued with its key.</summary>
    /// <param name="draft">The document to issue; its <see cref="Invoice.Number"/> is ignored.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stored document with its number: the draft's, or the one issued earlier with the same <see cref="Invoice.IssueKey"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="draft"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The draft's seller has no VAT number.</exception>
    Task<Invoice> IssueAsync(Invoice draft, CancellationToken cancellationToken = default);

    /// <summary>Returns a seller's invoice and credit notes for an order: invoices first, each kind in number order.</summary>
    /// <param name="seller">The seller's VAT number, as on <see cref="Invoice.Seller"/>.</param>
    /// <param name="order">The order.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The documents; empty when none was issued.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="seller"/> is <see langword="null"/>.</exception>
    Task<ImmutableArray<Invoice>> ListForOrderAsync(string seller, OrderId order, CancellationToken cancellationToken = default);
}
