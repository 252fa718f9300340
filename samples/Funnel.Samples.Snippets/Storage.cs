using Funnel.Storage;
using Funnel.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/storage.md.</summary>
internal static class StorageSnippets
{
    public static void Register(WebApplicationBuilder builder)
    {
        // <snippet:storage-register>
        string dataFolder = Path.Combine(builder.Environment.ContentRootPath, "App_Data");
        builder.Services.AddFunnelSqlite($"Data Source={Path.Combine(dataFolder, "funnel.db")}");
        // </snippet:storage-register>
    }

    public static void Options(WebApplicationBuilder builder)
    {
        // <snippet:storage-options>
        builder.Services.AddFunnelSqlite(builder.Configuration.GetConnectionString("Funnel")!, options =>
        {
            options.Migrations = MigrationMode.Validate;          // fail start-up when the schema is behind
            options.Synchronous = SqliteSynchronous.Full;         // the default: a commit survives a power cut
            options.BusyTimeout = TimeSpan.FromSeconds(30);       // wait this long for another connection's lock
        });
        // </snippet:storage-options>
    }

    public static void Export()
    {
        // <snippet:storage-export>
        File.WriteAllText("funnel-sqlite-schema.sql", FunnelSqliteSchema.Script(fromVersion: 0));
        // </snippet:storage-export>
    }

    public static void Backup(string connectionString, NodaTime.IClock clock)
    {
        // <snippet:storage-backup>
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using SqliteCommand backup = connection.CreateCommand();
        backup.CommandText = "VACUUM INTO $path";                // a consistent copy while the app runs
        backup.Parameters.AddWithValue("$path", $"backups/funnel-{clock.GetCurrentInstant().ToUnixTimeSeconds()}.db");
        backup.ExecuteNonQuery();
        // </snippet:storage-backup>
    }
}
