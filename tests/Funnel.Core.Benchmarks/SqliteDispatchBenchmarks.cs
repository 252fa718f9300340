using System.Collections.Immutable;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Sequences;
using Funnel.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Benchmarks;

/// <summary>
/// Durable dispatch on SQLite: 20,000 due first emails of the nurture sequence (one per lead, consent given, so each
/// send also reserves the lead's day, schedules the next step and updates the enrolment) sent by the real
/// <see cref="SequenceEngine"/> resolved from <c>AddFunnelSequences</c> + <c>AddFunnelSqlite</c> with
/// <c>synchronous=FULL</c>, to a sender that does nothing. One operation is the whole dispatch until nothing is due,
/// including the event drain; the <c>Sends/s</c> column is the throughput. Aim: at least 4,000 sends/s on 2 cores.
/// </summary>
[Config(typeof(DispatchBenchmarkConfig))]
public class SqliteDispatchBenchmarks
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 24, 6, 0);
    private string _folder = null!;
    private ServiceProvider _provider = null!;
    private SequenceEngine _engine = null!;

    /// <summary>Gets or sets the number of due sends: 20,000, or <c>FUNNEL_BENCH_SENDS</c> when set (for a quick look).</summary>
    [ParamsSource(nameof(SendCounts))]
    public int Sends { get; set; }

    public static IEnumerable<int> SendCounts =>
        [int.Parse(Environment.GetEnvironmentVariable("FUNNEL_BENCH_SENDS") ?? "20000", CultureInfo.InvariantCulture)];

    [IterationSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), "funnel-sqlite-bench-" + Guid.NewGuid().ToString("N"));
        FakeClock clock = new(Start);
        ServiceCollection services = new();
        services.AddSingleton<IClock>(clock);
        services.AddFunnel(o => o.TimeZoneId = "Europe/Berlin");
        services.AddFunnelSequences();
        services.AddSingleton<IEmailSender>(new NoOpSender());
        services.AddSingleton(GuideSequences.Nurture);
        services.AddFunnelSqlite("Data Source=" + Path.Combine(_folder, "funnel.db"), o => o.Synchronous = SqliteSynchronous.Full);
        _provider = services.BuildServiceProvider();
        _engine = _provider.GetRequiredService<SequenceEngine>();
        ILeadStore leads = _provider.GetRequiredService<ILeadStore>();
        ConsentRecord consent = new() { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "bench", RecordedAt = Start };

        // Concurrent enrolments share commits, so seeding is quick; it is not measured.
        Parallel.ForAsync(0, Sends, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, ct) =>
        {
            LeadId id = new(new Guid(i, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0));
            await leads.TryAddAsync(
                new LeadProfile
                {
                    Id = id,
                    Email = EmailAddress.Parse($"lead{i}@example.com"),
                    CreatedAt = Start,
                    TimeZoneId = "Europe/Berlin",
                    Consent = consent,
                    CustomFields = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("first_name", "Lead" + i),
                },
                ct);
            await _engine.EnrolAsync(id, GuideSequences.Nurture.Key, Start, cancellationToken: ct);
        }).GetAwaiter().GetResult();
        clock.Advance(Duration.FromMinutes(1));
    }

    [IterationCleanup]
    public void Cleanup()
    {
        _provider.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark]
    public int DispatchDurably()
    {
        int sent = 0;
        while (true)
        {
            DispatchResult result = _engine.DispatchDueAsync().GetAwaiter().GetResult();
            sent += result.Sent;
            if (result.Claimed == 0)
            {
                return sent == Sends ? sent : throw new InvalidOperationException($"Sent {sent}, expected {Sends}.");
            }
        }
    }
}
