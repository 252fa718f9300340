using Funnel.Events;
using Funnel.Storage.PostgreSql.Core;
using Funnel.Storage.PostgreSql.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Storage.PostgreSql.Tests;

/// <summary>The <c>funnel-postgresql</c> health check against a real server.</summary>
public sealed class HealthCheckTests : IAsyncDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 5, 9, 0);
    private readonly PgTestDatabases _databases = new();

    public ValueTask DisposeAsync() => new(_databases.DropAllAsync());

    [Fact]
    public async Task A_migrated_database_with_an_idle_queue_is_healthy_and_reports_its_version()
    {
        PgDatabase database = await _databases.CreateAsync();

        HealthCheckResult result = await CheckAsync(database);

        result.Status.ShouldBe(HealthStatus.Healthy, result.Description);
        result.Data["schemaVersion"].ShouldBe(FunnelPostgreSqlSchema.LatestVersion);
        result.Data["sendsDue"].ShouldBe(0L);
    }

    [Fact]
    public async Task A_send_due_for_longer_than_five_minutes_degrades_it_and_names_the_dispatcher()
    {
        PgDatabase database = await _databases.CreateAsync();
        await database.ExecuteAsync(
            "INSERT INTO funnel.outbox (key, enrolment_id, lead_id, sequence, step_index, scheduled_for, due_at, state) VALUES "
            + "('a:0', gen_random_uuid(), gen_random_uuid(), 's', 0, '2026-12-05 08:50Z', '2026-12-05 08:50Z', 0), "
            + "('b:0', gen_random_uuid(), gen_random_uuid(), 's', 0, '2026-12-05 08:58Z', '2026-12-05 08:58Z', 0), "
            + "('c:0', gen_random_uuid(), gen_random_uuid(), 's', 0, '2026-12-05 08:40Z', '2026-12-05 08:40Z', 2)");

        HealthCheckResult result = await CheckAsync(database);

        result.Status.ShouldBe(HealthStatus.Degraded);
        result.Description.ShouldNotBeNull().ShouldContain("2 due, the oldest for 10 min");
        result.Data["oldestDueSeconds"].ShouldBe(600L);
    }

    [Fact]
    public async Task It_reports_the_log_rows_not_yet_in_analytics_segments()
    {
        PgDatabase database = await _databases.CreateAsync();
        var log = new PgFunnelEventLog(database, Analytics.FunnelPostgreSqlAnalyticsTests.Serializer);
        var analytics = new FunnelPostgreSqlAnalytics(database, Analytics.FunnelPostgreSqlAnalyticsTests.Serializer);
        await log.AppendAsync([.. Enumerable.Range(0, 5).Select(i => new PageViewed { LeadId = LeadId.New(), OccurredAt = Now, Page = "/" + i })]);
        (await CheckAsync(database)).Data["analyticsRowsBehind"].ShouldBe(5L);

        await analytics.WriteAnalyticsSegmentsAsync();
        await log.AppendAsync([new PageViewed { LeadId = LeadId.New(), OccurredAt = Now, Page = "/" }]);

        HealthCheckResult result = await CheckAsync(database);
        result.Status.ShouldBe(HealthStatus.Healthy, result.Description);
        result.Data["analyticsRowsBehind"].ShouldBe(1L);
    }

    [Fact]
    public async Task A_schema_behind_the_package_is_unhealthy_and_the_probe_does_not_migrate_it()
    {
        string empty = await _databases.CreateEmptyAsync();
        await using PgDatabase database = new(new FunnelPostgreSqlOptions { ConnectionString = empty, Migrations = MigrationMode.None });

        HealthCheckResult result = await CheckAsync(database);

        result.Status.ShouldBe(HealthStatus.Unhealthy);
        result.Description.ShouldNotBeNull().ShouldContain("is at version 0");
        result.Description.ShouldContain("Migrations = Apply");
        (await CheckAsync(database)).Data["schemaVersion"].ShouldBe(0);
    }

    [Fact]
    public async Task An_unreachable_server_is_unhealthy_without_throwing()
    {
        await using PgDatabase database = new(new FunnelPostgreSqlOptions { ConnectionString = "Host=127.0.0.1;Port=1;Timeout=2;Username=nobody" });

        HealthCheckResult result = await CheckAsync(database);

        result.Status.ShouldBe(HealthStatus.Unhealthy);
        result.Description.ShouldNotBeNull().ShouldStartWith("Funnel cannot reach PostgreSQL");
    }

    [Fact]
    public async Task AddFunnelPostgreSql_registers_the_check_once_under_its_name()
    {
        ServiceCollection services = new();
        services.AddFunnel().AddFunnelPostgreSql("Host=127.0.0.1;Database=x").AddFunnelPostgreSql("Host=127.0.0.1;Database=x");
        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations
            .Count(r => r.Name == "funnel-postgresql").ShouldBe(1);
    }

    private static Task<HealthCheckResult> CheckAsync(PgDatabase database)
    {
        var check = new PgHealthCheck(database, new FakeClock(Now));
        return check.CheckHealthAsync(new HealthCheckContext
        {
            Registration = new HealthCheckRegistration("funnel-postgresql", check, HealthStatus.Unhealthy, ["funnel"]),
        });
    }
}
