using Funnel.Offers;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Commerce;

/// <summary>The PostgreSQL <see cref="IOrderStore"/>: each order is a jsonb document keyed by id, with its version in a column.</summary>
/// <remarks>
/// Insert-if-absent is <c>INSERT … ON CONFLICT (id) DO NOTHING</c> and replace-if-version one <c>UPDATE … WHERE id AND
/// version</c>: the row lock of the update makes racing saves of one version, from any number of instances, give exactly
/// one winner. The version column is authoritative: a read takes the order's <see cref="Order.Version"/> from it. The
/// document is the one Funnel.Storage.Sqlite writes (<see cref="CommerceDocuments"/>).
/// </remarks>
internal sealed class PgOrderStore : IOrderStore
{
    private readonly PgDatabase _database;
    private readonly string _select;
    private readonly string _insert;
    private readonly string _update;

    public PgOrderStore(PgDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
        string orders = database.Table("orders");
        _select = $"SELECT id, version, format, document FROM {orders} WHERE id = $1";
        _insert = $"INSERT INTO {orders} (id, lead_id, version, format, document) VALUES ($1, $2, 0, $3, $4::jsonb) ON CONFLICT (id) DO NOTHING";
        _update = $"UPDATE {orders} SET lead_id = $3, version = $2 + 1, format = $4, document = $5::jsonb WHERE id = $1 AND version = $2";
    }

    public Task<Order?> FindAsync(OrderId id, CancellationToken cancellationToken = default) =>
        _database.QueryFirstAsync(_select, [id.Value], Map, cancellationToken);

    public Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(order);
        string document = CommerceDocuments.Write(order with { Version = 0 });
        return _database.ExecuteAsync(_insert, [order.Id.Value, order.Lead.Value, CommerceDocuments.Format, document], cancellationToken);
    }

    public Task<bool> TryUpdateAsync(Order current, Order replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        Order stored = replacement with { Id = current.Id, Version = current.Version + 1 };
        string document = CommerceDocuments.Write(stored);
        return _database.ExecuteAsync(_update, [current.Id.Value, current.Version, stored.Lead.Value, CommerceDocuments.Format, document], cancellationToken);
    }

    private static Order Map(NpgsqlDataReader r) =>
        CommerceDocuments.Read<Order>(r.GetString(3), r.GetInt16(2), "Order", r.GetGuid(0).ToString()) with { Version = r.GetInt64(1) };
}
