using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Segments;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql;
using Funnel.Storage.Sqlite;
using Funnel.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Benchmarks;

/// <summary>
/// A broadcast to 100,000 leads: the members of a tracked segment, each with consent and a time zone, are queued by
/// <see cref="BroadcastService.QueueDueAsync"/> and sent by <see cref="SequenceEngine.DispatchDueAsync"/> (suppression,
/// membership and frequency-cap checks included) to a sender that does nothing, through the in-memory stores, SQLite
/// (<c>synchronous=FULL</c>) or PostgreSQL (a private cluster with <c>fsync</c> on), all resolved from
/// <c>AddFunnelSequences</c>. One operation is the whole broadcast: queue, then dispatch until nothing is due,
/// including the event drain; the <c>Sends/s</c> column is the throughput.
/// </summary>
[Config(typeof(Configuration))]
public class BroadcastBenchmarks
{
    private static readonly Instant Start = Instant.FromUtc(2026, 12, 7, 6, 0);
    private PostgresServer? _server;
    private string? _folder;
    private ServiceProvider _provider = null!;
    private FakeClock _clock = null!;

    /// <summary>Gets or sets the number of leads in the segment: 100,000, or <c>FUNNEL_BENCH_SENDS</c> when set (for a quick look).</summary>
    [ParamsSource(nameof(SendCounts))]
    public int Sends { get; set; }

    /// <summary>Gets or sets the stores: <c>memory</c>, <c>sqlite</c> or <c>postgresql</c>.</summary>
    [Params("memory", "sqlite", "postgresql")]
    public string Store { get; set; } = "memory";

    public static IEnumerable<int> SendCounts =>
        [int.Parse(Environment.GetEnvironmentVariable("FUNNEL_BENCH_SENDS") ?? "100000", CultureInfo.InvariantCulture)];

    [GlobalSetup]
    public void StartServer()
    {
        if (Store == "postgresql")
        {
            _server = PostgresServer.StartAsync(durable: true).GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void StopServer() => _server?.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [IterationSetup]
    public void Setup()
    {
        _clock = new FakeClock(Start);
        ServiceCollection services = new();
        services.AddSingleton<IClock>(_clock);
        services.AddFunnel(o => o.TimeZoneId = "Europe/Berlin");
        services.AddFunnelSequences();
        services.AddSingleton<IEmailSender>(new NoOpSender());
        services.AddSingleton(new SegmentDefinition("newsletter", new TagRule("newsletter")));
        switch (Store)
        {
            case "sqlite":
                _folder = Path.Combine(Path.GetTempPath(), "funnel-broadcast-bench-" + Guid.NewGuid().ToString("N"));
                services.AddFunnelSqlite("Data Source=" + Path.Combine(_folder, "funnel.db"), o => o.Synchronous = SqliteSynchronous.Full);
                break;
            case "postgresql":
                services.AddFunnelPostgreSql(_server!.CreateDatabaseAsync().GetAwaiter().GetResult());
                break;
        }

        _provider = services.BuildServiceProvider();
        ILeadStore leads = _provider.GetRequiredService<ILeadStore>();
        ISegmentMembershipStore members = _provider.GetRequiredService<ISegmentMembershipStore>();
        ConsentRecord consent = new() { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "bench", RecordedAt = Start };
        string[] zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"];

        // Concurrent adds share commits, so seeding is quick; it is not measured.
        Parallel.ForAsync(0, Sends, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, ct) =>
        {
            LeadId id = new(new Guid(i, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0));
            await leads.TryAddAsync(
                new LeadProfile
                {
                    Id = id,
                    Email = EmailAddress.Parse($"reader{i}@example.com"),
                    CreatedAt = Start,
                    TimeZoneId = zones[i % zones.Length],
                    Consent = consent,
                },
                ct);
            await members.TryAddAsync(new SegmentMember { Segment = "newsletter", Lead = id, IsMember = true, ChangedAt = Start }, ct);
        }).GetAwaiter().GetResult();
        _provider.GetRequiredService<BroadcastService>().ScheduleAsync(new BroadcastDefinition
        {
            Key = "newsletter-" + Guid.NewGuid().ToString("N")[..8],
            Segment = "newsletter",
            Subject = "This week: three chapters in three days",
            TextBody = "Hi {{ email }}, here is this week's lesson.",
            SendAt = Start + Duration.FromMinutes(1),
        }).GetAwaiter().GetResult();
        _clock.Advance(Duration.FromMinutes(1));
    }

    [IterationCleanup]
    public void Cleanup()
    {
        _provider.Dispose();
        if (_folder is not null)
        {
            Directory.Delete(_folder, recursive: true);
            _folder = null;
        }
    }

    [Benchmark]
    public int Broadcast()
    {
        int queued = _provider.GetRequiredService<BroadcastService>().QueueDueAsync().GetAwaiter().GetResult();
        SequenceEngine engine = _provider.GetRequiredService<SequenceEngine>();
        int sent = 0;
        while (true)
        {
            DispatchResult result = engine.DispatchDueAsync().GetAwaiter().GetResult();
            sent += result.Sent;
            if (result.Claimed == 0)
            {
                return queued == Sends && sent == Sends ? sent : throw new InvalidOperationException($"Queued {queued} and sent {sent}, expected {Sends}.");
            }
        }
    }

    /// <summary>In process (the build of a separate benchmark process times out on a busy 2-core machine), one warm-up and three measured broadcasts, each with fresh stores.</summary>
    private sealed class Configuration : ManualConfig
    {
        public Configuration()
        {
            AddJob(Job.Default
                .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(60), logOutput: true))
                .WithStrategy(RunStrategy.Monitoring)
                .WithLaunchCount(1)
                .WithWarmupCount(1)
                .WithIterationCount(3));
            AddColumn(new SendsPerSecondColumn());
        }
    }
}
