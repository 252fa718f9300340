using Funnel.Offers;
using Funnel.Payments;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.Sqlite.Commerce;
using Funnel.Storage.Sqlite.Internal;
using NodaTime;

namespace Funnel.Storage.Sqlite.Tests;

// The commerce store contract (tests/Funnel.Storage.ConformanceTests) run against the SQLite stores, each store on a
// fresh database file (WAL and locking are real).
public sealed class SqliteOrderStoreConformanceTests : OrderStoreSpecificationTests, IDisposable
{
    private readonly CommerceDatabases _databases = new();

    protected override IOrderStore CreateStore() => new SqliteOrderStore(_databases.New());

    public void Dispose() => _databases.Dispose();
}

public sealed class SqliteWebhookEventStoreConformanceTests : WebhookEventStoreSpecificationTests, IDisposable
{
    private readonly CommerceDatabases _databases = new();

    protected override IWebhookEventStore CreateStore() => new SqliteWebhookEventStore(_databases.New());

    public void Dispose() => _databases.Dispose();
}

public sealed class SqliteSeatInventoryConformanceTests : SeatInventorySpecificationTests, IDisposable
{
    private readonly CommerceDatabases _databases = new();

    protected override ISeatInventory CreateStore(IClock clock) => new SqliteSeatInventory(_databases.New(), clock);

    public void Dispose() => _databases.Dispose();
}

public sealed class SqliteCouponRedemptionStoreConformanceTests : CouponRedemptionStoreSpecificationTests, IDisposable
{
    private readonly CommerceDatabases _databases = new();

    protected override ICouponRedemptionStore CreateStore() => new SqliteCouponRedemptionStore(_databases.New());

    public void Dispose() => _databases.Dispose();
}

public sealed class SqliteDeadlineStoreConformanceTests : DeadlineStoreSpecificationTests, IDisposable
{
    private readonly CommerceDatabases _databases = new();

    protected override IDeadlineStore CreateStore() => new SqliteDeadlineStore(_databases.New());

    public void Dispose() => _databases.Dispose();
}

public sealed class SqliteCheckoutStoreConformanceTests : CheckoutStoreSpecificationTests, IDisposable
{
    private readonly CommerceDatabases _databases = new();

    protected override Funnel.CartRecovery.ICheckoutStore CreateStore() => new SqliteCheckoutStore(_databases.New());

    public void Dispose() => _databases.Dispose();
}

/// <summary>Fresh migrated databases for one test, disposed with it.</summary>
internal sealed class CommerceDatabases : IDisposable
{
    private readonly List<SqliteDatabase> _opened = [];

    public SqliteDatabase New()
    {
        SqliteDatabase database = SqliteTestDatabase.Create();
        lock (_opened)
        {
            _opened.Add(database);
        }

        return database;
    }

    public void Dispose()
    {
        lock (_opened)
        {
            foreach (SqliteDatabase database in _opened)
            {
                database.Dispose();
            }

            _opened.Clear();
        }
    }
}

public sealed class SqliteInvoiceStoreConformanceTests : InvoiceStoreSpecificationTests, IDisposable
{
    private readonly CommerceDatabases _databases = new();

    protected override Funnel.Invoices.IInvoiceStore CreateStore() => new SqliteInvoiceStore(_databases.New());

    public void Dispose() => _databases.Dispose();
}

public sealed class SqliteWaitlistStoreConformanceTests : WaitlistStoreSpecification, IDisposable
{
    private readonly CommerceDatabases _databases = new();

    protected override Funnel.Waitlists.IWaitlistStore CreateStore() => new SqliteWaitlistStore(_databases.New());

    public void Dispose() => _databases.Dispose();
}

public sealed class SqliteSubscriptionStoreConformanceTests : SubscriptionStoreSpecification, IDisposable
{
    private readonly CommerceDatabases _databases = new();

    protected override Funnel.Subscriptions.ISubscriptionStore CreateStore() => new SqliteSubscriptionStore(_databases.New());

    public void Dispose() => _databases.Dispose();
}
