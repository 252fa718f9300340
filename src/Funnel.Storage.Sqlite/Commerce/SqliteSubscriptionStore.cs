using System.Collections.Immutable;
using Funnel.Storage.Sqlite.Internal;
using Funnel.Subscriptions;
using NodaTime;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.Sqlite.Commerce;

/// <summary>The SQLite <see cref="ISubscriptionStore"/>: table <c>subscriptions</c>, one JSON document per subscription, with the lead, start, status and due instant copied out for queries.</summary>
/// <remarks>
/// Insert-if-absent is <c>INSERT … ON CONFLICT DO NOTHING</c> and replace-if-version an <c>UPDATE … WHERE version =
/// $version</c> that also rewrites the copied columns; SQLite has one writer, so of two apps renewing one subscription
/// from the same version exactly one succeeds. Instants are stored as Unix nanoseconds, so the lists are exact.
/// </remarks>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class SqliteSubscriptionStore(SqliteDatabase database) : ISubscriptionStore
{
    internal const string ByLead =
        "SELECT document, version FROM subscriptions WHERE lead_id = $lead ORDER BY started_at, id LIMIT $max";

    internal const string Due =
        "SELECT document, version FROM subscriptions WHERE due_at IS NOT NULL AND due_at <= $now ORDER BY due_at, id LIMIT $max";

    private readonly SqliteDocumentTable<Subscription> _subscriptions = new(
        database,
        "subscriptions",
        [
            new("id", PrimaryKey, static s => s.Id.Value),
            new("lead_id", Derived, static s => s.Lead.Value),
            new("started_at", Derived, static s => s.StartedAt),
            new("status", Derived, static s => s.Status),
            new("due_at", Derived, static s => s.DueAt),
        ],
        new(static s => s.Version, static (s, v) => s with { Version = v }));

    /// <inheritdoc/>
    public Task<Subscription?> FindAsync(SubscriptionId id, CancellationToken cancellationToken = default) =>
        _subscriptions.FindAsync([id.Value], cancellationToken);

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(Subscription subscription, CancellationToken cancellationToken = default) =>
        _subscriptions.TryAddAsync(subscription, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>The replacement is stored with <paramref name="current"/>'s id, as the interface says.</remarks>
    public Task<bool> TryUpdateAsync(Subscription current, Subscription replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        return _subscriptions.TryUpdateAsync(current, replacement with { Id = current.Id }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<Subscription>> ListByLeadAsync(LeadId lead, CancellationToken cancellationToken = default) =>
        _subscriptions.ListAsync(ByLead, [("$lead", lead.Value)], int.MaxValue, cancellationToken);

    /// <inheritdoc/>
    public Task<ImmutableArray<Subscription>> FindDueAsync(Instant now, int max, CancellationToken cancellationToken = default) =>
        _subscriptions.ListAsync(Due, [("$now", InstantBound.Of(now))], max, cancellationToken);
}
