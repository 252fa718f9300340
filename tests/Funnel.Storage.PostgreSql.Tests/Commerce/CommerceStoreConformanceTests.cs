using System.Collections.Immutable;
using Funnel.CartRecovery;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.PostgreSql.Commerce;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Tests.Commerce;

// The commerce store contract (tests/Funnel.Storage.ConformanceTests) run against the PostgreSQL stores, each test on a
// fresh database: once through one instance, and once through two instances (two data sources, so two connection pools,
// as two app servers have) that take the calls in turn, so every race of the contract is also a race between instances.
public sealed class PgOrderStoreConformanceTests : OrderStoreSpecificationTests, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(1);

    protected override IOrderStore CreateStore() => new PgOrderStore(_instances.First);

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

public sealed class PgOrderStoreTwoInstanceConformanceTests : OrderStoreSpecificationTests, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(2);

    protected override IOrderStore CreateStore() => new RoundRobinOrderStore(_instances.Each(static d => (IOrderStore)new PgOrderStore(d)));

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

public sealed class PgWebhookEventStoreConformanceTests : WebhookEventStoreSpecificationTests, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(1);

    protected override IWebhookEventStore CreateStore() => new PgWebhookEventStore(_instances.First);

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

public sealed class PgWebhookEventStoreTwoInstanceConformanceTests : WebhookEventStoreSpecificationTests, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(2);

    protected override IWebhookEventStore CreateStore() =>
        new RoundRobinWebhookEventStore(_instances.Each(static d => (IWebhookEventStore)new PgWebhookEventStore(d)));

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

public sealed class PgCheckoutStoreConformanceTests : CheckoutStoreSpecificationTests, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(1);

    protected override ICheckoutStore CreateStore() => new PgCheckoutStore(_instances.First);

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

public sealed class PgCheckoutStoreTwoInstanceConformanceTests : CheckoutStoreSpecificationTests, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(2);

    protected override ICheckoutStore CreateStore() => new RoundRobinCheckoutStore(_instances.Each(static d => (ICheckoutStore)new PgCheckoutStore(d)));

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

public sealed class PgSeatInventoryConformanceTests : SeatInventorySpecificationTests, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(1);

    protected override ISeatInventory CreateStore(IClock clock) => new PgSeatInventory(_instances.First, clock);

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

public sealed class PgSeatInventoryTwoInstanceConformanceTests : SeatInventorySpecificationTests, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(2);

    protected override ISeatInventory CreateStore(IClock clock) =>
        new RoundRobinSeatInventory(_instances.Each(d => (ISeatInventory)new PgSeatInventory(d, clock)));

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

public sealed class PgCouponRedemptionStoreConformanceTests : CouponRedemptionStoreSpecificationTests, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(1);

    protected override ICouponRedemptionStore CreateStore() => new PgCouponRedemptionStore(_instances.First);

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

public sealed class PgCouponRedemptionStoreTwoInstanceConformanceTests : CouponRedemptionStoreSpecificationTests, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(2);

    protected override ICouponRedemptionStore CreateStore() =>
        new RoundRobinCouponRedemptionStore(_instances.Each(static d => (ICouponRedemptionStore)new PgCouponRedemptionStore(d)));

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

public sealed class PgDeadlineStoreConformanceTests : DeadlineStoreSpecificationTests, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(1);

    protected override IDeadlineStore CreateStore() => new PgDeadlineStore(_instances.First);

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

public sealed class PgDeadlineStoreTwoInstanceConformanceTests : DeadlineStoreSpecificationTests, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(2);

    protected override IDeadlineStore CreateStore() =>
        new RoundRobinDeadlineStore(_instances.Each(static d => (IDeadlineStore)new PgDeadlineStore(d)));

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

/// <summary>App instances on one fresh migrated database: each a <see cref="PgDatabase"/> with a data source (pool) of its own.</summary>
/// <remarks>An <see cref="IAsyncLifetime"/>: a test class initializes and disposes it with itself.</remarks>
internal sealed class CommerceInstances(int count) : IAsyncLifetime
{
    private readonly PgTestDatabases _made = new();
    private PgDatabase[] _databases = [];

    public string ConnectionString { get; private set; } = "";

    public PgDatabase First => _databases[0];

    public ImmutableArray<PgDatabase> All => [.. _databases];

    public async Task InitializeAsync()
    {
        ConnectionString = await _made.CreateMigratedAsync();
        _databases = [.. Enumerable.Range(0, count).Select(_ => _made.Track(new PgDatabase(new FunnelPostgreSqlOptions { ConnectionString = ConnectionString })))];
    }

    public T[] Each<T>(Func<PgDatabase, T> store) => [.. _databases.Select(store)];

    public Task DisposeAsync() => _made.DropAllAsync();
}

/// <summary>Hands each call to the next of several stores, so consecutive and racing calls go to different instances.</summary>
internal abstract class RoundRobin<T>(T[] stores)
{
    private int _calls;

    protected T Next => stores[(int)((uint)Interlocked.Increment(ref _calls) % (uint)stores.Length)];
}

internal sealed class RoundRobinOrderStore(IOrderStore[] stores) : RoundRobin<IOrderStore>(stores), IOrderStore
{
    public Task<Order?> FindAsync(OrderId id, CancellationToken cancellationToken = default) => Next.FindAsync(id, cancellationToken);

    public Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken = default) => Next.TryAddAsync(order, cancellationToken);

    public Task<bool> TryUpdateAsync(Order current, Order replacement, CancellationToken cancellationToken = default) =>
        Next.TryUpdateAsync(current, replacement, cancellationToken);
}

internal sealed class RoundRobinWebhookEventStore(IWebhookEventStore[] stores) : RoundRobin<IWebhookEventStore>(stores), IWebhookEventStore
{
    public Task<StoredWebhookEvent?> FindAsync(string eventId, CancellationToken cancellationToken = default) => Next.FindAsync(eventId, cancellationToken);

    public Task<bool> TryAddAsync(StoredWebhookEvent stored, CancellationToken cancellationToken = default) => Next.TryAddAsync(stored, cancellationToken);

    public Task<bool> TryUpdateAsync(StoredWebhookEvent current, StoredWebhookEvent replacement, CancellationToken cancellationToken = default) =>
        Next.TryUpdateAsync(current, replacement, cancellationToken);

    public Task<ImmutableArray<StoredWebhookEvent>> ListAsync(WebhookEventStatus status, int max, CancellationToken cancellationToken = default) =>
        Next.ListAsync(status, max, cancellationToken);

    public Task<ImmutableArray<StoredWebhookEvent>> ListParkedAsync(OrderId order, string paymentId, CancellationToken cancellationToken = default) =>
        Next.ListParkedAsync(order, paymentId, cancellationToken);

    public Task<ImmutableArray<StoredWebhookEvent>> ClaimRetriesAsync(
        Instant now, Instant receivedBefore, int max, Duration lease, string owner, CancellationToken cancellationToken = default) =>
        Next.ClaimRetriesAsync(now, receivedBefore, max, lease, owner, cancellationToken);
}

internal sealed class RoundRobinSeatInventory(ISeatInventory[] stores) : RoundRobin<ISeatInventory>(stores), ISeatInventory
{
    public Task<SeatReservation?> TryReserveAsync(OfferId offer, LeadId lead, SeatLimit limit, CancellationToken cancellationToken = default) =>
        Next.TryReserveAsync(offer, lead, limit, cancellationToken);

    public Task<bool> ConfirmAsync(SeatReservation reservation, CancellationToken cancellationToken = default) => Next.ConfirmAsync(reservation, cancellationToken);

    public Task ReleaseAsync(SeatReservation reservation, CancellationToken cancellationToken = default) => Next.ReleaseAsync(reservation, cancellationToken);
}

internal sealed class RoundRobinCouponRedemptionStore(ICouponRedemptionStore[] stores) : RoundRobin<ICouponRedemptionStore>(stores), ICouponRedemptionStore
{
    public Task<bool> TryRedeemAsync(string code, LeadId lead, int? maxTotal, int? maxPerLead, CancellationToken cancellationToken = default) =>
        Next.TryRedeemAsync(code, lead, maxTotal, maxPerLead, cancellationToken);

    public Task ReleaseAsync(string code, LeadId lead, CancellationToken cancellationToken = default) => Next.ReleaseAsync(code, lead, cancellationToken);
}

internal sealed class RoundRobinDeadlineStore(IDeadlineStore[] stores) : RoundRobin<IDeadlineStore>(stores), IDeadlineStore
{
    public Task<Instant> GetOrStartAsync(string deadlineKey, LeadId lead, Instant startedAt, CancellationToken cancellationToken = default) =>
        Next.GetOrStartAsync(deadlineKey, lead, startedAt, cancellationToken);

    public Task<Instant?> FindStartAsync(string deadlineKey, LeadId lead, CancellationToken cancellationToken = default) =>
        Next.FindStartAsync(deadlineKey, lead, cancellationToken);
}

internal sealed class RoundRobinCheckoutStore(ICheckoutStore[] stores) : RoundRobin<ICheckoutStore>(stores), ICheckoutStore
{
    public Task<TrackedCheckout?> FindAsync(LeadId lead, OfferId offer, CancellationToken cancellationToken = default) =>
        Next.FindAsync(lead, offer, cancellationToken);

    public Task<bool> TryAddAsync(TrackedCheckout checkout, CancellationToken cancellationToken = default) =>
        Next.TryAddAsync(checkout, cancellationToken);

    public Task<bool> TryUpdateAsync(TrackedCheckout current, TrackedCheckout replacement, CancellationToken cancellationToken = default) =>
        Next.TryUpdateAsync(current, replacement, cancellationToken);

    public Task<ImmutableArray<TrackedCheckout>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default) =>
        Next.ClaimDueAsync(now, max, lease, owner, cancellationToken);
}

public sealed class PgInvoiceStoreConformanceTests : InvoiceStoreSpecificationTests, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(1);

    protected override Funnel.Invoices.IInvoiceStore CreateStore() => new PgInvoiceStore(_instances.First);

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

public sealed class PgInvoiceStoreTwoInstanceConformanceTests : InvoiceStoreSpecificationTests, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(2);

    protected override Funnel.Invoices.IInvoiceStore CreateStore() =>
        new RoundRobinInvoiceStore(_instances.Each(static d => (Funnel.Invoices.IInvoiceStore)new PgInvoiceStore(d)));

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

internal sealed class RoundRobinInvoiceStore(Funnel.Invoices.IInvoiceStore[] stores)
    : RoundRobin<Funnel.Invoices.IInvoiceStore>(stores), Funnel.Invoices.IInvoiceStore
{
    public Task<Funnel.Invoices.Invoice> IssueAsync(Funnel.Invoices.Invoice draft, CancellationToken cancellationToken = default) =>
        Next.IssueAsync(draft, cancellationToken);

    public Task<ImmutableArray<Funnel.Invoices.Invoice>> ListForOrderAsync(string seller, OrderId order, CancellationToken cancellationToken = default) =>
        Next.ListForOrderAsync(seller, order, cancellationToken);
}

public sealed class PgWaitlistStoreConformanceTests : WaitlistStoreSpecification, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(1);

    // The property test creates a hundred stores in one test: each starts from an emptied table.
    protected override Funnel.Waitlists.IWaitlistStore CreateStore() => new PgWaitlistStore(RoundRobinWaitlistStore.Emptied(_instances.First));

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

public sealed class PgWaitlistStoreTwoInstanceConformanceTests : WaitlistStoreSpecification, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(2);

    protected override Funnel.Waitlists.IWaitlistStore CreateStore() =>
        new RoundRobinWaitlistStore(_instances.Each(static d => (Funnel.Waitlists.IWaitlistStore)new PgWaitlistStore(RoundRobinWaitlistStore.Emptied(d))));

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

internal sealed class RoundRobinWaitlistStore(Funnel.Waitlists.IWaitlistStore[] stores)
    : RoundRobin<Funnel.Waitlists.IWaitlistStore>(stores), Funnel.Waitlists.IWaitlistStore
{
    /// <summary>Deletes every waitlist of the database (synchronously: the specifications create stores synchronously).</summary>
    public static PgDatabase Emptied(PgDatabase database)
    {
        using Npgsql.NpgsqlConnection connection = database.DataSource.OpenConnection();
        using Npgsql.NpgsqlCommand clear = new($"DELETE FROM {database.Table("waitlists")}", connection);
        clear.ExecuteNonQuery();
        return database;
    }

    public Task<Funnel.Waitlists.Waitlist?> FindAsync(OfferId offer, CancellationToken cancellationToken = default) =>
        Next.FindAsync(offer, cancellationToken);

    public Task<bool> TryAddAsync(Funnel.Waitlists.Waitlist waitlist, CancellationToken cancellationToken = default) =>
        Next.TryAddAsync(waitlist, cancellationToken);

    public Task<bool> TryUpdateAsync(Funnel.Waitlists.Waitlist current, Funnel.Waitlists.Waitlist replacement, CancellationToken cancellationToken = default) =>
        Next.TryUpdateAsync(current, replacement, cancellationToken);

    public Task<ImmutableArray<Funnel.Waitlists.Waitlist>> FindDueAsync(Instant now, int max, CancellationToken cancellationToken = default) =>
        Next.FindDueAsync(now, max, cancellationToken);
}

public sealed class PgSubscriptionStoreConformanceTests : SubscriptionStoreSpecification, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(1);

    // The property test creates a hundred stores in one test: each starts from an emptied table.
    protected override Funnel.Subscriptions.ISubscriptionStore CreateStore() =>
        new PgSubscriptionStore(RoundRobinSubscriptionStore.Emptied(_instances.First));

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

public sealed class PgSubscriptionStoreTwoInstanceConformanceTests : SubscriptionStoreSpecification, IAsyncLifetime
{
    private readonly CommerceInstances _instances = new(2);

    protected override Funnel.Subscriptions.ISubscriptionStore CreateStore() =>
        new RoundRobinSubscriptionStore(_instances.Each(static d =>
            (Funnel.Subscriptions.ISubscriptionStore)new PgSubscriptionStore(RoundRobinSubscriptionStore.Emptied(d))));

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();
}

internal sealed class RoundRobinSubscriptionStore(Funnel.Subscriptions.ISubscriptionStore[] stores)
    : RoundRobin<Funnel.Subscriptions.ISubscriptionStore>(stores), Funnel.Subscriptions.ISubscriptionStore
{
    /// <summary>Deletes every subscription of the database (synchronously: the specifications create stores synchronously).</summary>
    public static PgDatabase Emptied(PgDatabase database)
    {
        using Npgsql.NpgsqlConnection connection = database.DataSource.OpenConnection();
        using Npgsql.NpgsqlCommand clear = new($"DELETE FROM {database.Table("subscriptions")}", connection);
        clear.ExecuteNonQuery();
        return database;
    }

    public Task<Funnel.Subscriptions.Subscription?> FindAsync(Funnel.Subscriptions.SubscriptionId id, CancellationToken cancellationToken = default) =>
        Next.FindAsync(id, cancellationToken);

    public Task<bool> TryAddAsync(Funnel.Subscriptions.Subscription subscription, CancellationToken cancellationToken = default) =>
        Next.TryAddAsync(subscription, cancellationToken);

    public Task<bool> TryUpdateAsync(
        Funnel.Subscriptions.Subscription current, Funnel.Subscriptions.Subscription replacement, CancellationToken cancellationToken = default) =>
        Next.TryUpdateAsync(current, replacement, cancellationToken);

    public Task<ImmutableArray<Funnel.Subscriptions.Subscription>> ListByLeadAsync(LeadId lead, CancellationToken cancellationToken = default) =>
        Next.ListByLeadAsync(lead, cancellationToken);

    public Task<ImmutableArray<Funnel.Subscriptions.Subscription>> FindDueAsync(Instant now, int max, CancellationToken cancellationToken = default) =>
        Next.FindDueAsync(now, max, cancellationToken);
}
