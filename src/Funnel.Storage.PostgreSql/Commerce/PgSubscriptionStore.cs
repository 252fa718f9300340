using System.Collections.Immutable;
using Funnel.Storage.PostgreSql.Advocacy;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.Subscriptions;
using NodaTime;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.PostgreSql.Commerce;

/// <summary>The PostgreSQL <see cref="ISubscriptionStore"/>: table <c>subscriptions</c>, one jsonb document per subscription, with the lead, start, status and due instant copied out for queries.</summary>
/// <remarks>
/// <para>
/// Insert-if-absent is <c>INSERT … ON CONFLICT DO NOTHING</c> and replace-if-version an <c>UPDATE … WHERE version =
/// @version</c> that also rewrites the copied columns, so of several app instances changing one subscription from the
/// same version exactly one succeeds.
/// </para>
/// <para>
/// <see cref="FindDueAsync"/> is a plain read, not a claim: several instances may list the same subscription, and the
/// renewal job (<see cref="SubscriptionService.ProcessDueAsync"/>) reads it again and saves each step by
/// replace-if-version, so the version is the fence and only one instance applies a step. The copied
/// <c>timestamptz</c> columns keep microseconds: the store drops a subscription due later within <c>now</c>'s
/// microsecond (see <see cref="MicrosecondBound"/>) and orders both lists by the documents' own instants.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class PgSubscriptionStore : ISubscriptionStore
{
    private readonly PgDocumentTable<Subscription> _subscriptions;
    private readonly string _byLeadSql;

    public PgSubscriptionStore(PgDatabase database)
    {
        _subscriptions = new(
            database,
            "subscriptions",
            [
                new("id", PrimaryKey, static s => s.Id.Value),
                new("lead_id", Derived, static s => s.Lead.Value),
                new("started_at", Derived, static s => s.StartedAt),
                new("status", Derived, static s => (short)s.Status),
                new("due_at", Derived, static s => s.DueAt),
            ],
            new(static s => s.Version, static (s, v) => s with { Version = v }));
        _byLeadSql = $"SELECT document, version FROM {_subscriptions.Name} WHERE lead_id = @lead ORDER BY started_at, id LIMIT @max";
        DueSql = $"SELECT document, version FROM {_subscriptions.Name} WHERE due_at IS NOT NULL AND due_at <= @now " +
            "ORDER BY due_at, id LIMIT @max";
    }

    /// <summary>Gets the due list; its predicate is the one of the partial index <c>subscriptions_due</c>, so the index serves it.</summary>
    internal string DueSql { get; }

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
    public async Task<ImmutableArray<Subscription>> ListByLeadAsync(LeadId lead, CancellationToken cancellationToken = default)
    {
        ImmutableArray<Subscription> mine =
            await _subscriptions.ListAsync(_byLeadSql, [("lead", lead.Value)], int.MaxValue, cancellationToken).ConfigureAwait(false);
        return [.. mine.OrderBy(static s => s.StartedAt).ThenBy(static s => s.Id.Value)];
    }

    /// <inheritdoc/>
    public async Task<ImmutableArray<Subscription>> FindDueAsync(Instant now, int max, CancellationToken cancellationToken = default)
    {
        ImmutableArray<Subscription> due = MicrosecondBound.Keep(
            await _subscriptions.ListAsync(DueSql, [("now", now)], max, cancellationToken).ConfigureAwait(false),
            s => s.DueAt <= now);
        return [.. due.OrderBy(static s => s.DueAt).ThenBy(static s => s.Id.Value)];
    }
}
