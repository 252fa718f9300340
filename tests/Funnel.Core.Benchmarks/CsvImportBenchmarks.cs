using System.Text;
using BenchmarkDotNet.Attributes;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Leads.Csv;
using Funnel.Pipeline;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Benchmarks;

/// <summary>
/// Importing a 1,000,000-row CSV file (email, first and last name, tags, consent, time zone; about 90 MB) from disk.
/// <see cref="IntoInMemoryStore"/> keeps every lead and consent event (the store's memory, not the importer's);
/// <see cref="ImporterOnly"/> writes to a store and log that keep nothing, so its peak heap is the importer's own:
/// it stays flat with the file's size because rows are read one at a time and written in batches of 1,000.
/// Reported per row (OperationsPerInvoke).
/// </summary>
[MemoryDiagnoser]
public class CsvImportBenchmarks
{
    private const int Rows = 1_000_000;
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 5, 12, 0);
    private string _path = null!;
    private PeakSampler _sampler = null!;

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"funnel-import-{Environment.ProcessId}.csv");
        string[] zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", ""];
        using StreamWriter writer = new(_path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        writer.Write("Email,First Name,Last Name,Tags,Consent,Time Zone\r\n");
        for (int i = 0; i < Rows; i++)
        {
            writer.Write($"Lead{i}@Example.com,First{i % 5_000},\"Last, {i % 977}\",vip;cohort-{i % 12},{(i % 4 == 0 ? "no" : "yes")},{zones[i % 4]}\r\n");
        }

        writer.Flush();
        Console.WriteLine($"// File: {new FileInfo(_path).Length / 1_048_576.0:N1} MiB, {Rows:N0} rows");
        _sampler = new PeakSampler();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// Peak live managed heap while importing (ImporterOnly, whole process): {_sampler.PeakBytes / 1_048_576.0:N1} MiB");
        File.Delete(_path);
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public Task<LeadImportResult> IntoInMemoryStore() => ImportAsync(new InMemoryLeadStore(), new InMemoryFunnelEventLog());

    [Benchmark(OperationsPerInvoke = Rows)]
    public Task<LeadImportResult> ImporterOnly() => ImportAsync(new DiscardingLeadStore(_sampler), new DiscardingEventLog());

    private async Task<LeadImportResult> ImportAsync(ILeadStore store, IFunnelEventLog log)
    {
        LeadCsvImporter importer = new(store, log, new FakeClock(Now), new LeadCsvOptions());
        await using FileStream file = new(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        LeadImportResult result = await importer.ImportAsync(file, new LeadImportRequest { Source = "benchmark" });
        return result.Created == Rows ? result : throw new InvalidOperationException($"Imported {result.Created:N0} of {Rows:N0}: {result.Rejected.FirstOrDefault()}");
    }

    /// <summary>Keeps the largest live managed heap seen (after a full collection), sampled every 100,000 stored leads.</summary>
    private sealed class PeakSampler
    {
        private long _count;

        public long PeakBytes { get; private set; }

        public void Tick()
        {
            if (++_count % 100_000 == 0)
            {
                PeakBytes = Math.Max(PeakBytes, GC.GetTotalMemory(forceFullCollection: true));
            }
        }
    }

    /// <summary>A lead store that finds nothing and keeps nothing: every row is a new lead.</summary>
    private sealed class DiscardingLeadStore(PeakSampler sampler) : ILeadStore
    {
        public Task<LeadProfile?> FindAsync(LeadId id, CancellationToken cancellationToken = default) => Task.FromResult<LeadProfile?>(null);

        public Task<LeadProfile?> FindByEmailAsync(EmailAddress email, CancellationToken cancellationToken = default) => Task.FromResult<LeadProfile?>(null);

        public Task<bool> TryAddAsync(LeadProfile profile, CancellationToken cancellationToken = default)
        {
            sampler.Tick();
            return Task.FromResult(true);
        }

        public Task<bool> TryUpdateAsync(LeadProfile current, LeadProfile replacement, CancellationToken cancellationToken = default) => Task.FromResult(true);
    }

    private sealed class DiscardingEventLog : IFunnelEventLog
    {
        public Task<int> AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default) => Task.FromResult(events.Count);

        public Task<IReadOnlyList<LoggedEvent>> ReadAsync(long after, int max, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<LoggedEvent>>([]);

        public Task<IReadOnlyList<LoggedEvent>> ReadLeadAsync(LeadId lead, int max, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<LoggedEvent>>([]);
    }
}
