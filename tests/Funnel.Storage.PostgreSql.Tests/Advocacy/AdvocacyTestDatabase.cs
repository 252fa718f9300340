using Funnel.Storage.PostgreSql.Internal;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Tests.Advocacy;

/// <summary>A test's own migrated database, whose advocacy tables <see cref="Empty"/> clears for each new store.</summary>
/// <remarks>
/// The specifications create their stores synchronously, the property tests a hundred times in one test. A database
/// per store would cost a <c>CREATE DATABASE</c> each; instead the test's database (created in
/// <see cref="InitializeAsync"/>) is emptied with one synchronous <c>DELETE</c> of the ten tables, so a store created
/// later starts empty and the earlier one of the same test is no longer used.
/// </remarks>
internal sealed class AdvocacyTestDatabase
{
    /// <summary>The tables of <c>0004_advocacy.sql</c>.</summary>
    public static readonly string[] Tables =
    [
        "affiliates", "affiliate_clicks", "affiliate_payouts", "affiliate_sales", "referrers", "referrals", "reviews",
        "course_progress", "entitlements", "webinar_registrations",
    ];

    private readonly PgTestDatabases _databases = new();
    private PgDatabase? _database;
    private bool _used;

    public async Task InitializeAsync() => _database = await _databases.CreateAsync();

    public Task DisposeAsync() => _databases.DropAllAsync();

    /// <summary>Returns the test's database with empty advocacy tables.</summary>
    public PgDatabase Empty()
    {
        PgDatabase database = _database ?? throw new InvalidOperationException("InitializeAsync has not run.");
        if (_used)
        {
            using NpgsqlConnection connection = database.DataSource.OpenConnection();
            using NpgsqlCommand clear = new(string.Concat(Tables.Select(t => $"DELETE FROM {database.Table(t)};")), connection);
            clear.ExecuteNonQuery();
        }

        _used = true;
        return database;
    }
}
