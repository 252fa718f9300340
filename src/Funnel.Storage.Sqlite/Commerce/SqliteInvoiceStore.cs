using System.Collections.Immutable;
using Funnel.Invoices;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;

namespace Funnel.Storage.Sqlite.Commerce;

/// <summary>The SQLite <see cref="IInvoiceStore"/>: each document is a JSON document keyed by seller, series and number.</summary>
/// <remarks>
/// An issue is one write: it looks the key up, and when it is new increments the series' counter
/// (<c>INSERT … ON CONFLICT DO UPDATE … RETURNING</c>) and inserts the document with that number. SQLite has one writer,
/// so two issues never interleave, and a failed write rolls the counter back with the document: numbers have no gap.
/// </remarks>
internal sealed class SqliteInvoiceStore(SqliteDatabase database) : IInvoiceStore
{
    private const string ByKey = "SELECT format, document, number FROM invoices WHERE seller = $seller AND issue_key = $key";

    private const string Next =
        "INSERT INTO invoice_counters (seller, series, last_number) VALUES ($seller, $series, 1) " +
        "ON CONFLICT (seller, series) DO UPDATE SET last_number = last_number + 1 RETURNING last_number";

    private const string Insert =
        "INSERT INTO invoices (seller, series, number, issue_key, order_id, kind, format, document) " +
        "VALUES ($seller, $series, $number, $key, $order, $kind, $format, $document)";

    private const string ForOrder =
        "SELECT format, document, number FROM invoices WHERE seller = $seller AND order_id = $order ORDER BY kind, number";

    public Task<Invoice> IssueAsync(Invoice draft, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        string seller = string.IsNullOrWhiteSpace(draft.Seller.VatNumber)
            ? throw new ArgumentException($"Invoice {draft.IssueKey} has a seller without a VAT number; it scopes the numbering.", nameof(draft))
            : draft.Seller.VatNumber;
        return database.WriteAsync(
            s =>
            {
                if (s.QueryFirst(ByKey, Map, ("$seller", seller), ("$key", draft.IssueKey)) is { } issued)
                {
                    return issued;
                }

                long number = (long)s.Scalar(Next, ("$seller", seller), ("$series", draft.Series))!;
                Invoice stored = draft with { Number = number };
                s.Execute(
                    Insert,
                    ("$seller", seller),
                    ("$series", draft.Series),
                    ("$number", number),
                    ("$key", draft.IssueKey),
                    ("$order", draft.Order.Value),
                    ("$kind", (int)draft.Kind),
                    ("$format", CommerceDocuments.Format),
                    ("$document", CommerceDocuments.Write(stored)));
                return stored;
            },
            cancellationToken);
    }

    public async Task<ImmutableArray<Invoice>> ListForOrderAsync(string seller, OrderId order, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(seller);
        List<Invoice> found = await database.ReadAsync(s => s.Query(ForOrder, Map, ("$seller", seller), ("$order", order.Value)), cancellationToken)
            .ConfigureAwait(false);
        return [.. found];
    }

    private static Invoice Map(SqliteDataReader r) =>
        CommerceDocuments.Read<Invoice>(r.GetString(1), r.GetInt64(0), "Invoice", r.GetInt64(2).ToString(System.Globalization.CultureInfo.InvariantCulture))
            with { Number = r.GetInt64(2) };
}
