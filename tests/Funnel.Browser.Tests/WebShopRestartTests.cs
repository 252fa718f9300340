using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;
using Funnel.TestSupport;
using MimeKit;
using Xunit.Abstractions;

namespace Funnel.Browser.Tests;

/// <summary>
/// The WebShop as a real process on its default SQLite file, stopped (SIGTERM, and SIGKILL under load) and started
/// again on the same file: what it answered before the stop is all there after it.
/// </summary>
public sealed partial class WebShopRestartTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private const string ConfirmSubject = "Confirm your address";
    private const string GuideSubject = "Your E-Book Quick-Start Guide";

    private static readonly string WebShopDll = typeof(WebShopRestartTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "WebShopDll").Value!;

    private readonly string dataFolder = Path.Combine(Path.GetTempPath(), "funnel-webshop-restart", Guid.NewGuid().ToString("N"));
    private readonly int port = WebShopServer.FreePort();
    private Smtp4devServer smtp = null!;
    private WebhookRecorder recorder = null!;

    public async Task InitializeAsync()
    {
        smtp = await Smtp4devServer.StartAsync();
        recorder = new WebhookRecorder(new Uri($"http://127.0.0.1:{port}/funnel/webhooks/test"));
    }

    public void Dispose() => recorder?.Dispose();

    public async Task DisposeAsync()
    {
        recorder.Dispose();
        await smtp.DisposeAsync();
        if (Directory.Exists(dataFolder) && Environment.GetEnvironmentVariable("FUNNEL_KEEP_DATA") is null)
        {
            Directory.Delete(dataFolder, recursive: true);
        }
    }

    [Fact]
    public async Task GracefulRestart_KeepsLeadsLinksScheduledEmailsAndWebhookIdempotency()
    {
        string[] leads = [.. Enumerable.Range(1, 6).Select(i => $"restart{i}@example.com")];
        Dictionary<string, HttpClient> browsers = leads.ToDictionary(l => l, _ => Browser());
        Uri? webhookReply = null;
        await using (WebShopServer shop = await StartAsync())
        {
            foreach (string lead in leads)
            {
                (await OptInAsync(browsers[lead], lead)).StatusCode.ShouldBe(HttpStatusCode.SeeOther);
            }

            await WaitForAsync(ConfirmSubject, leads);
            foreach (string lead in leads[..3])
            {
                (await browsers[lead].GetAsync(await ConfirmationLinkAsync(lead))).StatusCode.ShouldBe(HttpStatusCode.Redirect);
            }

            await WaitForAsync(GuideSubject, leads[..3]);
            await BuyAsync(browsers[leads[0]]);
            webhookReply = await WaitAsync(() => recorder.Recorded.IsEmpty ? null : recorder.Recorded.First().Address, "the payment webhook relayed through the recorder");
            await shop.StopGracefullyAsync();
        }

        webhookReply.ShouldNotBeNull();
        await using (WebShopServer shop = await StartAsync())
        {
            // The links emailed before the restart still work: confirmations of leads stored before it, and unsubscribes.
            foreach (string lead in leads[3..5])
            {
                HttpResponseMessage confirmed = await browsers[lead].GetAsync(await ConfirmationLinkAsync(lead));
                confirmed.StatusCode.ShouldBe(HttpStatusCode.Redirect, shop.Log());
            }

            using FormUrlEncodedContent oneClick = new([new("List-Unsubscribe", "One-Click")]);
            using HttpClient client = Browser();
            HttpResponseMessage unsubscribed = await client.PostAsync(await UnsubscribeLinkAsync(leads[1]), oneClick);
            unsubscribed.StatusCode.ShouldBe(HttpStatusCode.OK, await unsubscribed.Content.ReadAsStringAsync());

            // The provider redelivers the payment webhook: the restarted shop knows it.
            (HttpStatusCode status, string body) = await recorder.ReplayFirstAsync();
            status.ShouldBe(HttpStatusCode.OK, body);
            body.ShouldContain("duplicate");

            await WaitForAsync(GuideSubject, leads[..5]);
            await Task.Delay(TimeSpan.FromSeconds(2)); // anything sent twice would arrive now
            IReadOnlyList<Smtp4devMessage> messages = await smtp.GetMessagesAsync();
            foreach (string lead in leads)
            {
                Count(messages, lead, ConfirmSubject).ShouldBe(1, lead);
                Count(messages, lead, GuideSubject).ShouldBe(Array.IndexOf(leads, lead) < 5 ? 1 : 0, lead);
            }
        }
    }

    [Fact]
    public async Task SigkillUnderLoad_EveryAnsweredOptInIsKeptAndGetsItsConfirmation()
    {
        ConcurrentBag<string> answered = [];
        int attempted = 0;
        await using (WebShopServer shop = await StartAsync())
        {
            using CancellationTokenSource stop = new();
            Task[] clients = [.. Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
            {
                using HttpClient browser = Browser();
                string token;
                try
                {
                    token = await TokenAsync(browser);
                }
                catch (HttpRequestException)
                {
                    return;
                }

                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    string email = $"load{worker}-{i}@example.com";
                    Interlocked.Increment(ref attempted);
                    try
                    {
                        using HttpResponseMessage response = await browser.PostAsync(new Uri("/funnel/opt-in", UriKind.Relative), OptInForm(token, email));
                        if (response.StatusCode == HttpStatusCode.SeeOther)
                        {
                            answered.Add(email);
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return; // the shop is gone: this opt-in was never answered
                    }
                }
            }))];

            await WaitAsync(() => answered.Count >= 300 ? "" : null, "300 answered opt-ins");
            await shop.KillAsync();
            await stop.CancelAsync();
            await Task.WhenAll(clients);
        }

        output.WriteLine($"{answered.Count} opt-ins answered 303 of {attempted} attempted before SIGKILL");
        await using (WebShopServer restarted = await StartAsync())
        {
            IReadOnlyList<Smtp4devMessage> confirmations;
            try
            {
                confirmations = await WaitForAsync(ConfirmSubject, [.. answered], TimeSpan.FromSeconds(120));
            }
            catch (TimeoutException)
            {
                HashSet<string> mailed = [.. (await smtp.GetMessagesAsync()).Where(m => m.Subject?.StartsWith(ConfirmSubject, StringComparison.Ordinal) == true).Select(m => m.To!.Single())];
                output.WriteLine($"{answered.Count(a => !mailed.Contains(a))} answered opt-ins have no confirmation, e.g. {string.Join(", ", answered.Where(a => !mailed.Contains(a)).Take(5))}");
                output.WriteLine(restarted.Log());
                throw;
            }

            var byLead = confirmations.GroupBy(m => m.To!.Single()).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
            string[] repeated = [.. byLead.Where(g => g.Value.Count > 1).Select(g => g.Key)];
            output.WriteLine($"{repeated.Length} confirmations were sent twice (accepted by SMTP after the last outcome flush before the kill)");
            foreach (string lead in repeated)
            {
                string[] ids = [.. await Task.WhenAll(byLead[lead].Select(async m => MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(await smtp.GetRawAsync(m.Id)))).MessageId ?? string.Empty))];
                ids.Distinct().ShouldHaveSingleItem($"a repeated send of {lead} carries the same Message-ID, so the receiving side can drop it");
            }

            repeated.Length.ShouldBeLessThanOrEqualTo(64, "only the sends in flight at the kill may repeat");
        }
    }

    private Task<WebShopServer> StartAsync() => WebShopServer.StartAsync(WebShopDll, new Dictionary<string, string>
    {
        ["Smtp:Host"] = smtp.Host,
        ["Smtp:Port"] = smtp.SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Smtp:Security"] = "None",
        ["Shop:DataFolder"] = dataFolder,
        ["Shop:DispatchSeconds"] = "0.2",
        ["Shop:SendLease"] = "00:00:10", // what a killed process had claimed comes back after 10 s
        ["Funnel:RateLimits:FormPermitLimit"] = "100000", // the load test's eight clients all post from 127.0.0.1
        ["Payments:WebhookUrl"] = recorder.Url.AbsoluteUri,
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
    }, port);

    private HttpClient Browser() => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{port}"),
        Timeout = TimeSpan.FromSeconds(30),
    };

    private static async Task<string> TokenAsync(HttpClient browser, string page = "/blog/write-a-best-selling-ebook-in-30-days")
    {
        string html = await browser.GetStringAsync(new Uri(page, UriKind.Relative));
        return TokenPattern().Match(html).Groups[1].Value;
    }

    private static FormUrlEncodedContent OptInForm(string token, string email) =>
        new([new("__RequestVerificationToken", token), new("magnet", "quick-start-guide"), new("email", email)]);

    private static async Task<HttpResponseMessage> OptInAsync(HttpClient browser, string email) =>
        await browser.PostAsync(new Uri("/funnel/opt-in", UriKind.Relative), OptInForm(await TokenAsync(browser), email));

    private static async Task BuyAsync(HttpClient browser)
    {
        string token = await TokenAsync(browser, "/checkout?offer=masterclass-basic");
        using FormUrlEncodedContent form = new([new("__RequestVerificationToken", token), new("offer", "masterclass-basic"), new("plan", ""), new("card", "4242 4242 4242 4242")]);
        (await browser.PostAsync(new Uri("/checkout", UriKind.Relative), form)).StatusCode.ShouldBe(HttpStatusCode.SeeOther);
    }

    private async Task<Uri> ConfirmationLinkAsync(string lead)
    {
        MimeMessage message = await MessageAsync(lead, ConfirmSubject);
        return new Uri(ConfirmPattern().Match(message.TextBody ?? string.Empty).Value);
    }

    private async Task<Uri> UnsubscribeLinkAsync(string lead)
    {
        MimeMessage message = await MessageAsync(lead, GuideSubject);
        return new Uri((message.Headers[HeaderId.ListUnsubscribe] ?? string.Empty).Split(',').Select(v => v.Trim().Trim('<', '>')).First(v => v.StartsWith("http", StringComparison.Ordinal)));
    }

    private async Task<MimeMessage> MessageAsync(string lead, string subject)
    {
        Smtp4devMessage summary = (await smtp.GetMessagesAsync()).First(m => m.To?.Contains(lead) == true && m.Subject?.StartsWith(subject, StringComparison.Ordinal) == true);
        return MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(await smtp.GetRawAsync(summary.Id))));
    }

    private async Task<IReadOnlyList<Smtp4devMessage>> WaitForAsync(string subject, IReadOnlyCollection<string> leads, TimeSpan? timeout = null)
    {
        HashSet<string> wanted = [.. leads];
        IReadOnlyList<Smtp4devMessage> found = [];
        await WaitAsync(async () =>
        {
            found = [.. (await smtp.GetMessagesAsync()).Where(m => m.Subject?.StartsWith(subject, StringComparison.Ordinal) == true && m.To?.Any(wanted.Contains) == true)];
            return found.Select(m => m.To!.Single()).Distinct().Count() == wanted.Count ? "" : null;
        }, $"'{subject}' to {wanted.Count} leads", timeout);
        return found;
    }

    private static int Count(IReadOnlyList<Smtp4devMessage> messages, string lead, string subject) =>
        messages.Count(m => m.To?.Contains(lead) == true && m.Subject?.StartsWith(subject, StringComparison.Ordinal) == true);

    private static Task<T> WaitAsync<T>(Func<T?> probe, string what, TimeSpan? timeout = null)
        where T : class => WaitAsync(() => Task.FromResult(probe()), what, timeout);

    private static async Task<T> WaitAsync<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null)
        where T : class
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            if (waited.Elapsed > (timeout ?? TimeSpan.FromSeconds(60)))
            {
                throw new TimeoutException($"Waited {waited.Elapsed.TotalSeconds:0} s for {what}.");
            }

            await Task.Delay(100);
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+/funnel/confirm\?\S+")]
    private static partial Regex ConfirmPattern();
}
