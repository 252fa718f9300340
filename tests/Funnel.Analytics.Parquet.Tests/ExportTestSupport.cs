using System.Globalization;
using DuckDB.NET.Data;
using Funnel.Analytics.Parquet;
using Funnel.Events;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Analytics.Parquet.Tests;

/// <summary>A fresh folder under the temp path, deleted with everything in it when disposed.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "funnel-parquet-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>Events, an exporter and DuckDB queries over the exported files.</summary>
internal static class ExportTestSupport
{
    public static readonly FunnelEventSerializer Serializer = new(FunnelEventTypes.FromAssemblies(typeof(FunnelEvent).Assembly));

    public static LeadId Lead(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));

    public static ParquetEventExporter Exporter(string root, Action<ParquetExportOptions>? configure = null)
    {
        var options = new ParquetExportOptions { Directory = root };
        configure?.Invoke(options);
        return new ParquetEventExporter(Serializer, options);
    }

    public static async Task<InMemoryFunnelEventLog> LogOf(IEnumerable<FunnelEvent> events)
    {
        var log = new InMemoryFunnelEventLog();
        await log.AppendAsync([.. events]);
        return log;
    }

    public static async IAsyncEnumerable<FunnelEvent> Stream(IEnumerable<FunnelEvent> events)
    {
        foreach (FunnelEvent e in events)
        {
            await Task.Yield();
            yield return e;
        }
    }

    public static PageViewed View(int lead, Instant at, string page = "/") => new() { LeadId = Lead(lead), OccurredAt = at, Page = page };

    /// <summary>The <c>read_parquet</c> call over every file of a root, with the <c>day</c> column from the folders.</summary>
    public static string Files(string root) =>
        $"read_parquet('{root.Replace('\\', '/').Replace("'", "''", StringComparison.Ordinal)}/*/*.parquet', hive_partitioning = true)";

    /// <summary>Runs a query in a new in-memory DuckDB and returns every row.</summary>
    public static List<object?[]> Query(string sql)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using DuckDBCommand command = duck.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    public static long Count(string root) => Convert.ToInt64(Query($"SELECT COUNT(*) FROM {Files(root)}")[0][0], CultureInfo.InvariantCulture);

    /// <summary>Rows per day as <c>yyyy-MM-dd → count</c>.</summary>
    public static Dictionary<string, long> CountsPerDay(string root) =>
        Query($"SELECT CAST(day AS VARCHAR), COUNT(*) FROM {Files(root)} GROUP BY ALL ORDER BY 1").ToDictionary(
            r => (string)r[0]!,
            r => Convert.ToInt64(r[1], CultureInfo.InvariantCulture),
            StringComparer.Ordinal);

    /// <summary>Every file and folder under a root, relative, for asserting what is left behind.</summary>
    public static string[] Entries(string root) =>
        [.. Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Select(p => System.IO.Path.GetRelativePath(root, p).Replace('\\', '/')).Order(StringComparer.Ordinal)];
}
