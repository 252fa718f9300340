using System.Net;
using BenchmarkDotNet.Attributes;
using Funnel.AspNetCore;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Sequences;
using Funnel.Storage.Sqlite;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Funnel.Benchmarks;

/// <summary>
/// Double opt-ins posted to the real <c>/funnel/opt-in</c> endpoint on Kestrel (127.0.0.1), durable on SQLite with
/// <c>synchronous=FULL</c>: an opt-in is answered (303) once its lead and events are committed; the pipeline and the
/// dispatcher run in the same process and queue and send each confirmation email (to a no-op sender) meanwhile.
/// </summary>
/// <remarks>One invocation posts <see cref="OptIns"/> opt-ins from <see cref="Clients"/> concurrent clients; the mean per operation is the time per answered opt-in.</remarks>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 10)]
public class OptInHttpBenchmarks
{
    private const int OptIns = 3_000;
    private WebApplication app = null!;
    private HttpClient[] clients = null!;
    private string[] tokens = null!;
    private string folder = null!;
    private int round;

    [Params(64)]
    public int Clients { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        folder = Path.Combine(Path.GetTempPath(), "funnel-optin-bench", Guid.NewGuid().ToString("N"));
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddFunnel(o => o.DefaultCurrency = "USD");
        builder.Services.AddFunnelSequences();
        builder.Services.AddSingleton<IEmailSender, NoOpSender>();
        builder.Services.AddFunnelAspNetCore(o =>
        {
            o.LeadMagnets.Add(new LeadMagnet { Key = "guide", Title = "The guide", Kind = LeadMagnetKind.Guide, DoubleOptIn = true });
            o.OptInRedirect = "/check-your-inbox";
        });
        builder.Services.AddFunnelSequenceDispatcher(TimeSpan.FromMilliseconds(200));
        builder.Services.AddFunnelSqlite($"Data Source={Path.Combine(folder, "funnel.db")}");
        app = builder.Build();
        app.MapGet("/token", (HttpContext context, IAntiforgery antiforgery) => antiforgery.GetAndStoreTokens(context).RequestToken);
        app.MapFunnel("/funnel");
        await app.StartAsync();
        Uri address = new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        clients = new HttpClient[Clients];
        tokens = new string[Clients];
        for (int i = 0; i < Clients; i++)
        {
            clients[i] = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() }) { BaseAddress = address };
            tokens[i] = await clients[i].GetStringAsync(new Uri("/token", UriKind.Relative));
        }
    }

    [Benchmark(OperationsPerInvoke = OptIns)]
    public async Task AnsweredOptIns()
    {
        int r = Interlocked.Increment(ref round);
        int next = -1;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async c =>
        {
            for (int n; (n = Interlocked.Increment(ref next)) < OptIns;)
            {
                using FormUrlEncodedContent form = new([new("__RequestVerificationToken", tokens[c]), new("magnet", "guide"), new("email", $"r{r}-{n}@example.com")]);
                using HttpResponseMessage response = await clients[c].PostAsync(new Uri("/funnel/opt-in", UriKind.Relative), form);
                if (response.StatusCode != HttpStatusCode.SeeOther)
                {
                    throw new InvalidOperationException($"The opt-in was answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
            }
        }));
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        foreach (HttpClient client in clients)
        {
            client.Dispose();
        }

        await app.StopAsync();
        await app.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }

    private sealed class NoOpSender : IEmailSender
    {
        public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default) =>
            Task.FromResult(EmailSendResult.Sent("<" + message.IdempotencyKey + "@bench>"));
    }
}
