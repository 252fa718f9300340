using Funnel.Leads;
using Funnel.Privacy;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.PostgreSql.Core;
using Funnel.Storage.PostgreSql.Internal;
using Microsoft.Extensions.Options;
using Npgsql;
using NodaTime.Testing;

namespace Funnel.Storage.PostgreSql.Tests.Core;

// The privacy contract against the PostgreSQL stores on the real server the tests start: the lead store and event log
// of one database, with the PgPersonalDataStore that finds the lead in every table of the Funnel schema.
// FindEverywhere is an independent catalog scan of every column of every table, as text.
public sealed class PgLeadPrivacyConformanceTests : LeadPrivacySpecificationTests, IDisposable
{
    private readonly CoreTestDatabases _databases = new();

    protected override PrivacyWorld CreateWorld() => World(_databases.Create());

    internal static PrivacyWorld World(PgDatabase database) => new(
        new PgLeadStore(database),
        new PgFunnelEventLog(database, CoreTestDatabases.Serializer),
        [new PgPersonalDataStore(database)],
        text => FindEverywhereAsync(database, text));

    internal static async Task<IReadOnlyList<string>> FindEverywhereAsync(PgDatabase database, string text)
    {
        await using NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None);
        List<(string Table, string Column)> columns = [];
        await using (NpgsqlCommand list = new(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c JOIN information_schema.tables t "
            + "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            + "WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'",
            connection))
        {
            list.Parameters.Add(new NpgsqlParameter { Value = database.Schema });
            await using NpgsqlDataReader reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                columns.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        List<string> found = [];
        foreach ((string table, string column) in columns)
        {
            await using NpgsqlCommand count = new(
                $"SELECT count(*) FROM {database.Schema}.\"{table}\" WHERE strpos(lower(\"{column}\"::text), lower($1)) > 0",
                connection);
            count.Parameters.Add(new NpgsqlParameter { Value = text });
            if ((long)(await count.ExecuteScalarAsync())! > 0)
            {
                found.Add($"{table}.{column}");
            }
        }

        return found;
    }

    public void Dispose() => _databases.Dispose();
}

// A table a later migration adds is searched and redacted too: the catalog is the list.
public sealed class PgPersonalDataStoreTests : IDisposable
{
    private readonly CoreTestDatabases _databases = new();

    [Fact]
    public async Task EraseAsync_TableAddedLater_RedactsItsRowsOfTheLead()
    {
        PgDatabase database = await _databases.CreateAsync();
        PrivacyWorld world = PgLeadPrivacyConformanceTests.World(database);
        FakeClock clock = new(NodaTime.Instant.FromUtc(2026, 10, 5, 14, 0));
        LeadCapture capture = new(world.Leads, world.Events, clock);
        OptInResult ann = await capture.OptInAsync(new OptInRequest
        {
            Email = "ann@example.com",
            Magnet = new LeadMagnet { Key = "guide", Title = "Guide", Kind = LeadMagnetKind.Guide },
        });
        await database.ExecuteAsync(
            $"CREATE TABLE {database.Schema}.support_notes (lead uuid, body text, extra jsonb);"
            + $"INSERT INTO {database.Schema}.support_notes VALUES ('{ann.Lead.Id}', 'Ann (ann@example.com) asked for a refund', "
            + "'{\"from\": \"ANN@example.com\"}');"
            + $"INSERT INTO {database.Schema}.support_notes VALUES (NULL, 'bob@example.com asked too', NULL)");
        LeadPrivacyService privacy = new(
            world.Leads, world.Stores, Options.Create(new PrivacyOptions { SuppressionKey = new string('k', 32) }), clock);

        LeadDataExport export = await privacy.ExportAsync(ann.Lead.Id);
        LeadErasure erasure = await privacy.EraseAsync(ann.Lead.Id);

        export.Records.ShouldContain(r => r.Kind == "support_notes");
        erasure.Outcomes.ShouldHaveSingleItem().Status.ShouldBe(ErasureStatus.Erased);
        (await PgLeadPrivacyConformanceTests.FindEverywhereAsync(database, "ann@example.com")).ShouldBeEmpty();
        (await PgLeadPrivacyConformanceTests.FindEverywhereAsync(database, "bob@example.com")).ShouldBe(["support_notes.body"]);
        (await PgLeadPrivacyConformanceTests.FindEverywhereAsync(database, erasure.Tombstone.Value)).ShouldContain("support_notes.extra");
    }

    public void Dispose() => _databases.Dispose();
}
