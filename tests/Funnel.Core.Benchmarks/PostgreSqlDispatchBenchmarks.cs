using System.Collections.Immutable;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql;
using Funnel.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Benchmarks;

/// <summary>
/// Durable dispatch on PostgreSQL: 20,000 due first emails of the nurture sequence (one per lead, consent given, so
/// each send also reserves the lead's day, schedules the next step and updates the enrolment) sent by the real
/// <see cref="SequenceEngine"/> resolved from <c>AddFunnelSequences</c> + <c>AddFunnelPostgreSql</c>, to a sender that
/// does nothing, on a private cluster with <c>fsync</c> and <c>synchronous_commit</c> on. With 2 dispatchers, two
/// service providers (two app instances, each with its own data source) dispatch from the one outbox at once. One
/// operation is the whole dispatch until nothing is due, including the event drain; the <c>Sends/s</c> column is the
/// throughput. Aim: at least 5,000 sends/s with two dispatchers on 2 cores (client and server on the same machine).
/// </summary>
[Config(typeof(DispatchBenchmarkConfig))]
public class PostgreSqlDispatchBenchmarks
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 24, 6, 0);
    private PostgresServer _server = null!;
    private ServiceProvider[] _instances = [];
    private SequenceEngine[] _engines = [];

    /// <summary>Gets or sets the number of due sends: 20,000, or <c>FUNNEL_BENCH_SENDS</c> when set (for a quick look).</summary>
    [ParamsSource(nameof(SendCounts))]
    public int Sends { get; set; }

    /// <summary>Gets or sets the number of dispatchers (app instances), each with its own engine and data source.</summary>
    [Params(1, 2)]
    public int Dispatchers { get; set; }

    public static IEnumerable<int> SendCounts =>
        [int.Parse(Environment.GetEnvironmentVariable("FUNNEL_BENCH_SENDS") ?? "20000", CultureInfo.InvariantCulture)];

    [GlobalSetup]
    public void StartServer() => _server = PostgresServer.StartAsync(durable: true).GetAwaiter().GetResult();

    [GlobalCleanup]
    public void StopServer() => _server.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [IterationSetup]
    public void Setup()
    {
        string connectionString = _server.CreateDatabaseAsync().GetAwaiter().GetResult();
        FakeClock clock = new(Start);
        _instances = [.. Enumerable.Range(0, Dispatchers).Select(_ => Instance(connectionString, clock))];
        _engines = [.. _instances.Select(static p => p.GetRequiredService<SequenceEngine>())];
        ConsentRecord consent = new() { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "bench", RecordedAt = Start };

        // Concurrent enrolments share commits, so seeding is quick; it is not measured. Each instance knows every lead
        // (an in-memory lead store is per instance; a shared one keeps the first add).
        Parallel.ForAsync(0, Sends, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, ct) =>
        {
            LeadId id = new(new Guid(i, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0));
            LeadProfile lead = new()
            {
                Id = id,
                Email = EmailAddress.Parse($"lead{i}@example.com"),
                CreatedAt = Start,
                TimeZoneId = "Europe/Berlin",
                Consent = consent,
                CustomFields = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("first_name", "Lead" + i),
            };
            foreach (ServiceProvider instance in _instances)
            {
                await instance.GetRequiredService<ILeadStore>().TryAddAsync(lead, ct);
            }

            await _engines[0].EnrolAsync(id, GuideSequences.Nurture.Key, Start, cancellationToken: ct);
        }).GetAwaiter().GetResult();
        clock.Advance(Duration.FromMinutes(1));
    }

    [IterationCleanup]
    public void Cleanup()
    {
        foreach (ServiceProvider instance in _instances)
        {
            instance.Dispose();
        }
    }

    [Benchmark]
    public int DispatchDurably()
    {
        int[] sent = Task.WhenAll(_engines.Select(static engine => Task.Run(async () =>
        {
            int count = 0;
            while (true)
            {
                DispatchResult result = await engine.DispatchDueAsync();
                count += result.Sent;
                if (result.Claimed == 0)
                {
                    return count;
                }
            }
        }))).GetAwaiter().GetResult();
        int total = sent.Sum();
        return total == Sends ? total : throw new InvalidOperationException($"Sent {total}, expected {Sends}.");
    }

    private static ServiceProvider Instance(string connectionString, FakeClock clock)
    {
        ServiceCollection services = new();
        services.AddSingleton<IClock>(clock);
        services.AddFunnel(o => o.TimeZoneId = "Europe/Berlin");
        services.AddFunnelSequences();
        services.AddSingleton<IEmailSender>(new NoOpSender());
        services.AddSingleton(GuideSequences.Nurture);
        services.AddFunnelPostgreSql(connectionString);
        return services.BuildServiceProvider();
    }
}
