using System.Net;
using System.Text.RegularExpressions;
using Funnel.AspNetCore;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Samples.WebShop;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.AspNetCore.Tests;

/// <summary>The WebShop sample with a fake clock, on its default SQLite storage in a temporary data folder, as the host of the Funnel endpoints under test.</summary>
/// <param name="connectionString">The shop's <c>ConnectionStrings:Funnel</c>; <see langword="null"/> for its default SQLite file.</param>
internal sealed partial class WebShopFactory(string? connectionString = null) : WebApplicationFactory<Program>
{
    public static readonly Instant Start = Instant.FromUtc(2026, 3, 2, 9, 0);

    /// <summary>This test process's folder for the shops' data, deleted when the process ends (whatever a dispose could not delete).</summary>
    private static readonly Lazy<string> DataRoot = new(static () =>
    {
        string root = Path.Combine(Path.GetTempPath(), "funnel-webshop-tests", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        Funnel.TestSupport.LeftoverCleanup.RemoveWhenProcessEnds(root);
        return root;
    });

    /// <summary>Gets the shop's data folder (its SQLite file and keys), deleted when the factory is disposed.</summary>
    public string DataFolder { get; } = Path.Combine(DataRoot.Value, Guid.NewGuid().ToString("N"));

    public FakeClock Clock { get; } = new(Start);

    /// <summary>Gets or sets a change to the Funnel options, applied after the shop's own (rate limits are off unless it turns them on).</summary>
    public Action<FunnelAspNetCoreOptions>? ConfigureFunnel { get; init; }

    /// <summary>Gets or sets services registered after the shop's own (such as email topics).</summary>
    public Action<IServiceCollection>? AddServices { get; init; }

    /// <summary>Gets what the shop logged.</summary>
    public CapturedLogs Logs { get; } = new();

    /// <summary>Gets every event in the shop's log, once the pipeline has delivered everything appended so far.</summary>
    public IReadOnlyList<FunnelEvent> Events
    {
        get
        {
            DeliverAll();
            IFunnelEventLog log = Services.GetRequiredService<IFunnelEventLog>();
            List<FunnelEvent> events = [];
            for (long after = 0; ;)
            {
                IReadOnlyList<LoggedEvent> page = log.ReadAsync(after, 1_000).GetAwaiter().GetResult();
                if (page.Count == 0)
                {
                    return events;
                }

                events.AddRange(page.Select(static e => e.Event));
                after = page[^1].Position;
            }
        }
    }

    /// <summary>Runs the pipeline until every handler has caught up (the hosted pipeline may be mid-pass: wait for it).</summary>
    public void DeliverAll()
    {
        FunnelPipeline pipeline = Services.GetRequiredService<FunnelPipeline>();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!pipeline.DeliverAsync().GetAwaiter().GetResult().CaughtUp)
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("The pipeline did not catch up in 30 s.");
            }

            Thread.Sleep(5);
        }
    }

    /// <summary>Gets the dev outbox once the background work has run: the pipeline delivered the events and the dispatcher sent what is due.</summary>
    public DevOutbox Outbox
    {
        get
        {
            Settle();
            return Services.GetRequiredService<DevOutbox>();
        }
    }

    /// <summary>Does what the hosted services would do next: deliver the logged events, send the due emails, deliver their events.</summary>
    /// <remarks>
    /// The shop's own dispatcher may run at the same time: the tests set its interval to an hour, but on PostgreSQL a
    /// new send wakes it at once (LISTEN/NOTIFY). A send it has claimed is skipped by this run, so wait until no send
    /// is being sent and none is due.
    /// </remarks>
    public void Settle()
    {
        DeliverAll();
        Funnel.Sequences.ISendOutbox outbox = Services.GetRequiredService<Funnel.Sequences.ISendOutbox>();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            foreach (IFunnelJob job in Services.GetServices<IFunnelJob>().Where(j => j.Name == "sequence-dispatch"))
            {
                job.RunAsync().GetAwaiter().GetResult();
            }

            DeliverAll();
            Instant now = Clock.GetCurrentInstant();
            bool busy = !outbox.ListAsync(Funnel.Sequences.SendState.Sending, 1).GetAwaiter().GetResult().IsEmpty
                || outbox.ListAsync(Funnel.Sequences.SendState.Pending, 1).GetAwaiter().GetResult().Any(e => e.DueAt <= now);
            if (!busy)
            {
                return;
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("Sends were still due or being sent after 30 s.");
            }

            Thread.Sleep(5);
        }
    }

    public HttpClient CreateBrowser() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    /// <summary>Loads the blog post and returns the antiforgery token of its opt-in form (the cookie stays in the client).</summary>
    public static async Task<string> AntiforgeryTokenAsync(HttpClient client, string page = "/blog/write-a-best-selling-ebook-in-30-days")
    {
        string html = await client.GetStringAsync(new Uri(page, UriKind.Relative));
        return TokenPattern().Match(html).Groups[1].Value;
    }

    public static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)));

    public static async Task<HttpResponseMessage> OptInAsync(HttpClient client, string email, params (string Key, string Value)[] extra)
    {
        string token = await AntiforgeryTokenAsync(client);
        (string, string)[] fields = [("__RequestVerificationToken", token), ("magnet", "quick-start-guide"), ("email", email), .. extra];
        return await client.PostAsync(new Uri("/funnel/opt-in", UriKind.Relative), Form(fields));
    }

    public static Uri Relative(Uri link) => new(link.PathAndQuery, UriKind.Relative);

    /// <summary>Buys an offer over HTTP with the test card 4242, then posts each of the provider's signed webhooks <paramref name="deliveries"/> times, each answered 200.</summary>
    public async Task PurchaseAsync(HttpClient client, string offer = "masterclass-basic", int deliveries = 1)
    {
        string checkout = await client.GetStringAsync(new Uri($"/checkout?offer={offer}", UriKind.Relative));
        using HttpResponseMessage placed = await client.PostAsync(new Uri("/checkout", UriKind.Relative), Form(
            ("__RequestVerificationToken", TokenPattern().Match(checkout).Groups[1].Value), ("offer", offer), ("plan", ""),
            ("card", "4242 4242 4242 4242")));
        placed.ShouldBeStatus(HttpStatusCode.SeeOther);
        foreach (Funnel.Payments.WebhookRequest webhook in Gateway.Webhooks)
        {
            for (int i = 0; i < deliveries; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/funnel/webhooks/test", UriKind.Relative))
                {
                    Content = new ByteArrayContent(webhook.Body.ToArray()),
                };
                foreach (KeyValuePair<string, string> header in webhook.Headers)
                {
                    request.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }

                using HttpResponseMessage answered = await client.SendAsync(request);
                answered.ShouldBeStatus(HttpStatusCode.OK);
            }
        }
    }

    public Funnel.Payments.InMemoryPaymentGateway Gateway => Services.GetRequiredService<Funnel.Payments.InMemoryPaymentGateway>();

    /// <summary>The dev outbox instead of smtp4dev, webhooks posted by the tests instead of the relay, a data folder of its own.</summary>
    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("Shop:DataFolder", DataFolder);
        if (connectionString is not null)
        {
            builder.UseSetting(ShopStorage.Setting, connectionString);
        }

        builder.UseSetting("Smtp4dev:Enabled", "false");
        builder.UseSetting("Payments:RelayWebhooks", "false");
        builder.UseSetting("Shop:PublicUrl", "http://localhost");
        builder.UseSetting("Shop:DispatchSeconds", "3600");
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IClock>(Clock);
            services.AddSingleton<ILoggerProvider>(Logs);
            AddServices?.Invoke(services);
            // Every test client shares one address: limits are tested where asked for (ConfigureFunnel), off elsewhere.
            services.Configure<FunnelAspNetCoreOptions>(o =>
            {
                o.RateLimits.Enabled = false;
                ConfigureFunnel?.Invoke(o);
            });
        });
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing)
        {
            return;
        }

        // A file can still appear in the folder while the shop stops (the delete once failed with "Directory not empty"
        // and so failed a test that had passed). Try a few times; what is left goes with the process's folder when the
        // process ends.
        for (int attempt = 0; attempt < 5 && Directory.Exists(DataFolder); attempt++)
        {
            try
            {
                Directory.Delete(DataFolder, recursive: true);
            }
            catch (IOException)
            {
                Thread.Sleep(100);
            }
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}

internal static class HttpAssertions
{
    public static void ShouldBeStatus(this HttpResponseMessage response, HttpStatusCode status) =>
        response.StatusCode.ShouldBe(status, response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
}
