using Funnel.Kpis;
using Funnel.Pipeline;
using Funnel.Storage.Sqlite;
using Microsoft.Extensions.Hosting;

namespace Funnel.Samples.Snippets;

/// <summary>The worker-service (Generic Host) variant of docs/getting-started.md.</summary>
internal static class WorkerSnippets
{
    public static async Task RunAsync(string[] args)
    {
        // <snippet:getting-started-worker>
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);

        builder.Services.AddFunnel(options => options.DefaultCurrency = "USD");
        builder.Services.AddFunnelSequences();                   // and the other feature packages you use
        builder.Services.AddFunnelSqlite($"Data Source={Path.Combine(builder.Environment.ContentRootPath, "App_Data", "funnel.db")}");
        builder.Services.AddFunnelHosting();                     // the pipeline and the job runner, as hosted services
        builder.Services.AddFunnelJob<EventCountJob>();          // your own recurring work, if any

        using IHost host = builder.Build();
        await host.RunAsync();                                   // until Ctrl+C or SIGTERM
        // </snippet:getting-started-worker>
    }
}

// <snippet:getting-started-worker-job>
/// <summary>Logs, every hour, how many events the log holds.</summary>
internal sealed class EventCountJob(IFunnelEventLog log, ILogger<EventCountJob> logger) : IFunnelJob
{
    public string Name => "event-count";

    public TimeSpan Interval => TimeSpan.FromHours(1);

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        long position = 0;
        int count = 0;
        while (true)
        {
            IReadOnlyList<LoggedEvent> page = await log.ReadAsync(position, 1000, cancellationToken);
            if (page.Count == 0)
            {
                break;
            }

            count += page.Count;
            position = page[^1].Position;
        }

        logger.LogInformation("The event log holds {Count} events.", count);
    }
}
// </snippet:getting-started-worker-job>
