using System.Text.Json.Nodes;
using Funnel.Advocacy;
using Funnel.Onboarding;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.PostgreSql.Advocacy;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.Webinars;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NodaTime;
using static Funnel.Storage.ConformanceTests.AdvocacySamples;

namespace Funnel.Storage.PostgreSql.Tests.Advocacy;

/// <summary>The stored format of Funnel.Advocacy's documents in PostgreSQL (the specification SQLite passes too), and DI.</summary>
public sealed class AdvocacyStoredFormatTests : AdvocacyStoredFormatSpecification, IAsyncLifetime
{
    private readonly PgTestDatabases _databases = new();
    private readonly Dictionary<AdvocacyStores, PgDatabase> _databaseOf = new(ReferenceEqualityComparer.Instance);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _databases.DropAllAsync();

    [Fact]
    public async Task Document_AsStored_IsJsonbWithTheFormatVersionAndNoStoreVersion()
    {
        PgDatabase database = await CreateDatabaseAsync();
        await StoresOf(database).Affiliates.TryAddAsync(ExpectedAffiliate);

        (await database.ScalarAsync("SELECT jsonb_typeof(document) || ' ' || (document->>'v') || ' ' || (document ? 'version') FROM funnel.affiliates"))
            .ShouldBe("object 1 false");
    }

    [Fact]
    public async Task AddFunnelPostgreSql_BeforeOrAfterAddFunnelAdvocacy_ReplacesEveryAdvocacyStore()
    {
        string connectionString = await _databases.CreateMigratedAsync();
        foreach (bool postgresFirst in new[] { true, false })
        {
            ServiceCollection services = new();
            if (postgresFirst)
            {
                services.AddFunnelPostgreSql(connectionString).AddFunnelAdvocacy();
            }
            else
            {
                services.AddFunnelAdvocacy().AddFunnelPostgreSql(connectionString);
            }

            await using ServiceProvider provider = services.BuildServiceProvider();
            Type[] seams =
            [
                typeof(IAffiliateStore), typeof(IAffiliateClickStore), typeof(IAffiliateSaleStore), typeof(IAffiliatePayoutStore),
                typeof(IReferrerStore), typeof(IReferralStore), typeof(IReviewStore), typeof(ICourseProgressStore),
                typeof(IEntitlementStore), typeof(IWebinarRegistrationStore),
            ];
            foreach (Type seam in seams)
            {
                provider.GetServices(seam).ShouldHaveSingleItem().ShouldNotBeNull().GetType().Name.ShouldStartWith("Pg", customMessage: seam.Name);
            }

            (await provider.GetRequiredService<IReviewStore>().TryAddAsync(ExpectedReview with { Id = ReviewId.New() })).ShouldBeTrue();
        }
    }

    /// <summary>jsonb keeps its own key order and spacing: the document must be the same JSON value.</summary>
    protected override void ShouldBeStoredAs(string stored, string written) =>
        JsonNode.DeepEquals(JsonNode.Parse(stored), JsonNode.Parse(written)).ShouldBeTrue($"stored {stored}");

    protected override async Task<AdvocacyStores> CreateStoresAsync() => StoresOf(await CreateDatabaseAsync());

    protected override async Task<AdvocacyStores> ReopenAsync(AdvocacyStores stores)
    {
        PgDatabase database = _databaseOf[stores];
        await database.DisposeAsync();
        PgDatabase again = _databases.Track(new(database.Options));
        await again.EnsureReadyAsync(CancellationToken.None);
        return StoresOf(again);
    }

    private async Task<PgDatabase> CreateDatabaseAsync()
    {
        PgDatabase database = await _databases.CreateAsync();
        return database;
    }

    protected override Task InsertReviewRowAsync(AdvocacyStores stores, string document) =>
        InsertAsync(
            _databaseOf[stores],
            "INSERT INTO funnel.reviews (id, product, submitted_at, version, document) VALUES (@id, 'masterclass', @at, 4, @document)",
            [("id", ReviewIdOfRow.Value), ("at", T0), ("document", document)]);

    protected override Task InsertAffiliateRowAsync(AdvocacyStores stores, string document) =>
        InsertAsync(
            _databaseOf[stores],
            "INSERT INTO funnel.affiliates (id, code, lead_id, version, document) VALUES (@id, 'sarah', @lead, 2, @document)",
            [("id", AffiliateIdOfRow.Value), ("lead", AffiliateLeadOfRow.Value), ("document", document)]);

    protected override async Task<string> DocumentAsync(AdvocacyStores stores, string table) =>
        (string)(await _databaseOf[stores].ScalarAsync($"SELECT document::text FROM funnel.{table}"))!;

    private static async Task InsertAsync(PgDatabase database, string sql, (string Name, object? Value)[] args)
    {
        await using NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None);
        await using NpgsqlCommand insert = PgDocumentTable<object>.Command(connection, sql, args);
        (await insert.ExecuteNonQueryAsync()).ShouldBe(1);
    }

    private AdvocacyStores StoresOf(PgDatabase database)
    {
        AdvocacyStores stores = new(
            new PgAffiliateStore(database),
            new PgAffiliateClickStore(database),
            new PgAffiliateSaleStore(database),
            new PgAffiliatePayoutStore(database),
            new PgReferrerStore(database),
            new PgReferralStore(database),
            new PgReviewStore(database),
            new PgCourseProgressStore(database),
            new PgEntitlementStore(database),
            new PgWebinarRegistrationStore(database, DateTimeZoneProviders.Tzdb));
        _databaseOf.Add(stores, database);
        return stores;
    }
}
