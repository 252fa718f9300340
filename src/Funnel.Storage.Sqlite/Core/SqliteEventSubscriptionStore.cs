using Funnel.Pipeline;
using Funnel.Storage.Sqlite.Internal;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.Sqlite.Core;

/// <summary>The <see cref="IEventSubscriptionStore"/> in table <c>event_subscriptions</c>, by handler name.</summary>
/// <threadsafety>Safe to call from many threads at once.</threadsafety>
internal sealed class SqliteEventSubscriptionStore(SqliteDatabase database) : IEventSubscriptionStore
{
    private readonly SqliteDocumentTable<EventSubscription> _subscriptions = new(
        database,
        "event_subscriptions",
        [new("name", PrimaryKey, static s => s.Name)],
        new(static s => s.Version, static (s, v) => s with { Version = v }));

    public Task<EventSubscription?> FindAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _subscriptions.FindAsync([name], cancellationToken);
    }

    public Task<bool> TryAddAsync(EventSubscription subscription, CancellationToken cancellationToken = default) =>
        _subscriptions.TryAddAsync(subscription, cancellationToken);

    /// <exception cref="ArgumentException">The replacement has another name (a subscription cannot be renamed).</exception>
    public Task<bool> TryUpdateAsync(
        EventSubscription current, EventSubscription replacement, CancellationToken cancellationToken = default) =>
        _subscriptions.TryUpdateAsync(current, replacement, cancellationToken);

    public async Task<IReadOnlyList<EventSubscription>> ListAsync(CancellationToken cancellationToken = default) =>
        await _subscriptions.ListAsync(
            "SELECT document, version FROM event_subscriptions ORDER BY name LIMIT $max", [], int.MaxValue, cancellationToken).ConfigureAwait(false);
}
