using Funnel.Leads;
using Funnel.Privacy;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.Sqlite.Core;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Extensions.Options;
using NodaTime.Testing;

namespace Funnel.Storage.Sqlite.Tests;

// The privacy contract against the SQLite stores: the lead store and event log of one database, with the
// SqlitePersonalDataStore that finds the lead in every table the catalog lists. FindEverywhere is an independent
// catalog scan of every column of every table.
public sealed class SqliteLeadPrivacyConformanceTests : LeadPrivacySpecificationTests, IDisposable
{
    private readonly CoreTestDatabases _databases = new();

    protected override PrivacyWorld CreateWorld() => World(_databases.Create());

    internal static PrivacyWorld World(SqliteDatabase database) => new(
        new SqliteLeadStore(database),
        new SqliteFunnelEventLog(database, CoreTestDatabases.Serializer),
        [new SqlitePersonalDataStore(database)],
        text => Task.FromResult(FindEverywhere(database, text)));

    internal static IReadOnlyList<string> FindEverywhere(SqliteDatabase database, string text) => database.Read(s =>
    {
        List<string> found = [];
        foreach (string table in s.Query("SELECT name FROM sqlite_master WHERE type = 'table'", static r => r.GetString(0)))
        {
            foreach (string column in s.Query($"SELECT name FROM pragma_table_info('{table}')", static r => r.GetString(0)))
            {
                object? hits = s.Scalar(
                    $"SELECT count(*) FROM \"{table}\" WHERE instr(lower(CAST(\"{column}\" AS TEXT)), lower($t)) > 0",
                    ("$t", text));
                if (Convert.ToInt64(hits, System.Globalization.CultureInfo.InvariantCulture) > 0)
                {
                    found.Add($"{table}.{column}");
                }
            }
        }

        return (IReadOnlyList<string>)found;
    });

    public void Dispose() => _databases.Dispose();
}

// A table the application (or a later migration) adds is searched and redacted too: the catalog is the list.
public sealed class SqlitePersonalDataStoreTests : IDisposable
{
    private readonly CoreTestDatabases _databases = new();

    [Fact]
    public async Task EraseAsync_TableAddedLater_RedactsItsRowsOfTheLead()
    {
        SqliteDatabase database = _databases.Create();
        PrivacyWorld world = SqliteLeadPrivacyConformanceTests.World(database);
        FakeClock clock = new(NodaTime.Instant.FromUtc(2026, 10, 5, 14, 0));
        LeadCapture capture = new(world.Leads, world.Events, clock);
        OptInResult ann = await capture.OptInAsync(new OptInRequest
        {
            Email = "ann@example.com",
            Magnet = new LeadMagnet { Key = "guide", Title = "Guide", Kind = LeadMagnetKind.Guide },
        });
        await database.WriteAsync(
            s => s.Execute(
                "CREATE TABLE support_notes (ticket INTEGER PRIMARY KEY, lead TEXT, body TEXT);"
                + "INSERT INTO support_notes (lead, body) VALUES ($lead, 'Ann (ann@example.com) asked for a refund');"
                + "INSERT INTO support_notes (lead, body) VALUES (NULL, 'bob@example.com asked too')",
                ("$lead", ann.Lead.Id.Value)),
            CancellationToken.None);
        LeadPrivacyService privacy = new(
            world.Leads, world.Stores, Options.Create(new PrivacyOptions { SuppressionKey = new string('k', 32) }), clock);

        LeadDataExport export = await privacy.ExportAsync(ann.Lead.Id);
        LeadErasure erasure = await privacy.EraseAsync(ann.Lead.Id);

        export.Records.ShouldContain(r => r.Kind == "support_notes");
        erasure.Outcomes.ShouldHaveSingleItem().Status.ShouldBe(ErasureStatus.Erased);
        SqliteLeadPrivacyConformanceTests.FindEverywhere(database, "ann@example.com").ShouldBeEmpty();
        SqliteLeadPrivacyConformanceTests.FindEverywhere(database, "bob@example.com").ShouldBe(["support_notes.body"]);
        SqliteLeadPrivacyConformanceTests.FindEverywhere(database, erasure.Tombstone.Value).ShouldContain("support_notes.body");
    }

    public void Dispose() => _databases.Dispose();
}
