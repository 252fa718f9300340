using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Payments;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Funnel.AspNetCore.Tests;

/// <summary>One regression test per finding of issue 17 in the endpoints and webhooks.</summary>
public sealed class HardeningTests
{
    private static readonly Uri OptInPath = new("/funnel/opt-in", UriKind.Relative);

    [Fact]
    public async Task Unsubscribe_ForgedTokenWithHugeForm_Returns400NamingTheTokenWithoutReadingTheBody()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        using var content = new StringContent("List-Unsubscribe=One-Click&x=" + new string('a', 5 * 1024 * 1024), Encoding.ASCII, "application/x-www-form-urlencoded");

        using HttpResponseMessage response = await client.PostAsync(new Uri("/funnel/email/unsubscribe/forged", UriKind.Relative), content);

        await response.ShouldBeProblemForAsync("token");
        shop.Logs.Entries.ShouldNotContain(e => e.Level >= LogLevel.Error);
    }

    [Theory]
    [InlineData("value")]
    [InlineData("keys")]
    [InlineData("multipart")]
    public async Task Unsubscribe_ValidTokenWithFormOverItsLimitsOrBroken_Returns4xxNamingTheBody(string kind)
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        LeadId lead = await OptedInLeadAsync(shop, client);
        Uri link = WebShopFactory.Relative(shop.Services.GetRequiredService<TrackingLinks>().Unsubscribe(lead, "nurture-1"));
        using HttpContent content = kind switch
        {
            "value" => new StringContent("List-Unsubscribe=One-Click&x=" + new string('a', 4 * 1024 * 1024 + 1), Encoding.ASCII, "application/x-www-form-urlencoded"),
            "keys" => new StringContent(string.Join('&', Enumerable.Range(0, 40).Select(i => $"k{i}=v")), Encoding.ASCII, "application/x-www-form-urlencoded"),
            _ => BrokenMultipart(),
        };

        using HttpResponseMessage response = await client.PostAsync(link, content);

        ((int)response.StatusCode).ShouldBeInRange(400, 499);
        await response.ShouldBeProblemForAsync("body", response.StatusCode);
        (await shop.Services.GetRequiredService<ILeadStore>().FindAsync(lead))!.UnsubscribedAt.ShouldBeNull();
        shop.Logs.Entries.ShouldNotContain(e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task OptIn_NulInAField_Returns400NamingTheInvalidCharactersNotTheAntiforgeryToken()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        // The form reader refuses a NUL itself (so the field is not known); other control characters name the field.
        using HttpResponseMessage nul = await WebShopFactory.OptInAsync(client, "ada\0@example.com");
        using HttpResponseMessage control = await WebShopFactory.OptInAsync(client, "ada@example.com", ("utm_source", "news\u0001letter"));

        (await nul.ShouldBeProblemForAsync("body")).ShouldContain("invalid characters");
        (await control.ShouldBeProblemForAsync("utm_source")).ShouldContain("control characters");
        shop.Events.OfType<OptedIn>().ShouldBeEmpty();
    }

    [Theory]
    [InlineData("utm_campaign")]
    [InlineData("utm_term")]
    [InlineData("referrer")]
    public async Task OptIn_ControlCharacterInAnAttributionField_Returns400NamingThatFormField(string field)
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        // The domain's AttributionValidator rejects it under "Attribution.<Property>"; the endpoint names the form field.
        using HttpResponseMessage response = await WebShopFactory.OptInAsync(client, "ada@example.com", (field, "spring\u0007launch"));

        (await response.ShouldBeProblemForAsync(field)).ShouldContain("control characters");
        shop.Events.ShouldBeEmpty();
    }

    [Fact]
    public async Task OptIn_OversizedForm_Returns413NamingTheBodyNotTheAntiforgeryToken()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await WebShopFactory.OptInAsync(client, "ada@example.com", ("utm_campaign", new string('c', 100 * 1024)));

        await response.ShouldBeProblemForAsync("body", HttpStatusCode.RequestEntityTooLarge);
        shop.Events.OfType<OptedIn>().ShouldBeEmpty();
    }

    [Fact]
    public async Task OptIn_UtmCampaignOverTheFieldLimit_Returns400NamingTheFieldAndStoresNothing()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await WebShopFactory.OptInAsync(client, "ada@example.com", ("utm_campaign", new string('c', 3000)));

        await response.ShouldBeProblemForAsync("utm_campaign");
        shop.Events.OfType<OptedIn>().ShouldBeEmpty();
    }

    [Fact]
    public async Task OptIn_ClientDisconnectsMidBody_LogsNoError()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string token = await WebShopFactory.AntiforgeryTokenAsync(client);
        using var content = new StreamContent(new BreakingStream(Encoding.ASCII.GetBytes($"__RequestVerificationToken={token}&email=ada%40example.com&magnet=")));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");

        await Should.ThrowAsync<Exception>(() => client.PostAsync(OptInPath, content));

        shop.Logs.Entries.ShouldNotContain(e => e.Level >= LogLevel.Error, string.Join("\n", shop.Logs.Entries.Select(e => $"{e.Level} {e.Category}: {e.Message}")));
        shop.Events.OfType<OptedIn>().ShouldBeEmpty();
    }

    [Fact]
    public async Task OptIn_SecondOptInForTheSameAddress_LeavesTheFirstEmailedLinkWorking()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        using HttpClient stranger = shop.CreateBrowser();
        (await WebShopFactory.OptInAsync(client, "ada@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        Uri first = shop.Outbox.Snapshot().ShouldHaveSingleItem().ConfirmationLink!;

        (await WebShopFactory.OptInAsync(stranger, "ada@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        using HttpResponseMessage confirmed = await client.GetAsync(WebShopFactory.Relative(first));

        shop.Events.OfType<ConfirmationRequested>().Count().ShouldBe(2);
        confirmed.ShouldBeStatus(HttpStatusCode.Redirect);
        shop.Events.OfType<OptInConfirmed>().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task OptIn_ManyOptInsForOneAddress_SendsAtMostThePolicysConfirmationEmailsPerWindow()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        for (int i = 0; i < 12; i++)
        {
            (await WebShopFactory.OptInAsync(client, "ada@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        }

        shop.Events.OfType<OptedIn>().Count().ShouldBe(12);
        shop.Events.OfType<ConfirmationRequested>().Count().ShouldBe(ConfirmationPolicy.Default.MaxEmailsPerWindow);
        shop.Clock.Advance(ConfirmationPolicy.Default.EmailWindow);
        (await WebShopFactory.OptInAsync(client, "ada@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        shop.Events.OfType<ConfirmationRequested>().Count().ShouldBe(ConfirmationPolicy.Default.MaxEmailsPerWindow + 1);
    }

    [Fact]
    public async Task OptIn_OverTheClientsRateLimit_Returns429ProblemWithRetryAfter()
    {
        using var shop = new WebShopFactory { ConfigureFunnel = o => { o.RateLimits.Enabled = true; o.RateLimits.FormPermitLimit = 2; } };
        using HttpClient client = shop.CreateBrowser();

        HttpStatusCode[] statuses = new HttpStatusCode[3];
        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage response = await WebShopFactory.OptInAsync(client, $"ada{i}@example.com");
            statuses[i] = response.StatusCode;
            if (i == 2)
            {
                response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
                (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetInt32().ShouldBe(429);
                response.Headers.RetryAfter.ShouldNotBeNull();
            }
        }

        statuses.ShouldBe([HttpStatusCode.SeeOther, HttpStatusCode.SeeOther, HttpStatusCode.TooManyRequests]);
        shop.Events.OfType<OptedIn>().Count().ShouldBe(2);
    }

    [Fact]
    public async Task Click_RequestedManyTimesInTheWindow_RecordsOneClick()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        LeadId lead = LeadId.New();
        TrackingLinks links = shop.Services.GetRequiredService<TrackingLinks>();
        Uri click = WebShopFactory.Relative(links.Click(lead, "nurture-1", new Uri("http://localhost/sales")));
        Uri other = WebShopFactory.Relative(links.Click(lead, "nurture-1", new Uri("http://localhost/pricing")));

        for (int i = 0; i < 20; i++)
        {
            using HttpResponseMessage response = await client.GetAsync(click);
            response.ShouldBeStatus(HttpStatusCode.Redirect);
        }

        (await client.GetAsync(other)).Dispose();
        for (int i = 0; i < 5; i++)
        {
            (await client.GetAsync(WebShopFactory.Relative(links.OpenPixel(lead, "nurture-1")))).Dispose();
        }

        shop.Events.OfType<EmailClicked>().Select(c => c.Url).Order(StringComparer.Ordinal).ShouldBe(["http://localhost/pricing", "http://localhost/sales"]);
        shop.Events.OfType<EmailOpened>().ShouldHaveSingleItem();
        shop.Clock.Advance(NodaTime.Duration.FromHours(1));
        (await client.GetAsync(click)).Dispose();
        shop.Events.OfType<EmailClicked>().Count().ShouldBe(3);
    }

    [Fact]
    public async Task PageView_RepeatsAndPagesOverTheVisitorsCap_AreNotStored()
    {
        using var shop = new WebShopFactory { ConfigureFunnel = o => o.MaxPageViewsPerVisitor = 3 };
        using HttpClient client = shop.CreateBrowser();

        foreach (string page in new[] { "/a", "/a", "/b", "/c", "/d" })
        {
            using HttpResponseMessage response = await client.PostAsJsonAsync(new Uri("/funnel/page-view", UriKind.Relative), new { url = page });
            response.ShouldBeStatus(HttpStatusCode.NoContent);
        }

        shop.Events.OfType<PageViewed>().Select(p => p.Page).ShouldBe(["/a", "/b"]);
    }

    [Fact]
    public async Task Webhook_UnknownOrder_IsParkedWithTheReasonAnswered200AndNotRetried()
    {
        using var shop = new WebShopFactory { ConfigureFunnel = o => o.UnprocessableWebhooksThreshold = 2 };
        using HttpClient client = shop.CreateBrowser();
        WebhookRequest first = await WebhookEndpointTests.ChargeUnknownOrderAsync(shop, "unknown-1");
        WebhookRequest second = await WebhookEndpointTests.ChargeUnknownOrderAsync(shop, "unknown-2");
        HealthCheckService health = shop.Services.GetRequiredService<HealthCheckService>();

        using HttpResponseMessage response = await WebhookEndpointTests.PostAsync(client, first);
        using HttpResponseMessage replay = await WebhookEndpointTests.PostAsync(client, first);
        HealthReport oneParked = await health.CheckHealthAsync(r => r.Name == "funnel-webhooks");
        (await WebhookEndpointTests.PostAsync(client, second)).Dispose();
        HealthReport twoParked = await health.CheckHealthAsync(r => r.Name == "funnel-webhooks");
        WebhookProcessor processor = shop.Services.GetRequiredKeyedService<WebhookProcessor>("test");
        shop.Clock.Advance(NodaTime.Duration.FromHours(1));
        var retried = await processor.RetryFailedAsync();

        response.ShouldBeStatus(HttpStatusCode.OK);
        JsonElement body = await response.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("status").GetString().ShouldBe("unprocessable");
        body.GetProperty("reason").GetString()!.ShouldContain("unknown");
        (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString().ShouldBe("duplicate");
        var parked = await shop.Services.GetRequiredService<IWebhookEventStore>().ListAsync(WebhookEventStatus.Unprocessable, 10);
        parked.Length.ShouldBe(2);
        parked[0].Error!.ShouldContain("unknown");
        (await shop.Services.GetRequiredService<IWebhookEventStore>().ListAsync(WebhookEventStatus.Failed, 10)).ShouldBeEmpty();
        retried.ShouldBeEmpty();
        oneParked.Status.ShouldBe(HealthStatus.Healthy);
        twoParked.Status.ShouldBe(HealthStatus.Degraded);
        shop.Logs.Entries.Count(e => e.Level == LogLevel.Warning && e.Category.EndsWith("WebhookEndpoints", StringComparison.Ordinal)).ShouldBe(2);
    }

    private static async Task<LeadId> OptedInLeadAsync(WebShopFactory shop, HttpClient client)
    {
        (await WebShopFactory.OptInAsync(client, "grace@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        return shop.Events.OfType<OptedIn>().Single().LeadId;
    }

    private static StringContent BrokenMultipart()
    {
        var content = new StringContent("--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b", Encoding.ASCII);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
        return content;
    }

    /// <summary>A request body that sends its first bytes, then fails as a dropped connection does.</summary>
    private sealed class BreakingStream(byte[] start) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= start.Length)
            {
                throw new IOException("The connection was reset.");
            }

            int n = Math.Min(count, start.Length - _position);
            Array.Copy(start, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
