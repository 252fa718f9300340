using Funnel.Pipeline;
using Funnel.Storage.PostgreSql.Internal;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.PostgreSql.Core;

/// <summary>The <see cref="IEventSubscriptionStore"/> in table <c>event_subscriptions</c>, by handler (or partition) name.</summary>
/// <remarks>
/// The whole record, lease owner and lease end included, is the document; compare-and-set on <c>version</c> keeps two
/// instances from both moving a position (or taking a lease) from the same version.
/// </remarks>
/// <threadsafety>Safe to call from many threads and app instances at once.</threadsafety>
internal sealed class PgEventSubscriptionStore : IEventSubscriptionStore
{
    private readonly PgDocumentTable<EventSubscription> _subscriptions;
    private readonly string _list;

    public PgEventSubscriptionStore(PgDatabase database)
    {
        _subscriptions = new(
            database,
            "event_subscriptions",
            [new("name", PrimaryKey, static s => s.Name)],
            new(static s => s.Version, static (s, v) => s with { Version = v }));
        _list = $"SELECT document, version FROM {_subscriptions.Name} ORDER BY name COLLATE \"C\" LIMIT @max";
    }

    public Task<EventSubscription?> FindAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _subscriptions.FindAsync([name], cancellationToken);
    }

    public Task<bool> TryAddAsync(EventSubscription subscription, CancellationToken cancellationToken = default) =>
        _subscriptions.TryAddAsync(subscription, cancellationToken);

    /// <exception cref="ArgumentException">The replacement has another name (a subscription cannot be renamed).</exception>
    public Task<bool> TryUpdateAsync(EventSubscription current, EventSubscription replacement, CancellationToken cancellationToken = default) =>
        _subscriptions.TryUpdateAsync(current, replacement, cancellationToken);

    public async Task<IReadOnlyList<EventSubscription>> ListAsync(CancellationToken cancellationToken = default) =>
        await _subscriptions.ListAsync(_list, [], int.MaxValue, cancellationToken).ConfigureAwait(false);
}
