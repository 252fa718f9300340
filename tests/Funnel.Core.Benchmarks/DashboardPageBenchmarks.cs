using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Funnel.AspNetCore.Dashboard;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace Funnel.Benchmarks;

/// <summary>
/// Each dashboard page rendered by the real endpoint (Kestrel on 127.0.0.1, the dashboard mapped as an app maps it)
/// over a SQLite database of 1,000,000 leads and 10,000,000 events: the issue #20 aim is under 200 ms per page.
/// </summary>
/// <remarks>
/// The database is built once through the library's own stores (<see cref="ILeadStore.TryAddAsync"/>, batched
/// <see cref="IFunnelEventLog.AppendAsync"/>) and cached under the temp folder, keyed by <see cref="DatabaseVersion"/>
/// and its size, so reruns and the per-page processes reuse it. The sizes can be lowered for a trial run with the
/// <c>FUNNEL_BENCH_LEADS</c> and <c>FUNNEL_BENCH_EVENTS_PER_LEAD</c> environment variables.
/// One operation is one GET of the page, read to the end; the client and server share the process.
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(PageConfig))]
public class DashboardPageBenchmarks
{
    /// <summary>Bump when the data or its shape changes, so a cached database of the old shape is not reused.</summary>
    public const int DatabaseVersion = 1;

    private static readonly Instant Start = Instant.FromUtc(2026, 1, 1, 0, 0);
    private static readonly Currency Usd = Currency.USD;
    private WebApplication _app = null!;
    private HttpClient _client = null!;
    private string _path = string.Empty;

    /// <summary>Gets or sets the page, relative to the dashboard's prefix; <c>{lead}</c> stands for a lead in the middle.</summary>
    /// <remarks>The overview's range covers the generated traffic (2026-01-01 to 2026-01-12).</remarks>
    [ParamsSource(nameof(Pages))]
    public string Page { get; set; } = "/";

    /// <summary>Gets the pages measured: all, or those listed (comma-separated) in <c>FUNNEL_BENCH_PAGES</c>.</summary>
    public static IEnumerable<string> Pages =>
        Environment.GetEnvironmentVariable("FUNNEL_BENCH_PAGES") is { Length: > 0 } pages
            ? pages.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            :
            [
                "/?from=2026-01-01&to=2026-01-31", "/email", "/sequences", "/broadcasts", "/payments", "/webhooks", "/experiments",
                "/affiliates", "/pipeline", "/leads?email={email}", "/leads/{lead}",
            ];

    /// <summary>Gets the funnel the overview draws: blog visits, then guide downloads.</summary>
    public static FunnelDefinition Funnel { get; } = FunnelBuilder.Create("blog", "Blog to guide")
        .WithDefaultStages()
        .AddStep("visit", "Blog visitors", DefaultStages.Awareness.Key, StepKind.Content, EventMatch.For(EventTypes.PageViewed, "/blog/*"))
        .AddStep("opt-in", "Guide downloads", DefaultStages.Interest.Key, StepKind.OptIn, EventMatch.For(EventTypes.OptedIn, "guide"))
        .Build();

    private static int LeadCount => Setting("FUNNEL_BENCH_LEADS", 1_000_000);

    private static int EventsPerLead => Setting("FUNNEL_BENCH_EVENTS_PER_LEAD", 10);

    /// <summary>Builds the database if it is not cached, then serves the dashboard over it on Kestrel.</summary>
    /// <returns>A task that completes when the app is listening.</returns>
    [GlobalSetup]
    public async Task SetupAsync()
    {
        string database = await EnsureDatabaseAsync().ConfigureAwait(false);
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddFunnel(o => o.DefaultCurrency = "USD");
        builder.Services.AddFunnelSequences();
        builder.Services.AddFunnelCommerce();
        builder.Services.AddSingleton(GuideSequences.Nurture);
        builder.Services.AddFunnelSqlite($"Data Source={database}");
        builder.Services.AddFunnelDashboard(o =>
        {
            o.AllowAnonymousInDevelopment = true;
            o.Funnel = Funnel;
        });
        _app = builder.Build();
        _app.MapFunnelDashboard("/funnel-admin");
        await _app.StartAsync().ConfigureAwait(false);
        Uri address = new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        _client = new HttpClient { BaseAddress = address };
        int middle = LeadCount / 2;
        _path = "/funnel-admin" + Page
            .Replace("{email}", Uri.EscapeDataString(EmailOf(middle)), StringComparison.Ordinal)
            .Replace("{lead}", LeadOf(middle).Value.ToString("D"), StringComparison.Ordinal);
        await CatchUpAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Asks the page until its figures have read the whole log (what a restart costs), timing it, so the measured
    /// requests see the figures caught up; pages without kept figures answer at once.
    /// </summary>
    private async Task CatchUpAsync()
    {
        var clock = Stopwatch.StartNew();
        int requests = 0;
        while (true)
        {
            requests++;
            using HttpResponseMessage response = await _client.GetAsync(new Uri(_path, UriKind.Relative)).ConfigureAwait(false);
            string body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            if (!body.Contains("Catching up with the event log", StringComparison.Ordinal))
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }

        if (requests > 1)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"// Dashboard figures caught up with {(long)LeadCount * EventsPerLead:N0} events for {Page} in {clock.Elapsed.TotalSeconds:F1} s ({requests} requests); managed heap after a full GC {GC.GetTotalMemory(forceFullCollection: true) / 1_048_576.0:N0} MB"));
        }
    }

    /// <summary>Stops the app; the database stays cached.</summary>
    /// <returns>A task that completes when the app is stopped.</returns>
    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>One GET of the page, read to the end.</summary>
    /// <returns>The length of the page.</returns>
    [Benchmark]
    public async Task<int> Render()
    {
        using HttpResponseMessage response = await _client.GetAsync(new Uri(_path, UriKind.Relative)).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        return response.IsSuccessStatusCode ? body.Length : throw new InvalidOperationException($"{_path}: {response.StatusCode}");
    }

    /// <summary>Returns the cached database's path, building it first (timed, and the time written next to it) when absent.</summary>
    private static async Task<string> EnsureDatabaseAsync()
    {
        string root = Path.Combine(Path.GetTempPath(), "funnel-dashboard-bench");
        string folder = Path.Combine(root, string.Create(CultureInfo.InvariantCulture, $"v{DatabaseVersion}-{LeadCount}-{EventsPerLead}"));
        string database = Path.Combine(folder, "funnel.db");
        if (File.Exists(database))
        {
            return database;
        }

        // Built in a folder of its own and moved into place when complete, so an interrupted build is never reused.
        string building = Path.Combine(root, "building-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(building);
        var clock = Stopwatch.StartNew();
        (TimeSpan leads, TimeSpan events) = await FillAsync(Path.Combine(building, "funnel.db")).ConfigureAwait(false);
        string report = string.Create(CultureInfo.InvariantCulture,
            $"{LeadCount:N0} leads in {leads.TotalSeconds:F1} s, {(long)LeadCount * EventsPerLead:N0} events in {events.TotalSeconds:F1} s, total {clock.Elapsed.TotalSeconds:F1} s");
        await File.WriteAllTextAsync(Path.Combine(building, "build.txt"), report).ConfigureAwait(false);
        Console.WriteLine("// Dashboard database built: " + report);
        Directory.Move(building, folder);
        return database;
    }

    private static async Task<(TimeSpan Leads, TimeSpan Events)> FillAsync(string file)
    {
        // Normal, not Full: the build need not survive a power cut, and the pages read the same way either way.
        ServiceProvider services = new ServiceCollection()
            .AddFunnel(o => o.DefaultCurrency = "USD")
            .AddFunnelSequences()
            .AddFunnelCommerce()
            .AddFunnelSqlite($"Data Source={file}", static o => o.Synchronous = SqliteSynchronous.Normal)
            .BuildServiceProvider();
        await using (services.ConfigureAwait(false))
        {
            ILeadStore leads = services.GetRequiredService<ILeadStore>();
            var clock = Stopwatch.StartNew();
            const int Chunk = 1_000;
            for (int first = 0; first < LeadCount; first += Chunk)
            {
                // Concurrent adds share the writer's commits, as concurrent opt-ins do.
                bool[] added = await Task.WhenAll(Enumerable.Range(first, Math.Min(Chunk, LeadCount - first))
                    .Select(i => leads.TryAddAsync(Lead(i)))).ConfigureAwait(false);
                if (added.Contains(false))
                {
                    throw new InvalidOperationException($"A lead of {first}… was not added.");
                }
            }

            TimeSpan leadTime = clock.Elapsed;
            clock.Restart();
            IFunnelEventLog log = services.GetRequiredService<IFunnelEventLog>();
            Task<int> previous = Task.FromResult(0);
            long appended = 0;
            for (int first = 0; first < LeadCount; first += Chunk)
            {
                FunnelEvent[] batch = Events(first, Math.Min(Chunk, LeadCount - first));
                // One batch is serialized while the previous one is written.
                appended += await previous.ConfigureAwait(false);
                previous = log.AppendAsync(batch);
            }

            appended += await previous.ConfigureAwait(false);
            if (appended != (long)LeadCount * EventsPerLead)
            {
                throw new InvalidOperationException($"Appended {appended} events.");
            }

            TimeSpan eventTime = clock.Elapsed;
            return (leadTime, eventTime);
        }
    }

    private static LeadProfile Lead(int i) => new()
    {
        Id = LeadOf(i),
        Email = EmailAddress.Parse(EmailOf(i)),
        CreatedAt = Start + Duration.FromSeconds(i),
        FirstTouch = Attribution.FromUtm(i % 3 == 0 ? "facebook" : "google", "cpc", "launch"),
    };

    /// <summary>The events of a block of leads, interleaved as a day of traffic would give them: page views, an opt-in,
    /// welcome and nurture emails with opens and clicks, and for one lead in 20 an order and its payment.</summary>
    private static FunnelEvent[] Events(int first, int count)
    {
        var events = new List<FunnelEvent>(count * EventsPerLead);
        for (int step = 0; step < EventsPerLead; step++)
        {
            for (int i = first; i < first + count; i++)
            {
                LeadId lead = LeadOf(i);
                Instant at = Start + Duration.FromSeconds(i) + Duration.FromHours(step);
                Attribution source = Attribution.FromUtm(i % 3 == 0 ? "facebook" : "google", "cpc", "launch");
                bool buyer = i % 20 == 0;
                events.Add((step, buyer) switch
                {
                    (3, _) => new OptedIn { LeadId = lead, OccurredAt = at, Magnet = "guide", Attribution = source },
                    (4, _) => new EmailSent { LeadId = lead, OccurredAt = at, Email = "welcome" },
                    (5, _) => new EmailOpened { LeadId = lead, OccurredAt = at, Email = "welcome" },
                    (6, _) => new EmailSent { LeadId = lead, OccurredAt = at, Email = "opened-guide" },
                    (7, _) => new EmailClicked { LeadId = lead, OccurredAt = at, Email = "opened-guide" },
                    (8, true) => new OrderPlaced
                    {
                        LeadId = lead, OccurredAt = at, Order = OrderOf(i), Offer = new OfferId("masterclass"),
                        Total = new Money(19_900, Usd), Attribution = source,
                    },
                    (9, true) => new PaymentSucceeded { LeadId = lead, OccurredAt = at, Order = OrderOf(i), Amount = new Money(19_900, Usd) },
                    _ => new PageViewed
                    {
                        LeadId = lead, OccurredAt = at, Attribution = source,
                        Page = "/blog/post-" + (step % 7).ToString(CultureInfo.InvariantCulture),
                    },
                });
            }
        }

        return [.. events];
    }

    private static LeadId LeadOf(int i) => new(new Guid(i, 0x0da5, 0, new byte[8]));

    private static OrderId OrderOf(int i) => new(new Guid(i, 0x0da5, 1, new byte[8]));

    private static string EmailOf(int i) => string.Create(CultureInfo.InvariantCulture, $"lead{i}@example.com");

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : fallback;

    /// <summary>In process (no per-job rebuild of the solution; the first page's setup may build the database, hence the
    /// long timeout), 3 warm-up and 15 measured iterations, with the 95th percentile of the iterations next to the mean.</summary>
    private sealed class PageConfig : ManualConfig
    {
        public PageConfig()
        {
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(15).WithToolchain(
                new InProcessEmitToolchain(TimeSpan.FromHours(2), logOutput: true)));
            AddColumn(StatisticColumn.P95);
        }
    }
}
