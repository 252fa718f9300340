using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Sequences;
using Funnel.Storage.ConformanceTests;
using NodaTime;
using Xunit;

namespace Funnel.Samples.Snippets.WritingAStore;

// The conformance snippet of docs/writing-a-store.md. PostgresFixture, PostgresOrderStore and PostgresSendOutbox stand
// for the reader's own test fixture and stores; the suites come from tests/Funnel.Storage.ConformanceTests.

// <snippet:writing-a-store-conformance>
public sealed class PostgresOrderStoreTests(PostgresFixture db) : OrderStoreSpecificationTests, IClassFixture<PostgresFixture>
{
    protected override IOrderStore CreateStore() => new PostgresOrderStore(db.NewDatabase());
}

public sealed class PostgresSendOutboxTests(PostgresFixture db) : SendOutboxSpecificationTests, IClassFixture<PostgresFixture>
{
    protected override ISendOutbox CreateStore() => new PostgresSendOutbox(db.NewDatabase());
}
// </snippet:writing-a-store-conformance>

/// <summary>Your fixture: a PostgreSQL server started once per test class.</summary>
public sealed class PostgresFixture
{
    /// <summary>Creates a fresh, empty database and returns its connection string.</summary>
    public string NewDatabase() => throw new NotSupportedException("Your fixture creates a database here.");
}

/// <summary>Your order store.</summary>
internal sealed class PostgresOrderStore(string connectionString) : IOrderStore
{
    public Task<Order?> FindAsync(OrderId id, CancellationToken cancellationToken = default) => throw Yours(connectionString);

    public Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken = default) => throw Yours(connectionString);

    public Task<bool> TryUpdateAsync(Order current, Order replacement, CancellationToken cancellationToken = default) =>
        throw Yours(connectionString);

    internal static NotSupportedException Yours(string connectionString) =>
        new($"Your store reads and writes {connectionString} here.");
}

/// <summary>Your send outbox.</summary>
internal sealed class PostgresSendOutbox(string connectionString) : ISendOutbox
{
    public Task<bool> TryAddAsync(OutboxEntry entry, CancellationToken cancellationToken = default) =>
        throw PostgresOrderStore.Yours(connectionString);

    public Task<OutboxEntry?> FindAsync(string key, CancellationToken cancellationToken = default) =>
        throw PostgresOrderStore.Yours(connectionString);

    public Task<ImmutableArray<OutboxEntry>> ClaimDueAsync(
        Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default) =>
        throw PostgresOrderStore.Yours(connectionString);

    public Task<bool> TryUpdateAsync(OutboxEntry current, OutboxEntry replacement, CancellationToken cancellationToken = default) =>
        throw PostgresOrderStore.Yours(connectionString);

    public Task<ImmutableArray<FunnelEvent>> ClaimEventsAsync(
        Instant now, int max, Duration lease, CancellationToken cancellationToken = default) =>
        throw PostgresOrderStore.Yours(connectionString);

    public Task AcknowledgeEventsAsync(IEnumerable<EventId> ids, CancellationToken cancellationToken = default) =>
        throw PostgresOrderStore.Yours(connectionString);

    public Task<int> PurgeCompletedAsync(Instant completedBefore, int max, CancellationToken cancellationToken = default) =>
        throw PostgresOrderStore.Yours(connectionString);
}
