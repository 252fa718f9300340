using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Email.SendGrid.Tests;

public sealed class SendGridWebhookTests : IAsyncLifetime, IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 24, 9, 0);
    private readonly ECDsa _signingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly FakeClock _clock = new(Now);
    private readonly HttpClient _http = new();
    private SendGridStandIn _standIn = null!;
    private WebApplication _app = null!;
    private string _url = string.Empty;

    public async Task InitializeAsync()
    {
        _standIn = await SendGridStandIn.StartAsync();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IClock>(_clock);
        builder.Services.AddFunnelSequences();
        builder.Services.AddSingleton(GuideSequences.Nurture);
        builder.Services.Configure<SequenceOptions>(o => o.SoftBounceThreshold = 2);
        builder.Services.AddFunnelSendGrid(o =>
        {
            o.ApiKey = "SG.test";
            o.Host = _standIn.Host;
            o.DefaultFrom = "jane@example.com";
            o.WebhookPublicKey = Convert.ToBase64String(_signingKey.ExportSubjectPublicKeyInfo());
            o.MaxWebhookBodyBytes = 64 * 1024;
            o.UnsubscribeGroups["newsletter"] = 4242;
        });
        builder.Services.AddSingleton(new EmailTopic { Key = "newsletter", Title = "The weekly newsletter" });
        _app = builder.Build();
        _app.MapFunnelSendGridWebhook("/email/sendgrid/events");
        await _app.StartAsync();
        _url = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/email/sendgrid/events";
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _standIn.DisposeAsync();
    }

    public void Dispose()
    {
        _http.Dispose();
        _signingKey.Dispose();
    }

    private ILeadStore Leads => _app.Services.GetRequiredService<ILeadStore>();

    [Fact]
    public async Task Webhook_SignedHardBounce_RecordsItAndSuppressesTheLead()
    {
        LeadProfile lead = await AddLeadAsync("ann@example.com");

        HttpResponseMessage response = await PostAsync(Events(Event("bounce", "ev-1", lead, ("type", "bounce"), ("reason", "550 5.1.1 unknown user"))));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        JsonElement summary = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        summary.GetProperty("recorded").GetInt32().ShouldBe(1);
        LeadProfile after = (await Leads.FindAsync(lead.Id)).ShouldNotBeNull();
        after.BouncedAt.ShouldBe(Now - Duration.FromMinutes(1));
        EmailBounced bounced = (await LoggedAsync()).OfType<EmailBounced>().ShouldHaveSingleItem();
        bounced.Kind.ShouldBe(BounceKind.Hard);
        bounced.Email.ShouldBe("nurture-1");
    }

    [Fact]
    public async Task Webhook_Replayed_RecordsNothingTwice()
    {
        LeadProfile lead = await AddLeadAsync("bob@example.com");
        string body = Events(Event("bounce", "ev-2", lead, ("type", "blocked")), Event("spamreport", "ev-3", lead));

        (await PostAsync(body)).StatusCode.ShouldBe(HttpStatusCode.OK);
        HttpResponseMessage again = await PostAsync(body);

        again.StatusCode.ShouldBe(HttpStatusCode.OK);
        JsonElement summary = JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement;
        summary.GetProperty("recorded").GetInt32().ShouldBe(0);
        summary.GetProperty("duplicates").GetInt32().ShouldBe(2);
        IReadOnlyList<FunnelEvent> logged = await LoggedAsync();
        logged.OfType<EmailBounced>().ShouldHaveSingleItem().Kind.ShouldBe(BounceKind.Soft);
        logged.OfType<EmailComplained>().ShouldHaveSingleItem();
        LeadProfile after = (await Leads.FindAsync(lead.Id)).ShouldNotBeNull();
        after.SoftBounces.ShouldBe(1);
        after.ComplainedAt.ShouldNotBeNull();
    }

    [Fact]
    public async Task Webhook_EachKind_MapsToItsFeedback()
    {
        LeadProfile lead = await AddLeadAsync("cy@example.com");
        string body = Events(
            Event("processed", "k0", lead),
            Event("delivered", "k1", lead),
            Event("open", "k2", lead),
            Event("click", "k3", lead, ("url", "https://example.com/masterclass")),
            Event("deferred", "k4", lead, ("sg_message_id", "m1")),
            Event("deferred", "k5", lead, ("sg_message_id", "m1")),
            Event("group_unsubscribe", "k6", lead),
            Event("dropped", "k7", lead, ("reason", "Bounced Address")),
            Event("dropped", "k8", lead, ("reason", "Spam Reporting Address")));

        HttpResponseMessage response = await PostAsync(body);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        IReadOnlyList<FunnelEvent> logged = await LoggedAsync();
        logged.Select(e => e.EventType).ShouldBe(
        [
            EventTypes.EmailDelivered, EventTypes.EmailOpened, EventTypes.EmailClicked, EventTypes.EmailBounced,
            EventTypes.EmailUnsubscribed, EventTypes.EmailBounced, EventTypes.EmailComplained,
        ]);
        logged.OfType<EmailClicked>().ShouldHaveSingleItem().Url.ShouldBe("https://example.com/masterclass");
        logged.OfType<EmailBounced>().Select(b => b.Kind).ShouldBe([BounceKind.Soft, BounceKind.Hard]);
        JsonElement summary = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        summary.GetProperty("skipped").GetInt32().ShouldBe(1);
        summary.GetProperty("duplicates").GetInt32().ShouldBe(1); // the second deferral of message m1
    }

    [Fact]
    public async Task Webhook_LeadFoundByAddressWithoutCustomArgs_IsRecorded()
    {
        LeadProfile lead = await AddLeadAsync("dee@example.com");
        string body = "[{\"email\":\"dee@example.com\",\"timestamp\":" + Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + ",\"event\":\"spamreport\",\"sg_event_id\":\"na-1\"}]";

        (await PostAsync(body)).StatusCode.ShouldBe(HttpStatusCode.OK);

        (await Leads.FindAsync(lead.Id)).ShouldNotBeNull().ComplainedAt.ShouldBe(Now);
        (await LoggedAsync()).OfType<EmailComplained>().ShouldHaveSingleItem().Email.ShouldBe(EmailFeedback.UnknownEmail);
    }

    [Fact]
    public async Task Webhook_WrongSignature_Is401AndRecordsNothing()
    {
        LeadProfile lead = await AddLeadAsync("eve@example.com");
        using ECDsa other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string body = Events(Event("bounce", "x-1", lead));

        HttpResponseMessage response = await PostAsync(body, key: other);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await response.Content.ReadAsStringAsync()).ShouldContain("does not match");
        (await LoggedAsync()).ShouldBeEmpty();
        (await Leads.FindAsync(lead.Id)).ShouldNotBeNull().BouncedAt.ShouldBeNull();
    }

    [Fact]
    public async Task Webhook_BodyChangedAfterSigning_Is401()
    {
        LeadProfile lead = await AddLeadAsync("fay@example.com");
        string signed = Events(Event("delivered", "x-2", lead));

        HttpResponseMessage response = await PostAsync(signed.Replace("delivered", "bounce", StringComparison.Ordinal), signedBody: signed);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await LoggedAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task Webhook_NoSignature_Is401NamingTheHeader()
    {
        using StringContent content = new("[]", Encoding.UTF8, "application/json");

        HttpResponseMessage response = await _http.PostAsync(_url, content);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await response.Content.ReadAsStringAsync()).ShouldContain("X-Twilio-Email-Event-Webhook-Signature");
    }

    [Fact]
    public async Task Webhook_StaleTimestamp_Is401()
    {
        LeadProfile lead = await AddLeadAsync("gus@example.com");

        HttpResponseMessage response = await PostAsync(Events(Event("bounce", "x-3", lead)), signedAt: Now - Duration.FromMinutes(11));

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await response.Content.ReadAsStringAsync()).ShouldContain("replay");
        (await LoggedAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task Webhook_OversizedBody_Is413()
    {
        string body = "[" + new string(' ', 70 * 1024) + "]";

        HttpResponseMessage response = await PostAsync(body);

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Webhook_SignedButNotAnArray_Is400()
    {
        HttpResponseMessage response = await PostAsync("{\"event\":\"bounce\"}");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task SequenceThroughSendGrid_BounceReportedByTheWebhook_SuppressesTheNextSend()
    {
        LeadProfile lead = await AddLeadAsync("hal@example.com");
        SequenceEngine engine = _app.Services.GetRequiredService<SequenceEngine>();
        await engine.HandleAsync(new OptedIn { LeadId = lead.Id, OccurredAt = Now, Magnet = GuideSequences.Magnet });
        (await engine.DispatchDueAsync()).Sent.ShouldBe(1);
        JsonElement args = _standIn.Requests.ShouldHaveSingleItem().Body.GetProperty("personalizations")[0].GetProperty("custom_args");
        string bounce = "[{\"email\":\"hal@example.com\",\"timestamp\":" + Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)
            + ",\"event\":\"bounce\",\"type\":\"bounce\",\"sg_event_id\":\"hal-1\",\"funnel_lead\":\"" + args.GetProperty("funnel_lead").GetString()
            + "\",\"funnel_email\":\"" + args.GetProperty("funnel_email").GetString() + "\"}]";

        (await PostAsync(bounce)).StatusCode.ShouldBe(HttpStatusCode.OK);
        _clock.Advance(Duration.FromDays(2));
        DispatchResult next = await engine.DispatchDueAsync();

        next.Sent.ShouldBe(0);
        next.Suppressed.ShouldBe(1);
        next.Events.OfType<EmailSuppressed>().ShouldHaveSingleItem().Reason.ShouldBe("bounced");
        _standIn.Requests.Count.ShouldBe(1);
        (await LoggedAsync()).OfType<EmailBounced>().ShouldHaveSingleItem().Email.ShouldBe("nurture-1");
    }

    [Fact]
    public void MapFunnelSendGridWebhook_WithoutAPublicKey_Throws()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddFunnelSendGrid(o => { o.ApiKey = "k"; o.DefaultFrom = "jane@example.com"; });
        using WebApplication bare = builder.Build();

        Should.Throw<InvalidOperationException>(() => bare.MapFunnelSendGridWebhook()).Message.ShouldContain("WebhookPublicKey");
    }

    private async Task<LeadProfile> AddLeadAsync(string address)
    {
        LeadProfile lead = new()
        {
            Id = LeadId.New(),
            Email = EmailAddress.Parse(address),
            CreatedAt = Now,
            Consent = new ConsentRecord { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "test", RecordedAt = Now },
        };
        (await Leads.TryAddAsync(lead)).ShouldBeTrue();
        return lead;
    }

    private async Task<IReadOnlyList<FunnelEvent>> LoggedAsync() =>
        [.. (await _app.Services.GetRequiredService<IFunnelEventLog>().ReadAsync(0, 1000)).Select(e => e.Event).Where(e => e is EmailEvent and not EmailSent)];

    [Fact]
    public async Task Webhook_GroupUnsubscribeOfAMappedGroup_LeavesThatTopicOnly_AndOfAnotherGroupAllMarketing()
    {
        LeadProfile reader = await AddLeadAsync("di@example.com");
        LeadProfile other = await AddLeadAsync("ed@example.com");
        string body = Events(
            Event("group_unsubscribe", "g1", reader).Replace("}", ",\"asm_group_id\":4242}", StringComparison.Ordinal),
            Event("group_unsubscribe", "g2", other).Replace("}", ",\"asm_group_id\":777}", StringComparison.Ordinal));

        (await PostAsync(body)).StatusCode.ShouldBe(HttpStatusCode.OK);

        LeadProfile left = (await Leads.FindAsync(reader.Id)).ShouldNotBeNull();
        left.UnsubscribedTopics.ShouldBe(["newsletter"]);
        left.UnsubscribedAt.ShouldBeNull();
        left.ConsentStatus.ShouldBe(ConsentStatus.Granted);
        (await Leads.FindAsync(other.Id)).ShouldNotBeNull().UnsubscribedAt.ShouldNotBeNull();
        (await LoggedAsync()).OfType<EmailUnsubscribed>().Select(u => u.Topic).ShouldBe(["newsletter", null], ignoreOrder: true);
    }

    private static string Event(string kind, string id, LeadProfile lead, params (string Name, string Value)[] extra)
    {
        Dictionary<string, object> e = new()
        {
            ["email"] = lead.Email.Value,
            ["timestamp"] = (Now - Duration.FromMinutes(1)).ToUnixTimeSeconds(),
            ["event"] = kind,
            ["sg_event_id"] = id,
            ["funnel_lead"] = lead.Id.ToString(),
            ["funnel_email"] = "nurture-1",
        };
        foreach ((string name, string value) in extra)
        {
            e[name] = value;
        }

        return JsonSerializer.Serialize(e);
    }

    private static string Events(params string[] events) => "[" + string.Join(",", events) + "]";

    private async Task<HttpResponseMessage> PostAsync(string body, ECDsa? key = null, Instant? signedAt = null, string? signedBody = null)
    {
        string timestamp = (signedAt ?? Now).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        byte[] payload = Encoding.UTF8.GetBytes(timestamp + (signedBody ?? body));
        string signature = Convert.ToBase64String((key ?? _signingKey).SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        using ByteArrayContent content = new(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using HttpRequestMessage request = new(HttpMethod.Post, _url) { Content = content };
        request.Headers.Add("X-Twilio-Email-Event-Webhook-Signature", signature);
        request.Headers.Add("X-Twilio-Email-Event-Webhook-Timestamp", timestamp);
        return await _http.SendAsync(request);
    }
}
