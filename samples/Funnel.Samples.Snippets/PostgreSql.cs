using Funnel.Analytics;
using Funnel.Pipeline;
using Funnel.Storage;
using Funnel.Storage.PostgreSql;
using Npgsql;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/postgresql.md.</summary>
internal static class PostgreSqlSnippets
{
    public static void Register(WebApplicationBuilder builder)
    {
        // <snippet:postgresql-register>
        builder.Services.AddFunnelPostgreSql(builder.Configuration.GetConnectionString("Funnel")!);
        // </snippet:postgresql-register>
    }

    public static void DataSource(WebApplicationBuilder builder)
    {
        // <snippet:postgresql-data-source>
        // The app's own pool, shared with its other data access; Funnel adds no type mappings to it.
        NpgsqlDataSource dataSource = NpgsqlDataSource.Create(builder.Configuration.GetConnectionString("App")!);
        builder.Services.AddSingleton(dataSource);
        builder.Services.AddFunnelPostgreSql(dataSource, options => options.Schema = "funnel");
        // </snippet:postgresql-data-source>
    }

    public static void Options(WebApplicationBuilder builder)
    {
        // <snippet:postgresql-options>
        builder.Services.AddFunnelPostgreSql(builder.Configuration.GetConnectionString("Funnel")!, options =>
        {
            options.Schema = "funnel";                        // every Funnel table lives in this schema
            options.Migrations = MigrationMode.Validate;      // a DBA applies the script; start-up checks it
        });
        // </snippet:postgresql-options>
    }

    public static void Instances(WebApplicationBuilder builder)
    {
        // <snippet:postgresql-instances>
        builder.Services.Configure<FunnelPipelineOptions>(options =>
        {
            options.Partitions = 8;                           // ≥ the number of instances; a lead's events stay in one
            options.LeaseDuration = Duration.FromSeconds(30); // a dead instance's partitions move after this
        });
        // </snippet:postgresql-instances>
    }

    public static void AnalyticsSegments(WebApplicationBuilder builder)
    {
        // <snippet:postgresql-analytics-segments>
        builder.Services.AddFunnelPostgreSql(builder.Configuration.GetConnectionString("Funnel")!, options =>
            options.AnalyticsSegmentInterval = TimeSpan.FromMinutes(1)); // funnel loads read compact segments of the log
        // </snippet:postgresql-analytics-segments>
    }

    public static async Task<FunnelAnalysis> AnalyticsLoad(IServiceProvider services, FunnelQuery query)
    {
        // <snippet:postgresql-analytics-load>
        var analytics = services.GetRequiredService<FunnelPostgreSqlAnalytics>();
        var entered = new Interval(Instant.FromUtc(2026, 11, 1, 0, 0), Instant.FromUtc(2026, 12, 1, 0, 0));
        AnalyticsEventStore store = await analytics.LoadFunnelAsync(query, entered);  // segments, then the newest rows
        FunnelAnalysis answer = FunnelAnalyzer.Analyze(store, query);
        // </snippet:postgresql-analytics-load>
        return answer;
    }

    public static void Export()
    {
        // <snippet:postgresql-export>
        File.WriteAllText("funnel-postgresql.sql", FunnelPostgreSqlSchema.Script(fromVersion: 0, schema: "funnel"));
        // </snippet:postgresql-export>
    }
}
