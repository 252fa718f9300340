using System.Net;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Samples.WebShop;
using Funnel.Storage.PostgreSql;
using Funnel.TestSupport;
using Npgsql;

namespace Funnel.AspNetCore.Tests;

/// <summary>The WebShop on PostgreSQL, chosen by its one storage setting, on a fresh database of the shared test cluster.</summary>
public sealed class WebShopPostgreSqlTests : IAsyncLifetime
{
    private PostgresServer _server = null!;
    private string _connectionString = "";

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.SharedAsync();
        _connectionString = await _server.CreateDatabaseAsync();
    }

    public Task DisposeAsync() => _server.DropDatabaseAsync(_connectionString);

    [Fact]
    public async Task Purchase_ShopOnAnEmptyPostgreSqlDatabase_MigratesItAndKeepsTheDataThere()
    {
        string connectionString = _connectionString;
        using var shop = new WebShopFactory(connectionString);
        using HttpClient client = shop.CreateBrowser();

        // Opt-in and confirmation, then a purchase with a test card and the provider's signed webhooks, all over HTTP.
        (await WebShopFactory.OptInAsync(client, "ada@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        Uri confirmation = shop.Outbox.Snapshot().ShouldHaveSingleItem().ConfirmationLink.ShouldNotBeNull();
        (await client.GetAsync(WebShopFactory.Relative(confirmation))).ShouldBeStatus(HttpStatusCode.Redirect);
        await shop.PurchaseAsync(client);

        shop.Settle();
        EntitlementGranted[] granted = [.. shop.Events.OfType<EntitlementGranted>()];
        granted.ShouldNotBeEmpty();
        LeadId lead = shop.Events.OfType<OptedIn>().ShouldHaveSingleItem().LeadId;
        granted.ShouldAllBe(g => g.LeadId == lead);

        // The shop created the schema at start-up, and the grants the pipeline recorded are rows of funnel.entitlements.
        await using NpgsqlDataSource database = NpgsqlDataSource.Create(connectionString);
        (await ScalarAsync(database, "SELECT count(*) FROM funnel.schema_migrations")).ShouldBe((long)FunnelPostgreSqlSchema.LatestVersion);
        List<string> rows = [];
        await using (NpgsqlCommand query = database.CreateCommand(
            "SELECT product FROM funnel.entitlements WHERE lead_id = $1 AND (document->>'held')::boolean ORDER BY product"))
        {
            query.Parameters.Add(new NpgsqlParameter { Value = lead.Value });
            await using NpgsqlDataReader reader = await query.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add(reader.GetString(0));
            }
        }

        rows.ShouldBe([.. granted.Select(g => g.Product).Distinct().Order(StringComparer.Ordinal)]);
    }

    [Theory]
    [InlineData("Mode=ReadOnly")]
    [InlineData("Data Source=shop.db;Host=db.internal")]
    [InlineData("Host=db.internal;=oops")]
    public void Start_ConnectionStringNamingNoStorage_FailsWithTheSettingAndTheFormsThatWork(string connectionString)
    {
        using var shop = new WebShopFactory(connectionString);

        InvalidOperationException error = Should.Throw<InvalidOperationException>(() => shop.CreateClient());

        error.Message.ShouldContain("ConnectionStrings:Funnel");
        error.Message.ShouldContain("Host=");
        error.Message.ShouldContain("Data Source=");
    }

    [Theory]
    [InlineData(null, ShopStorageKind.Sqlite)]
    [InlineData("Data Source=/var/shop/funnel.db", ShopStorageKind.Sqlite)]
    [InlineData("Filename=funnel.db;Cache=Shared", ShopStorageKind.Sqlite)]
    [InlineData("Host=db.internal;Database=shop;Username=shop;Password=secret", ShopStorageKind.PostgreSql)]
    [InlineData("server=10.0.0.5;port=5433;database=shop", ShopStorageKind.PostgreSql)]
    public void KindOf_ConnectionString_PicksTheStorageItNames(string? connectionString, ShopStorageKind expected) =>
        ShopStorage.KindOf(connectionString).ShouldBe(expected);

    private static async Task<object?> ScalarAsync(NpgsqlDataSource database, string sql)
    {
        await using NpgsqlCommand command = database.CreateCommand(sql);
        return await command.ExecuteScalarAsync();
    }

}
