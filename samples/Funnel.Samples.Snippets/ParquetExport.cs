using Funnel.Analytics.Parquet;
using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/analytics.md's "Export to Parquet".</summary>
internal static class ParquetExportSnippets
{
    public static void Register(IServiceCollection services)
    {
        // <snippet:parquet-register>
        services.AddFunnelParquetExport(o =>
        {
            o.Directory = "/data/funnel-events";       // day=yyyy-MM-dd folders are created inside
            o.RowGroupSize = 50_000;                    // rows per row group (the default)
        });
        // </snippet:parquet-register>
    }

    public static async Task<ParquetExportResult> ExportAsync(ParquetEventExporter exporter, IFunnelEventLog log, CancellationToken cancellationToken)
    {
        // <snippet:parquet-export>
        // From a scheduled job: appends what the log gained since the last run, each event exactly once.
        ParquetExportResult result = await exporter.ExportAsync(log, cancellationToken);
        Console.WriteLine($"{result.Events} events into {result.Files.Length} files, up to log position {result.Position}");
        // </snippet:parquet-export>
        return result;
    }

    public static async Task<ParquetExportResult> SnapshotAsync(FunnelEventSerializer serializer, IAsyncEnumerable<FunnelEvent> events)
    {
        // <snippet:parquet-snapshot>
        var exporter = new ParquetEventExporter(serializer, new ParquetExportOptions { Directory = "/data/replay" });
        ParquetExportResult result = await exporter.ExportSnapshotAsync(events); // replaces the days it touches
        // </snippet:parquet-snapshot>
        return result;
    }
}
