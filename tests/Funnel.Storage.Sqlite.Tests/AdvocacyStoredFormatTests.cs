using Funnel.Advocacy;
using Funnel.Onboarding;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.Sqlite.Advocacy;
using Funnel.Storage.Sqlite.Internal;
using Funnel.Webinars;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using static Funnel.Storage.ConformanceTests.AdvocacySamples;

namespace Funnel.Storage.Sqlite.Tests;

/// <summary>The stored format of Funnel.Advocacy's documents in SQLite (the shared specification), and DI.</summary>
public sealed class AdvocacyStoredFormatTests : AdvocacyStoredFormatSpecification, IDisposable
{
    private readonly AdvocacyTestDatabases _databases = new();
    private readonly Dictionary<AdvocacyStores, SqliteDatabase> _databaseOf = new(ReferenceEqualityComparer.Instance);

    public void Dispose() => _databases.Dispose();

    [Fact]
    public void AddFunnelSqlite_BeforeOrAfterAddFunnelAdvocacy_ReplacesEveryAdvocacyStore()
    {
        foreach (bool sqliteFirst in new[] { true, false })
        {
            ServiceCollection services = new();
            string connectionString = $"Data Source={SqliteTestDatabase.NewPath()}";
            if (sqliteFirst)
            {
                services.AddFunnelSqlite(connectionString).AddFunnelAdvocacy();
            }
            else
            {
                services.AddFunnelAdvocacy().AddFunnelSqlite(connectionString);
            }

            using ServiceProvider provider = services.BuildServiceProvider();
            Type[] seams =
            [
                typeof(IAffiliateStore), typeof(IAffiliateClickStore), typeof(IAffiliateSaleStore), typeof(IAffiliatePayoutStore),
                typeof(IReferrerStore), typeof(IReferralStore), typeof(IReviewStore), typeof(ICourseProgressStore),
                typeof(IEntitlementStore), typeof(IWebinarRegistrationStore),
            ];
            foreach (Type seam in seams)
            {
                provider.GetServices(seam).ShouldHaveSingleItem().ShouldNotBeNull().GetType().Name.ShouldStartWith("Sqlite", customMessage: seam.Name);
            }
        }
    }

    protected override Task<AdvocacyStores> CreateStoresAsync() => Task.FromResult(StoresOf(_databases.New()));

    protected override Task<AdvocacyStores> ReopenAsync(AdvocacyStores stores)
    {
        SqliteDatabase database = _databaseOf[stores];
        database.Dispose();
        return Task.FromResult(StoresOf(_databases.Open(database.FilePath)));
    }

    protected override Task InsertReviewRowAsync(AdvocacyStores stores, string document) =>
        _databaseOf[stores].WriteAsync(
            s => s.Execute(
                "INSERT INTO reviews (id, product, submitted_at, version, document) VALUES ($id, 'masterclass', $at, 4, $document)",
                ("$id", ReviewIdOfRow.Value), ("$at", T0), ("$document", document)),
            CancellationToken.None);

    protected override Task InsertAffiliateRowAsync(AdvocacyStores stores, string document) =>
        _databaseOf[stores].WriteAsync(
            s => s.Execute(
                "INSERT INTO affiliates (id, code, lead_id, version, document) VALUES ($id, 'sarah', $lead, 2, $document)",
                ("$id", AffiliateIdOfRow.Value), ("$lead", AffiliateLeadOfRow.Value), ("$document", document)),
            CancellationToken.None);

    protected override Task<string> DocumentAsync(AdvocacyStores stores, string table) =>
        _databaseOf[stores].ReadAsync(s => (string)s.Scalar($"SELECT document FROM {table}")!, CancellationToken.None);

    private AdvocacyStores StoresOf(SqliteDatabase database)
    {
        AdvocacyStores stores = new(
            new SqliteAffiliateStore(database),
            new SqliteAffiliateClickStore(database),
            new SqliteAffiliateSaleStore(database),
            new SqliteAffiliatePayoutStore(database),
            new SqliteReferrerStore(database),
            new SqliteReferralStore(database),
            new SqliteReviewStore(database),
            new SqliteCourseProgressStore(database),
            new SqliteEntitlementStore(database),
            new SqliteWebinarRegistrationStore(database, DateTimeZoneProviders.Tzdb));
        _databaseOf.Add(stores, database);
        return stores;
    }
}
