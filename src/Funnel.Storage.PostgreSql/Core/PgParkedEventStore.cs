using Funnel.Pipeline;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.PostgreSql.Core;

/// <summary>The <see cref="IParkedEventStore"/> in table <c>parked_events</c>, by position and handler.</summary>
/// <threadsafety>Safe to call from many threads and app instances at once.</threadsafety>
internal sealed class PgParkedEventStore : IParkedEventStore
{
    private readonly PgDatabase _database;
    private readonly PgDocumentTable<ParkedEvent> _parked;
    private readonly string _list;
    private readonly string _delete;

    public PgParkedEventStore(PgDatabase database)
    {
        _database = database;
        _parked = new(
            database,
            "parked_events",
            [new("position", PrimaryKey, static p => p.Position), new("handler", PrimaryKey, static p => p.Handler)],
            new(static p => p.Version, static (p, v) => p with { Version = v }));
        _list = $"SELECT document, version FROM {_parked.Name} ORDER BY position, handler COLLATE \"C\" LIMIT @max";
        _delete = $"DELETE FROM {_parked.Name} WHERE position = @position AND handler = @handler AND version = @version";
    }

    public Task<bool> TryAddAsync(ParkedEvent parked, CancellationToken cancellationToken = default) =>
        _parked.TryAddAsync(parked, cancellationToken);

    public async Task<IReadOnlyList<ParkedEvent>> ListAsync(int max, CancellationToken cancellationToken = default) =>
        await _parked.ListAsync(_list, [], max, cancellationToken).ConfigureAwait(false);

    public Task<bool> TryRemoveAsync(ParkedEvent parked, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parked);
        return _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand delete = PgDocumentTable<ParkedEvent>.Command(
                    connection, _delete, [("position", parked.Position), ("handler", parked.Handler), ("version", parked.Version)]);
                return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
            },
            cancellationToken);
    }
}
