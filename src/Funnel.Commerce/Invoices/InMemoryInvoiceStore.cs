using System.Collections.Immutable;

namespace Funnel.Invoices;

/// <summary>The in-memory <see cref="IInvoiceStore"/>.</summary>
/// <remarks>Numbers are given under one lock, so they are gapless within the process; they are lost when it stops.</remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class InMemoryInvoiceStore : IInvoiceStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Seller, string Key), Invoice> _byKey = [];
    private readonly Dictionary<(string Seller, string Series), long> _last = [];

    /// <inheritdoc/>
    public Task<Invoice> IssueAsync(Invoice draft, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        string seller = InvoiceKeys.Seller(draft);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_byKey.TryGetValue((seller, draft.IssueKey), out Invoice? issued))
            {
                return Task.FromResult(issued);
            }

            long number = _last.GetValueOrDefault((seller, draft.Series)) + 1;
            _last[(seller, draft.Series)] = number;
            Invoice stored = draft with { Number = number };
            _byKey.Add((seller, draft.IssueKey), stored);
            return Task.FromResult(stored);
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<Invoice>> ListForOrderAsync(string seller, OrderId order, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(seller);
        lock (_gate)
        {
            return Task.FromResult<ImmutableArray<Invoice>>([.. _byKey.Values
                .Where(i => i.Order == order && i.Seller.VatNumber == seller)
                .OrderBy(i => i.Kind)
                .ThenBy(i => i.Number)]);
        }
    }
}

/// <summary>The keys every <see cref="IInvoiceStore"/> files a document under.</summary>
internal static class InvoiceKeys
{
    /// <summary>Returns the seller's VAT number, which scopes numbering and idempotency.</summary>
    /// <exception cref="ArgumentException">The seller has no VAT number.</exception>
    public static string Seller(Invoice draft) =>
        string.IsNullOrWhiteSpace(draft.Seller.VatNumber)
            ? throw new ArgumentException($"Invoice {draft.IssueKey} has a seller without a VAT number; it scopes the numbering.", nameof(draft))
            : draft.Seller.VatNumber;
}
