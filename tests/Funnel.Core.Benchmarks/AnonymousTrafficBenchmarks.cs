using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Funnel.AspNetCore;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Sequences;
using Funnel.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Funnel.Benchmarks;

/// <summary>
/// A bounded load test of anonymous tracking traffic against the durable store (#17): page views posted to the real
/// <c>/funnel/page-view</c> and clicks requested from <c>/funnel/email/click/{token}</c> on Kestrel (127.0.0.1), on
/// SQLite, and what they add to the database: the events stored and the bytes the file grows by, reported per
/// million requests.
/// </summary>
/// <remarks>
/// <para>
/// Three traffic shapes, each <see cref="Requests"/> requests from 16 concurrent clients (the per-client rate limit
/// is switched off, as if the requests came from many addresses):
/// <list type="bullet">
/// <item><c>returning</c>: 1,000 visitors who keep their cookie, each viewing pages drawn from 20, again and again.</item>
/// <item><c>cookieless</c>: every page view from a client without the visitor cookie (a bot), so each is a new visitor.</item>
/// <item><c>clicks</c>: 1,000 emailed links (one lead each) requested again and again.</item>
/// </list>
/// One operation is the whole run; the figures are printed (<c>// growth:</c> lines in the log) and written to
/// <c>artifacts/anonymous-traffic-&lt;shape&gt;.txt</c>. Not run in CI: <c>dotnet run -c Release --project
/// tests/Funnel.Core.Benchmarks -- --filter '*AnonymousTraffic*'</c>; <c>FUNNEL_BENCH_REQUESTS</c> sets the count.
/// </para>
/// </remarks>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 0, iterationCount: 1)]
public class AnonymousTrafficBenchmarks
{
    private const int ClientCount = 16;
    private WebApplication app = null!;
    private HttpClient[] clients = [];
    private string folder = null!;
    private string[] clickPaths = [];
    private long startBytes;
    private long startEvents;

    /// <summary>Gets or sets the traffic shape: <c>returning</c>, <c>cookieless</c> or <c>clicks</c>.</summary>
    [Params("returning", "cookieless", "clicks")]
    public string Shape { get; set; } = "returning";

    /// <summary>Gets or sets the number of requests: 100,000, or <c>FUNNEL_BENCH_REQUESTS</c> when set.</summary>
    [ParamsSource(nameof(RequestCounts))]
    public int Requests { get; set; }

    public static IEnumerable<int> RequestCounts =>
        [int.Parse(Environment.GetEnvironmentVariable("FUNNEL_BENCH_REQUESTS") ?? "100000", CultureInfo.InvariantCulture)];

    [IterationSetup]
    public void Setup()
    {
        folder = Path.Combine(Path.GetTempPath(), "funnel-traffic-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        int port = FreePort();
        var tracking = new TrackingOptions { BaseUrl = $"http://127.0.0.1:{port}/funnel/email", SigningKey = Convert.ToBase64String(new byte[32]) };
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddFunnel(o => o.DefaultCurrency = "USD");
        builder.Services.AddFunnelSequences();
        builder.Services.Configure<SequenceOptions>(o => o.Tracking = tracking);
        builder.Services.AddSingleton<IEmailSender, NoOpSender>();
        builder.Services.AddFunnelAspNetCore(o =>
        {
            o.LeadMagnets.Add(new LeadMagnet { Key = "guide", Title = "The guide", Kind = LeadMagnetKind.Guide });
            o.RateLimits.Enabled = false;
        });
        builder.Services.AddFunnelSqlite($"Data Source={Path.Combine(folder, "funnel.db")}");
        app = builder.Build();
        app.UseRateLimiter();
        app.MapFunnel("/funnel");
        app.StartAsync().GetAwaiter().GetResult();

        var links = new TrackingLinks(tracking);
        clickPaths = [.. Enumerable.Range(0, 1000).Select(i =>
            links.Click(new LeadId(new Guid(i + 1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0)), "nurture-1", new Uri($"https://masterclass.example/offer/{i % 10}")).PathAndQuery)];
        var address = new Uri($"http://127.0.0.1:{port}");
        clients = [.. Enumerable.Range(0, ClientCount).Select(_ => new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false, // each client sends the cookie of the visitor it plays, or none
        }) { BaseAddress = address })];

        // One request first so the schema exists, then measure from there.
        SendPageViewAsync(clients[0], "/warm-up", visitor: null).GetAwaiter().GetResult();
        (startBytes, startEvents) = Measure();
    }

    [IterationCleanup]
    public void Cleanup()
    {
        foreach (HttpClient client in clients)
        {
            client.Dispose();
        }

        app.StopAsync().GetAwaiter().GetResult();
        app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        SqliteConnection.ClearAllPools();
        (long bytes, long events) = Measure();
        double perMillion = 1_000_000.0 / Requests;
        string report = string.Create(CultureInfo.InvariantCulture,
            $"// growth: shape={Shape} requests={Requests:N0} events+={events - startEvents:N0} bytes+={bytes - startBytes:N0} " +
            $"per-million: events={(events - startEvents) * perMillion:N0} MB={(bytes - startBytes) * perMillion / 1e6:N1}");
        Console.WriteLine(report);
        string artifacts = Path.Combine(FindRepositoryRoot(), "artifacts");
        Directory.CreateDirectory(artifacts);
        File.WriteAllText(Path.Combine(artifacts, $"anonymous-traffic-{Shape}.txt"), report + Environment.NewLine);
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    [Benchmark]
    public int Traffic()
    {
        int next = -1;
        Task.WhenAll(clients.Select((client, c) => Task.Run(async () =>
        {
            var random = new Random(c);
            for (int n; (n = Interlocked.Increment(ref next)) < Requests;)
            {
                switch (Shape)
                {
                    case "returning":
                        await SendPageViewAsync(client, $"/blog/post-{random.Next(20)}", new Guid(random.Next(1000) + 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0));
                        break;
                    case "cookieless":
                        await SendPageViewAsync(client, $"/blog/post-{random.Next(50)}", visitor: null);
                        break;
                    default:
                        using (HttpResponseMessage response = await client.GetAsync(new Uri(clickPaths[random.Next(clickPaths.Length)], UriKind.Relative)))
                        {
                            if (response.StatusCode != HttpStatusCode.Redirect)
                            {
                                throw new InvalidOperationException($"A click was answered {(int)response.StatusCode}.");
                            }
                        }

                        break;
                }
            }
        }))).GetAwaiter().GetResult();
        return Requests;
    }

    private static async Task SendPageViewAsync(HttpClient client, string page, Guid? visitor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/funnel/page-view", UriKind.Relative))
        {
            Content = new StringContent($$"""{"url":"https://masterclass.example{{page}}?utm_source=newsletter","title":"Post","referrer":"https://search.example/"}""", Encoding.UTF8, "application/json"),
        };
        if (visitor is { } id)
        {
            request.Headers.Add("Cookie", $"funnel_vid={id}");
        }

        using HttpResponseMessage response = await client.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"A page view was answered {(int)response.StatusCode}.");
        }
    }

    /// <summary>Returns the database's size after a checkpoint (file plus what is left of the write-ahead log) and the number of events in its log.</summary>
    private (long Bytes, long Events) Measure()
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(folder, "funnel.db")}");
        connection.Open();
        using (SqliteCommand checkpoint = connection.CreateCommand())
        {
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            checkpoint.ExecuteNonQuery();
        }

        using SqliteCommand count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM events";
        long events = (long)count.ExecuteScalar()!;
        long bytes = Directory.EnumerateFiles(folder).Sum(static f => new FileInfo(f).Length);
        return (bytes, events);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Funnel.Core.sln")))
            {
                return d.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
