using Funnel.Pipeline;
using Funnel.Storage.Sqlite.Internal;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.Sqlite.Core;

/// <summary>The <see cref="IParkedEventStore"/> in table <c>parked_events</c>, by position and handler.</summary>
/// <threadsafety>Safe to call from many threads at once.</threadsafety>
internal sealed class SqliteParkedEventStore(SqliteDatabase database) : IParkedEventStore
{
    private const string Delete =
        "DELETE FROM parked_events WHERE position = $position AND handler = $handler AND version = $version";

    private readonly SqliteDocumentTable<ParkedEvent> _parked = new(
        database,
        "parked_events",
        [new("position", PrimaryKey, static p => p.Position), new("handler", PrimaryKey, static p => p.Handler)],
        new(static p => p.Version, static (p, v) => p with { Version = v }));

    public Task<bool> TryAddAsync(ParkedEvent parked, CancellationToken cancellationToken = default) =>
        _parked.TryAddAsync(parked, cancellationToken);

    public async Task<IReadOnlyList<ParkedEvent>> ListAsync(int max, CancellationToken cancellationToken = default) =>
        await _parked.ListAsync(
            "SELECT document, version FROM parked_events ORDER BY position, handler LIMIT $max", [], max, cancellationToken)
            .ConfigureAwait(false);

    public Task<bool> TryRemoveAsync(ParkedEvent parked, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parked);
        return database.WriteAsync(
            s => s.Execute(
                Delete,
                ("$position", parked.Position),
                ("$handler", parked.Handler),
                ("$version", parked.Version)) == 1,
            cancellationToken);
    }
}
