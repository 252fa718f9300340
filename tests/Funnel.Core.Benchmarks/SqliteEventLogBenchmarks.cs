using BenchmarkDotNet.Attributes;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Benchmarks;

/// <summary>
/// The durable event log on SQLite (<c>AddFunnelSqlite</c>, <c>synchronous=FULL</c>: every commit waits for the disk):
/// appends in batches of 1,000 events from one caller, and appends of single events from 64 concurrent callers, which
/// the writer groups into shared commits. Reported per event; the goal is ≥ 50,000 events/s in batches.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 5, iterationCount: 10)]
public class SqliteEventLogBenchmarks
{
    private const int Batch = 1_000;
    private const int Batches = 20;
    private const int Callers = 64;
    private const int PerCaller = 50;
    private static readonly Instant Start = Instant.FromUtc(2026, 12, 1, 8, 0);
    private string _folder = string.Empty;
    private ServiceProvider _services = null!;
    private IFunnelEventLog _log = null!;
    private FunnelEvent[][] _batches = [];
    private FunnelEvent[][] _callers = [];

    /// <summary>Opens a fresh database file through the public DI surface, outside the measurement.</summary>
    [GlobalSetup]
    public void Open()
    {
        _folder = Path.Combine(Path.GetTempPath(), "funnel-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        _services = new ServiceCollection()
            .AddFunnel()
            .AddFunnelSqlite(
                $"Data Source={Path.Combine(_folder, "funnel.db")}", static o => o.Synchronous = SqliteSynchronous.Full)
            .BuildServiceProvider();
        _log = _services.GetRequiredService<IFunnelEventLog>();
    }

    /// <summary>Deletes the database file.</summary>
    [GlobalCleanup]
    public void Close()
    {
        _services.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>New events (new ids) for the next iteration, so every append inserts.</summary>
    [IterationSetup]
    public void NewEvents()
    {
        _batches = [.. Enumerable.Range(0, Batches).Select(_ => Events(Batch))];
        _callers = [.. Enumerable.Range(0, Callers).Select(_ => Events(PerCaller))];
    }

    /// <summary>20 appends of 1,000 events each, one after the other: one commit per append.</summary>
    /// <returns>The events appended.</returns>
    [Benchmark(OperationsPerInvoke = Batch * Batches)]
    public async Task<int> AppendBatchesOf1000()
    {
        int appended = 0;
        foreach (FunnelEvent[] batch in _batches)
        {
            appended += await _log.AppendAsync(batch).ConfigureAwait(false);
        }

        return appended == Batch * Batches ? appended : throw new InvalidOperationException($"Appended {appended}.");
    }

    /// <summary>64 callers each appending 50 single events in a row: appends waiting meanwhile share a commit.</summary>
    /// <returns>The events appended.</returns>
    [Benchmark(OperationsPerInvoke = Callers * PerCaller)]
    public async Task<int> AppendSingleEventsFrom64Callers()
    {
        int[] appended = await Task.WhenAll(_callers.Select(events => Task.Run(async () =>
        {
            int n = 0;
            foreach (FunnelEvent e in events)
            {
                n += await _log.AppendAsync([e]).ConfigureAwait(false);
            }

            return n;
        }))).ConfigureAwait(false);
        int total = appended.Sum();
        return total == Callers * PerCaller ? total : throw new InvalidOperationException($"Appended {total}.");
    }

    /// <summary>Page views and opt-ins of 100 leads, as a day of traffic would give them.</summary>
    private static FunnelEvent[] Events(int count)
    {
        FunnelEvent[] events = new FunnelEvent[count];
        LeadId[] leads = [.. Enumerable.Range(0, 100).Select(_ => LeadId.New())];
        for (int i = 0; i < count; i++)
        {
            LeadId lead = leads[i % leads.Length];
            Instant at = Start + Duration.FromSeconds(i);
            events[i] = i % 10 == 9
                ? new OptedIn
                {
                    LeadId = lead, OccurredAt = at, Magnet = "quick-start-guide",
                    Attribution = Attribution.FromUtm("facebook", "cpc", "launch"),
                }
                : new PageViewed
                {
                    LeadId = lead, OccurredAt = at,
                    Page = "/blog/post-" + (i % 7).ToString(System.Globalization.CultureInfo.InvariantCulture),
                };
        }

        return events;
    }
}
