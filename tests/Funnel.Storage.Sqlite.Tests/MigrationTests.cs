using Funnel.Storage;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;

namespace Funnel.Storage.Sqlite.Tests;

public sealed class MigrationTests
{
    [Fact]
    public void EnsureReady_EmptyFile_AppliesEveryScriptOnce()
    {
        using SqliteDatabase database = SqliteTestDatabase.Create();

        Applied(database).ShouldBe([.. MigrationScript.All.Select(static s => s.Version)]);
        Applied(database).Length.ShouldBe(FunnelSqliteSchema.LatestVersion);
    }

    [Fact]
    public void EnsureReady_SecondOpen_ChangesNothing()
    {
        string path = SqliteTestDatabase.NewPath();
        using (SqliteTestDatabase.Open(path))
        {
        }

        string before = Dump(path);
        using SqliteDatabase again = SqliteTestDatabase.Open(path);

        Dump(path).ShouldBe(before);
    }

    [Fact]
    public async Task EnsureReady_EightOpenersAtOnce_ApplyEachScriptOnce()
    {
        string path = SqliteTestDatabase.NewPath();
        using Barrier start = new(8);
        SqliteDatabase[] databases = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            return SqliteTestDatabase.Open(path);
        })));

        try
        {
            Applied(databases[0]).ShouldBe([.. MigrationScript.All.Select(static s => s.Version)]);
        }
        finally
        {
            foreach (SqliteDatabase database in databases)
            {
                database.Dispose();
            }
        }
    }

    [Fact]
    public void Validate_EmptyFile_FailsNamingTheFix()
    {
        using SqliteDatabase database = new(new FunnelSqliteOptions { ConnectionString = $"Data Source={SqliteTestDatabase.NewPath()}", Migrations = MigrationMode.Validate });

        FunnelSchemaException e = Should.Throw<FunnelSchemaException>(database.EnsureReady);

        e.Message.ShouldContain("FunnelSqliteSchema.Script()");
    }

    [Fact]
    public void Validate_SchemaBehind_FailsNamingTheMissingMigration()
    {
        string path = SqliteTestDatabase.NewPath();
        using (SqliteDatabase applied = SqliteTestDatabase.Open(path))
        {
            applied.Read(static s => s.Execute("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)"));
        }

        using SqliteDatabase behind = new(new FunnelSqliteOptions { ConnectionString = $"Data Source={path}", Migrations = MigrationMode.Validate });

        FunnelSchemaException e = Should.Throw<FunnelSchemaException>(behind.EnsureReady);

        e.Message.ShouldContain($"missing Funnel migrations {FunnelSqliteSchema.LatestVersion}");
    }

    [Fact]
    public void EnsureReady_AScriptsChecksumChanged_FailsStartUp()
    {
        string path = SqliteTestDatabase.NewPath();
        using (SqliteDatabase applied = SqliteTestDatabase.Open(path))
        {
            applied.Read(static s => s.Execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1"));
        }

        using SqliteDatabase reopened = new(new FunnelSqliteOptions { ConnectionString = $"Data Source={path}" });

        Should.Throw<FunnelSchemaException>(reopened.EnsureReady).Message.ShouldContain("a shipped script changed");
    }

    [Fact]
    public void EnsureReady_ANewerMigrationIsRecorded_FailsStartUp()
    {
        string path = SqliteTestDatabase.NewPath();
        using (SqliteDatabase applied = SqliteTestDatabase.Open(path))
        {
            applied.Read(static s => s.Execute("INSERT INTO schema_migrations VALUES (9999, 'future', 'x', 'now')"));
        }

        using SqliteDatabase reopened = new(new FunnelSqliteOptions { ConnectionString = $"Data Source={path}" });

        Should.Throw<FunnelSchemaException>(reopened.EnsureReady).Message.ShouldContain("upgraded by a newer version");
    }

    [Fact]
    public void Script_AppliedByHand_PassesValidate()
    {
        string path = SqliteTestDatabase.NewPath();
        using (SqliteConnection connection = new($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using SqliteTransaction transaction = connection.BeginTransaction();
            using SqliteCommand command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = FunnelSqliteSchema.Script();
            command.ExecuteNonQuery();
            transaction.Commit();
        }

        using SqliteDatabase database = new(new FunnelSqliteOptions { ConnectionString = $"Data Source={path}", Migrations = MigrationMode.Validate });

        Should.NotThrow(database.EnsureReady);
    }

    [Fact]
    public void Script_FromTheLatestVersion_HasNoMigration()
    {
        FunnelSqliteSchema.Script(FunnelSqliteSchema.LatestVersion).ShouldNotContain("Funnel migration");
        Should.Throw<ArgumentOutOfRangeException>(() => FunnelSqliteSchema.Script(FunnelSqliteSchema.LatestVersion + 1));
    }

    [Fact]
    public void None_EmptyFile_CreatesNoTable()
    {
        string path = SqliteTestDatabase.NewPath();
        using SqliteDatabase database = new(new FunnelSqliteOptions { ConnectionString = $"Data Source={path}", Migrations = MigrationMode.None });

        long tables = database.Read(static s => (long)s.Scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table'")!);

        tables.ShouldBe(0);
    }

    private static int[] Applied(SqliteDatabase database) =>
        [.. database.Read(static s => s.Query("SELECT version FROM schema_migrations ORDER BY version", static r => r.GetInt32(0)))];

    private static string Dump(string path)
    {
        using SqliteConnection connection = new($"Data Source={path};Pooling=False");
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT group_concat(type || ':' || name || ':' || coalesce(sql, ''), '|') FROM sqlite_master; ";
        string schema = command.ExecuteScalar() as string ?? string.Empty;
        command.CommandText = "SELECT group_concat(version || ':' || checksum || ':' || applied_at, '|') FROM schema_migrations";
        return schema + "#" + command.ExecuteScalar();
    }
}
