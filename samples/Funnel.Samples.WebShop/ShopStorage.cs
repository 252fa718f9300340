using System.Data.Common;
using Funnel.Storage.PostgreSql;
using Funnel.Storage.Sqlite;

namespace Funnel.Samples.WebShop;

/// <summary>Where the shop keeps its data, picked by one setting: the connection string <c>ConnectionStrings:Funnel</c>.</summary>
/// <remarks>
/// <list type="bullet">
/// <item>Not set: one SQLite file, <c>funnel.db</c> in the data folder. One instance; nothing to install.</item>
/// <item><c>Data Source=…</c> (or <c>Filename=…</c>): that SQLite file.</item>
/// <item><c>Host=…</c> (or <c>Server=…</c>), an Npgsql connection string: PostgreSQL, schema <c>funnel</c>, created and
/// upgraded when the shop starts. Several instances of the shop may share it.</item>
/// </list>
/// Anything else stops the start with a message that says which forms work.
/// </remarks>
public static class ShopStorage
{
    /// <summary>The configuration key of the setting.</summary>
    public const string Setting = "ConnectionStrings:Funnel";

    /// <summary>Registers the storage that <see cref="Setting"/> picks and returns which it is.</summary>
    /// <param name="services">The shop's services.</param>
    /// <param name="configuration">The shop's configuration.</param>
    /// <param name="dataFolder">The shop's data folder, for the default SQLite file.</param>
    /// <returns>The storage chosen.</returns>
    /// <exception cref="InvalidOperationException">The connection string is neither a SQLite nor a PostgreSQL one.</exception>
    public static ShopStorageKind AddShopStorage(this IServiceCollection services, IConfiguration configuration, string dataFolder)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        // <snippet:webshop-storage>
        string? connectionString = configuration.GetConnectionString("Funnel");
        if (KindOf(connectionString) == ShopStorageKind.PostgreSql)
        {
            services.AddFunnelPostgreSql(connectionString!); // "Host=db.internal;Database=shop;Username=shop;Password=..."
            return ShopStorageKind.PostgreSql;
        }

        services.AddFunnelSqlite(connectionString ?? $"Data Source={Path.Combine(dataFolder, "funnel.db")}");
        return ShopStorageKind.Sqlite;
        // </snippet:webshop-storage>
    }

    /// <summary>Returns the storage a connection string names: SQLite when it is missing.</summary>
    /// <param name="connectionString">The value of <see cref="Setting"/>, or <see langword="null"/>.</param>
    /// <returns>The storage.</returns>
    /// <exception cref="InvalidOperationException">The connection string is neither a SQLite nor a PostgreSQL one.</exception>
    public static ShopStorageKind KindOf(string? connectionString)
    {
        if (connectionString is null)
        {
            return ShopStorageKind.Sqlite;
        }

        DbConnectionStringBuilder keys = new();
        try
        {
            keys.ConnectionString = connectionString;
        }
        catch (ArgumentException ex)
        {
            throw Misconfigured($"it is not a connection string ({ex.Message})", ex);
        }

        bool sqlite = keys.ContainsKey("Data Source") || keys.ContainsKey("DataSource") || keys.ContainsKey("Filename");
        bool postgres = keys.ContainsKey("Host") || keys.ContainsKey("Server");
        return (sqlite, postgres) switch
        {
            (true, false) => ShopStorageKind.Sqlite,
            (false, true) => ShopStorageKind.PostgreSql,
            (true, true) => throw Misconfigured("it names both a SQLite file (Data Source) and a PostgreSQL server (Host)"),
            _ => throw Misconfigured("it names neither a SQLite file (Data Source) nor a PostgreSQL server (Host)"),
        };
    }

    private static InvalidOperationException Misconfigured(string problem, Exception? inner = null) => new(
        $"The shop cannot tell where to keep its data from {Setting}: {problem}. Leave it unset for a SQLite file in the data " +
        "folder, or set it to \"Data Source=path/funnel.db\" (SQLite, one instance) or to " +
        "\"Host=...;Database=...;Username=...;Password=...\" (PostgreSQL, one or more instances).",
        inner);
}

/// <summary>The storage the shop runs on.</summary>
public enum ShopStorageKind
{
    /// <summary>One SQLite file: one instance.</summary>
    Sqlite,

    /// <summary>PostgreSQL: one or more instances on one database.</summary>
    PostgreSql,
}
