using System.Collections.Immutable;
using System.Net;
using System.Text.Json;
using Funnel.Leads;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Email.SendGrid.Tests;

public class SendGridEmailSenderTests
{
    private static SendGridOptions Options(string host) => new()
    {
        ApiKey = "SG.test-key",
        Host = host,
        DefaultFrom = "Jane Author <jane@example.com>",
        Timeout = Duration.FromSeconds(10),
    };

    private static EmailMessage Message(LeadId lead) => new()
    {
        To = EmailAddress.Parse("ann@example.com"),
        Subject = "Your guide",
        TextBody = "Hi Ann",
        HtmlBody = "<p>Hi Ann</p>",
        IdempotencyKey = "0193-enrolment:nurture-1",
        LeadId = lead,
        EmailKey = "nurture-1",
        Headers = ImmutableDictionary.Create<string, string>(StringComparer.OrdinalIgnoreCase)
            .Add("List-Unsubscribe", "<https://example.com/u/t>")
            .Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    };

    [Fact]
    public async Task SendAsync_Accepted_PostsTheMailWithAuthHeadersAndCustomArgs()
    {
        await using SendGridStandIn standIn = await SendGridStandIn.StartAsync();
        using SendGridEmailSender sender = new(Options(standIn.Host));
        LeadId lead = LeadId.New();

        EmailSendResult result = await sender.SendAsync(Message(lead));

        result.Status.ShouldBe(EmailSendStatus.Sent);
        result.MessageId.ShouldBe("sg-1");
        SendGridStandIn.Recorded request = standIn.Requests.ShouldHaveSingleItem();
        request.Path.ShouldBe("/v3/mail/send");
        request.Authorization.ShouldBe("Bearer SG.test-key");
        request.ContentType.ShouldStartWith("application/json");
        JsonElement body = request.Body;
        body.GetProperty("from").GetProperty("email").GetString().ShouldBe("jane@example.com");
        body.GetProperty("from").GetProperty("name").GetString().ShouldBe("Jane Author");
        JsonElement personalization = body.GetProperty("personalizations")[0];
        personalization.GetProperty("to")[0].GetProperty("email").GetString().ShouldBe("ann@example.com");
        body.GetProperty("subject").GetString().ShouldBe("Your guide");
        JsonElement[] content = [.. body.GetProperty("content").EnumerateArray()];
        content.Select(c => (c.GetProperty("type").GetString(), c.GetProperty("value").GetString()))
            .ShouldBe([("text/plain", "Hi Ann"), ("text/html", "<p>Hi Ann</p>")]);
        personalization.GetProperty("headers").GetProperty("List-Unsubscribe-Post").GetString().ShouldBe("List-Unsubscribe=One-Click");
        JsonElement args = personalization.GetProperty("custom_args");
        args.GetProperty("funnel_message_id").GetString().ShouldBe("0193-enrolment:nurture-1");
        args.GetProperty("funnel_lead").GetString().ShouldBe(lead.ToString());
        args.GetProperty("funnel_email").GetString().ShouldBe("nurture-1");
    }

    [Fact]
    public async Task SendAsync_MessageOfAMappedTopic_CarriesItsUnsubscribeGroup()
    {
        await using SendGridStandIn standIn = await SendGridStandIn.StartAsync();
        SendGridOptions options = Options(standIn.Host);
        options.UnsubscribeGroups["newsletter"] = 4242;
        using SendGridEmailSender sender = new(options);

        (await sender.SendAsync(Message(LeadId.New()) with { Topic = "newsletter" })).Status.ShouldBe(EmailSendStatus.Sent);
        (await sender.SendAsync(Message(LeadId.New()) with { Topic = "webinars" })).Status.ShouldBe(EmailSendStatus.Sent);

        SendGridStandIn.Recorded[] requests = [.. standIn.Requests];
        requests[0].Body.GetProperty("asm").GetProperty("group_id").GetInt32().ShouldBe(4242);
        requests[1].Body.TryGetProperty("asm", out _).ShouldBeFalse("an unmapped topic is sent without a group");
    }

    [Theory]
    [InlineData(429, EmailSendStatus.TransientFailure)]
    [InlineData(500, EmailSendStatus.TransientFailure)]
    [InlineData(503, EmailSendStatus.TransientFailure)]
    [InlineData(400, EmailSendStatus.PermanentFailure)]
    [InlineData(401, EmailSendStatus.PermanentFailure)]
    [InlineData(413, EmailSendStatus.PermanentFailure)]
    public async Task SendAsync_Refused_MapsTheStatus(int status, EmailSendStatus expected)
    {
        await using SendGridStandIn standIn = await SendGridStandIn.StartAsync();
        standIn.Answer = (status, """{"errors":[{"message":"scripted refusal","field":"from"}]}""");
        using SendGridEmailSender sender = new(Options(standIn.Host));

        EmailSendResult result = await sender.SendAsync(Message(LeadId.New()));

        result.Status.ShouldBe(expected);
        result.Error.ShouldNotBeNull().ShouldStartWith($"SendGrid {status}: ");
        result.Error.ShouldContain("scripted refusal");
        result.Bounce.ShouldBeNull();
        standIn.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task SendAsync_NothingListening_IsTransient()
    {
        int port;
        using (System.Net.Sockets.TcpListener probe = new(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        using SendGridEmailSender sender = new(Options("http://127.0.0.1:" + port));

        (await sender.SendAsync(Message(LeadId.New()))).Status.ShouldBe(EmailSendStatus.TransientFailure);
    }

    [Theory]
    [InlineData(HttpStatusCode.Accepted, EmailSendStatus.Sent)]
    [InlineData(HttpStatusCode.TooManyRequests, EmailSendStatus.TransientFailure)]
    [InlineData(HttpStatusCode.RequestTimeout, EmailSendStatus.TransientFailure)]
    [InlineData(HttpStatusCode.BadGateway, EmailSendStatus.TransientFailure)]
    [InlineData(HttpStatusCode.Forbidden, EmailSendStatus.PermanentFailure)]
    public void Map_StatusCode_IsTheSendResult(HttpStatusCode status, EmailSendStatus expected) =>
        SendGridEmailSender.Map(status, "id", "body").Status.ShouldBe(expected);

    [Fact]
    public void AddFunnelSendGrid_InvalidOptions_FailNamingTheOption()
    {
        ServiceCollection services = new();
        services.AddFunnelSendGrid(o => { o.Host = "ftp://nope"; o.DefaultFrom = "not a mailbox"; o.WebhookPublicKey = "bm90IGEga2V5"; });
        services.AddFunnelSendGrid(o => o.WebhookTolerance = Duration.Zero);
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IEmailSender>());

        error.Failures.ShouldContain(f => f.StartsWith("SendGridOptions.ApiKey", StringComparison.Ordinal));
        error.Failures.ShouldContain(f => f.StartsWith("SendGridOptions.Host", StringComparison.Ordinal));
        error.Failures.ShouldContain(f => f.StartsWith("SendGridOptions.DefaultFrom", StringComparison.Ordinal));
        error.Failures.ShouldContain(f => f.StartsWith("SendGridOptions.WebhookPublicKey", StringComparison.Ordinal));
        error.Failures.ShouldContain(f => f.StartsWith("SendGridOptions.WebhookTolerance", StringComparison.Ordinal));
        services.Count(d => d.ServiceType == typeof(IEmailSender)).ShouldBe(1);
    }

    [Fact]
    public async Task AddFunnelSendGrid_ValidOptions_ResolvesASenderThatSends()
    {
        await using SendGridStandIn standIn = await SendGridStandIn.StartAsync();
        ServiceCollection services = new();
        services.AddFunnelSendGrid(o => { o.ApiKey = "SG.k"; o.Host = standIn.Host; o.DefaultFrom = "jane@example.com"; });
        await using ServiceProvider provider = services.BuildServiceProvider();

        (await provider.GetRequiredService<IEmailSender>().SendAsync(Message(LeadId.New()))).Status.ShouldBe(EmailSendStatus.Sent);
        standIn.Requests.ShouldHaveSingleItem().Authorization.ShouldBe("Bearer SG.k");
    }
}
