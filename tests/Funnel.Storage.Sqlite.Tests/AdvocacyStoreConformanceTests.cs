using Funnel.Advocacy;
using Funnel.Onboarding;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.Sqlite.Advocacy;
using Funnel.Storage.Sqlite.Internal;
using Funnel.Webinars;
using NodaTime;

namespace Funnel.Storage.Sqlite.Tests;

// Every specification of Funnel.Advocacy's stores, run against the SQLite stores, each store on a fresh database file.

public sealed class SqliteAffiliateStoreTests : AffiliateStoreSpecification, IDisposable
{
    private readonly AdvocacyTestDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    protected override IAffiliateStore CreateStore() => new SqliteAffiliateStore(_databases.New());
}

public sealed class SqliteAffiliateClickStoreTests : AffiliateClickStoreSpecification, IDisposable
{
    private readonly AdvocacyTestDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    protected override IAffiliateClickStore CreateStore() => new SqliteAffiliateClickStore(_databases.New());
}

public sealed class SqliteAffiliateSaleStoreTests : AffiliateSaleStoreSpecification, IDisposable
{
    private readonly AdvocacyTestDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    protected override IAffiliateSaleStore CreateStore() => new SqliteAffiliateSaleStore(_databases.New());
}

public sealed class SqliteAffiliatePayoutStoreTests : AffiliatePayoutStoreSpecification, IDisposable
{
    private readonly AdvocacyTestDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    protected override IAffiliatePayoutStore CreateStore() => new SqliteAffiliatePayoutStore(_databases.New());
}

public sealed class SqliteReferrerStoreTests : ReferrerStoreSpecification, IDisposable
{
    private readonly AdvocacyTestDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    protected override IReferrerStore CreateStore() => new SqliteReferrerStore(_databases.New());
}

public sealed class SqliteReferralStoreTests : ReferralStoreSpecification, IDisposable
{
    private readonly AdvocacyTestDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    protected override IReferralStore CreateStore() => new SqliteReferralStore(_databases.New());
}

public sealed class SqliteReviewStoreTests : ReviewStoreSpecificationTests, IDisposable
{
    private readonly AdvocacyTestDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    protected override IReviewStore CreateStore() => new SqliteReviewStore(_databases.New());
}

public sealed class SqliteCourseProgressStoreTests : CourseProgressStoreSpecificationTests, IDisposable
{
    private readonly AdvocacyTestDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    protected override ICourseProgressStore CreateStore() => new SqliteCourseProgressStore(_databases.New());
}

public sealed class SqliteEntitlementStoreTests : EntitlementStoreSpecification, IDisposable
{
    private readonly AdvocacyTestDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    protected override IEntitlementStore CreateStore() => new SqliteEntitlementStore(_databases.New());
}

public sealed class SqliteWebinarRegistrationStoreTests : WebinarRegistrationStoreSpecification, IDisposable
{
    private readonly AdvocacyTestDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    protected override IWebinarRegistrationStore CreateStore() =>
        new SqliteWebinarRegistrationStore(_databases.New(), DateTimeZoneProviders.Tzdb);
}

/// <summary>The databases a test opened, each a fresh migrated file, disposed with the test.</summary>
/// <remarks>
/// <see cref="New"/> copies a file migrated once per run (a migration costs ~60 ms, a copy ~1 ms; the property tests
/// open a hundred databases each) and opens it with <c>synchronous=NORMAL</c>: the specifications test what the stores
/// answer, not what survives a power cut. <see cref="Open"/> keeps the defaults.
/// </remarks>
internal sealed class AdvocacyTestDatabases : IDisposable
{
    private static readonly Lazy<string> Template = new(CreateTemplate);
    private readonly List<SqliteDatabase> _opened = [];

    public SqliteDatabase New()
    {
        string path = SqliteTestDatabase.NewPath();
        File.Copy(Template.Value, path);
        return Track(SqliteTestDatabase.Open(path, static o => o.Synchronous = SqliteSynchronous.Normal));
    }

    public SqliteDatabase Open(string path) => Track(SqliteTestDatabase.Open(path));

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

    private static string CreateTemplate()
    {
        string path = SqliteTestDatabase.NewPath();
        using (SqliteDatabase database = SqliteTestDatabase.Open(path))
        {
            database.Read(static s => s.Execute("PRAGMA wal_checkpoint(TRUNCATE)"));
        }

        return path;
    }

    private SqliteDatabase Track(SqliteDatabase database)
    {
        lock (_opened)
        {
            _opened.Add(database);
        }

        return database;
    }
}
