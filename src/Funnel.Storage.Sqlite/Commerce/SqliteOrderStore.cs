using Funnel.Offers;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;

namespace Funnel.Storage.Sqlite.Commerce;

/// <summary>The SQLite <see cref="IOrderStore"/>: each order is a JSON document keyed by id, with its version in a column.</summary>
/// <remarks>
/// Insert-if-absent is <c>INSERT … ON CONFLICT (id) DO NOTHING</c> and replace-if-version is one <c>UPDATE … WHERE id
/// AND version</c>, each a single statement, so racing writers get exactly one winner. The version column is
/// authoritative: a read takes the order's <see cref="Order.Version"/> from it.
/// </remarks>
internal sealed class SqliteOrderStore(SqliteDatabase database) : IOrderStore
{
    private const string Select = "SELECT id, version, format, document FROM orders WHERE id = $id";

    private const string Insert =
        "INSERT INTO orders (id, lead_id, version, format, document) VALUES ($id, $lead, 0, $format, $document) ON CONFLICT (id) DO NOTHING";

    private const string Update =
        "UPDATE orders SET lead_id = $lead, version = $next, format = $format, document = $document WHERE id = $id AND version = $version";

    public Task<Order?> FindAsync(OrderId id, CancellationToken cancellationToken = default) =>
        database.ReadAsync(s => s.QueryFirst(Select, Map, ("$id", id.Value)), cancellationToken);

    public Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(order);
        string document = CommerceDocuments.Write(order with { Version = 0 });
        return database.WriteAsync(
            s => s.Execute(Insert, ("$id", order.Id.Value), ("$lead", order.Lead.Value), ("$format", CommerceDocuments.Format), ("$document", document)) == 1,
            cancellationToken);
    }

    public Task<bool> TryUpdateAsync(Order current, Order replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        long next = current.Version + 1;
        Order stored = replacement with { Id = current.Id, Version = next };
        string document = CommerceDocuments.Write(stored);
        return database.WriteAsync(
            s => s.Execute(
                Update,
                ("$id", current.Id.Value),
                ("$version", current.Version),
                ("$next", next),
                ("$lead", stored.Lead.Value),
                ("$format", CommerceDocuments.Format),
                ("$document", document)) == 1,
            cancellationToken);
    }

    private static Order Map(SqliteDataReader r) =>
        CommerceDocuments.Read<Order>(r.GetString(3), r.GetInt64(2), "Order", r.GetString(0)) with { Version = r.GetInt64(1) };
}
