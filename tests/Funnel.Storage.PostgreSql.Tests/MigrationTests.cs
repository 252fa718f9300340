using Funnel.Storage.PostgreSql.Internal;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Tests;

public sealed class MigrationTests : IAsyncLifetime
{
    private readonly PgTestDatabases _databases = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _databases.DropAllAsync();

    [Fact]
    public async Task An_empty_database_gets_the_schema_and_a_second_run_changes_nothing()
    {
        string connectionString = await _databases.CreateEmptyAsync();
        await using (PgDatabase first = new(new FunnelPostgreSqlOptions { ConnectionString = connectionString }))
        {
            await first.EnsureReadyAsync(CancellationToken.None);
            (await first.ScalarAsync("SELECT count(*) FROM funnel.schema_migrations")).ShouldBe((long)FunnelPostgreSqlSchema.LatestVersion);
        }

        await using PgDatabase second = new(new FunnelPostgreSqlOptions { ConnectionString = connectionString });
        await second.EnsureReadyAsync(CancellationToken.None);
        (await second.ScalarAsync("SELECT count(*) FROM funnel.schema_migrations")).ShouldBe((long)FunnelPostgreSqlSchema.LatestVersion);
    }

    [Fact]
    public async Task Eight_instances_migrating_at_once_apply_each_script_once()
    {
        string connectionString = await _databases.CreateEmptyAsync();
        PgDatabase[] instances = [.. Enumerable.Range(0, 8).Select(_ => new PgDatabase(new FunnelPostgreSqlOptions { ConnectionString = connectionString }))];
        try
        {
            await Task.WhenAll(instances.Select(i => i.EnsureReadyAsync(CancellationToken.None)));
            (await instances[0].ScalarAsync("SELECT count(*) FROM funnel.schema_migrations")).ShouldBe((long)FunnelPostgreSqlSchema.LatestVersion);
        }
        finally
        {
            foreach (PgDatabase instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Validate_fails_on_an_empty_database_and_names_the_fix()
    {
        string connectionString = await _databases.CreateEmptyAsync();
        await using PgDatabase database = new(new FunnelPostgreSqlOptions { ConnectionString = connectionString, Migrations = MigrationMode.Validate });
        FunnelSchemaException error = await Should.ThrowAsync<FunnelSchemaException>(() => database.EnsureReadyAsync(CancellationToken.None));
        error.Message.ShouldContain("FunnelPostgreSqlSchema.Script()");
    }

    [Fact]
    public async Task The_exported_script_builds_a_schema_that_Validate_accepts_in_another_schema_name()
    {
        string connectionString = await _databases.CreateEmptyAsync();
        await using (NpgsqlDataSource source = NpgsqlDataSource.Create(connectionString))
        await using (NpgsqlCommand script = source.CreateCommand(FunnelPostgreSqlSchema.Script(0, "shop_funnel")))
        {
            await script.ExecuteNonQueryAsync();
        }

        await using PgDatabase database = new(new FunnelPostgreSqlOptions { ConnectionString = connectionString, Schema = "shop_funnel", Migrations = MigrationMode.Validate });
        await database.EnsureReadyAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_changed_script_fails_start_up()
    {
        PgDatabase database = await _databases.CreateAsync();
        await database.ExecuteAsync("UPDATE funnel.schema_migrations SET checksum = 'x' WHERE version = 1");
        await using PgDatabase again = new(database.Options);
        FunnelSchemaException error = await Should.ThrowAsync<FunnelSchemaException>(() => again.EnsureReadyAsync(CancellationToken.None));
        error.Message.ShouldContain("a shipped script changed");
    }
}
