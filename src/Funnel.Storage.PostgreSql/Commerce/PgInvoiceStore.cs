using System.Collections.Immutable;
using Funnel.Invoices;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Commerce;

/// <summary>The PostgreSQL <see cref="IInvoiceStore"/>: each document is a jsonb document keyed by seller, series and number.</summary>
/// <remarks>
/// <para>
/// An issue first looks its key up (no lock: a repeated issue returns at once). Otherwise, in one transaction, it
/// increments the series' counter with <c>INSERT … ON CONFLICT DO UPDATE … RETURNING</c>, which holds the counter row's
/// lock until commit, looks the key up again (under READ COMMITTED the statement sees what the previous holder
/// committed) and inserts the document with the number. Issues of one series are thereby serialised across every
/// connection and instance, and a transaction that rolls back (the key was issued meanwhile, or a failure) gives its
/// number back with it: numbers have no gap and no repeat.
/// </para>
/// <para>
/// The same key racing in two series (which Funnel never does) meets the <c>(seller, issue_key)</c> unique index: the
/// loser rolls back and returns the winner's document. The document is the one Funnel.Storage.Sqlite writes
/// (<see cref="CommerceDocuments"/>).
/// </para>
/// </remarks>
internal sealed class PgInvoiceStore : IInvoiceStore
{
    private readonly PgDatabase _database;
    private readonly string _byKey;
    private readonly string _next;
    private readonly string _insert;
    private readonly string _forOrder;

    public PgInvoiceStore(PgDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
        string invoices = database.Table("invoices");
        string counters = database.Table("invoice_counters");
        _byKey = $"SELECT format, document, number FROM {invoices} WHERE seller = $1 AND issue_key = $2";
        _next = $"INSERT INTO {counters} AS c (seller, series, last_number) VALUES ($1, $2, 1) " +
            "ON CONFLICT (seller, series) DO UPDATE SET last_number = c.last_number + 1 RETURNING c.last_number";
        _insert = $"INSERT INTO {invoices} (seller, series, number, issue_key, order_id, kind, format, document) " +
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)";
        _forOrder = $"SELECT format, document, number FROM {invoices} WHERE seller = $1 AND order_id = $2 ORDER BY kind, number";
    }

    public async Task<Invoice> IssueAsync(Invoice draft, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        string seller = string.IsNullOrWhiteSpace(draft.Seller.VatNumber)
            ? throw new ArgumentException($"Invoice {draft.IssueKey} has a seller without a VAT number; it scopes the numbering.", nameof(draft))
            : draft.Seller.VatNumber;
        if (await _database.QueryFirstAsync(_byKey, [seller, draft.IssueKey], Map, cancellationToken).ConfigureAwait(false) is { } done)
        {
            return done;
        }

        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        long number;
        await using (NpgsqlCommand next = CommerceCommands.Create(connection, transaction, _next, [seller, draft.Series]))
        {
            number = (long)(await next.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }

        if ((await CommerceCommands.QueryAsync(connection, transaction, _byKey, [seller, draft.IssueKey], Map, cancellationToken).ConfigureAwait(false))
            is [var issued, ..])
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return issued;
        }

        Invoice stored = draft with { Number = number };
        try
        {
            await using NpgsqlCommand insert = CommerceCommands.Create(connection, transaction, _insert,
                [seller, draft.Series, number, draft.IssueKey, draft.Order.Value, (short)draft.Kind, (short)CommerceDocuments.Format, CommerceDocuments.Write(stored)]);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return stored;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return await _database.QueryFirstAsync(_byKey, [seller, draft.IssueKey], Map, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Invoice key {draft.IssueKey} of {seller} conflicted but is not stored.", e);
        }
    }

    public Task<ImmutableArray<Invoice>> ListForOrderAsync(string seller, OrderId order, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(seller);
        return _database.QueryAsync(_forOrder, [seller, order.Value], Map, cancellationToken);
    }

    private static Invoice Map(NpgsqlDataReader r) =>
        CommerceDocuments.Read<Invoice>(r.GetString(1), r.GetInt16(0), "Invoice", r.GetInt64(2).ToString(System.Globalization.CultureInfo.InvariantCulture))
            with { Number = r.GetInt64(2) };
}
