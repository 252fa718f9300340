using System.Collections.Immutable;
using System.Text;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Sequences;
using Funnel.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MimeKit;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Email.Smtp.Tests;

public class SmtpEmailSenderTests(SmtpServerFixture fixture) : IClassFixture<SmtpServerFixture>
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 24, 9, 0);

    private Smtp4devServer Server => fixture.Server;

    private SmtpOptions Options(int maxConnections = 2) => new()
    {
        Host = Server.Host,
        Port = Server.SmtpPort,
        Security = SmtpSecurity.None,
        DefaultFrom = "Jane Author <jane@example.com>",
        MaxConnections = maxConnections,
    };

    private async Task<MimeMessage> ReadBackAsync(string to)
    {
        IReadOnlyList<Smtp4devMessage> messages = await Server.WaitForMessagesAsync(1, m => m.To?.Contains(to) == true);
        string raw = await Server.GetRawAsync(messages.ShouldHaveSingleItem().Id);
        return await MimeMessage.LoadAsync(new MemoryStream(Encoding.UTF8.GetBytes(raw)));
    }

    [Fact]
    public async Task SendAsync_ToSmtp4dev_DeliversRecipientSubjectBodiesHeadersAndStableMessageId()
    {
        using SmtpEmailSender sender = new(Options(), new FakeClock(Now));
        EmailMessage message = new()
        {
            To = EmailAddress.Parse("ann.send@example.com"),
            Subject = "Your Quick Start Guide",
            TextBody = "Hi Ann, here is your guide.",
            HtmlBody = "<p>Hi Ann, here is your <b>guide</b>.</p>",
            IdempotencyKey = "enrolment-1:nurture-1",
            Headers = ImmutableDictionary<string, string>.Empty
                .Add("List-Unsubscribe", "<https://example.com/email/unsubscribe/abc.def>")
                .Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        };

        EmailSendResult result = await sender.SendAsync(message);

        result.Status.ShouldBe(EmailSendStatus.Sent);
        MimeMessage received = await ReadBackAsync("ann.send@example.com");
        received.To.Mailboxes.Single().Address.ShouldBe("ann.send@example.com");
        received.From.Mailboxes.Single().ShouldSatisfyAllConditions(m => m.Address.ShouldBe("jane@example.com"), m => m.Name.ShouldBe("Jane Author"));
        received.Subject.ShouldBe("Your Quick Start Guide");
        received.TextBody!.Trim().ShouldBe("Hi Ann, here is your guide.");
        received.HtmlBody!.Trim().ShouldBe("<p>Hi Ann, here is your <b>guide</b>.</p>");
        received.Headers["List-Unsubscribe"].ShouldBe("<https://example.com/email/unsubscribe/abc.def>");
        received.Headers["List-Unsubscribe-Post"].ShouldBe("List-Unsubscribe=One-Click");
        received.MessageId.ShouldBe(SmtpEmailSender.MessageIdOf("enrolment-1:nurture-1", "example.com"));
        result.MessageId.ShouldBe(received.MessageId);
        received.Date.ShouldBe(Now.ToDateTimeOffset());
    }

    [Fact]
    public async Task SendAsync_ManyMessagesConcurrently_ReusesThePooledConnectionsAndDeliversAll()
    {
        using SmtpEmailSender sender = new(Options(maxConnections: 2), new FakeClock(Now));
        EmailMessage[] messages =
        [
            .. Enumerable.Range(0, 20).Select(i => new EmailMessage
            {
                To = EmailAddress.Parse($"pool{i}@example.com"), Subject = "s" + i, TextBody = "t", IdempotencyKey = "pool:" + i,
            }),
        ];

        EmailSendResult[] results = await Task.WhenAll(messages.Select(m => sender.SendAsync(m)));

        results.ShouldAllBe(r => r.Status == EmailSendStatus.Sent);
        IReadOnlyList<Smtp4devMessage> received = await Server.WaitForMessagesAsync(20, m => m.To?.Any(t => t.StartsWith("pool", StringComparison.Ordinal)) == true);
        received.Count.ShouldBe(20);
        sender.OpenedConnections.ShouldBeLessThanOrEqualTo(2);
    }

    [Fact]
    public async Task SendAsync_ServerUnreachable_IsATransientFailure()
    {
        SmtpOptions options = Options();
        options.Port = FreePort();
        using SmtpEmailSender sender = new(options, new FakeClock(Now));

        EmailSendResult result = await sender.SendAsync(new EmailMessage { To = EmailAddress.Parse("x@example.com"), Subject = "s", TextBody = "t", IdempotencyKey = "k" });

        result.Status.ShouldBe(EmailSendStatus.TransientFailure);
        result.Error.ShouldNotBeNull().ShouldContain("connection");
    }

    [Fact]
    public void Map_SmtpReplyCodes_FiveHundredsArePermanentFourHundredsTransient()
    {
        SmtpEmailSender.Map(new MailKit.Net.Smtp.SmtpCommandException(MailKit.Net.Smtp.SmtpErrorCode.RecipientNotAccepted, MailKit.Net.Smtp.SmtpStatusCode.MailboxUnavailable, "no such user"))
            .Status.ShouldBe(EmailSendStatus.PermanentFailure);
        SmtpEmailSender.Map(new MailKit.Net.Smtp.SmtpCommandException(MailKit.Net.Smtp.SmtpErrorCode.RecipientNotAccepted, MailKit.Net.Smtp.SmtpStatusCode.MailboxBusy, "try later"))
            .Status.ShouldBe(EmailSendStatus.TransientFailure);
        SmtpEmailSender.Map(new IOException("reset")).Status.ShouldBe(EmailSendStatus.TransientFailure);
    }

    [Fact]
    public async Task Dispatcher_ThroughSmtp4dev_DeliversThePersonalisedNurtureEmailWithUnsubscribeHeaders()
    {
        FakeClock clock = new(Now);
        InMemoryLeadStore leads = new();
        EmailAddress address = EmailAddress.Parse("dispatch.ann@example.com");
        LeadProfile lead = new()
        {
            Id = LeadId.New(),
            Email = address,
            CreatedAt = Now,
            TimeZoneId = "Europe/Berlin",
            Consent = new ConsentRecord { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "test", RecordedAt = Now },
            CustomFields = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("first_name", "Ann"),
        };
        (await leads.TryAddAsync(lead)).ShouldBeTrue();
        using SmtpEmailSender sender = new(Options(), clock);
        InMemorySendOutbox outbox = new();
        SequenceEngine engine = new(new SequenceEngineSettings
        {
            Definitions = [GuideSequences.Nurture],
            Enrolments = new InMemoryEnrolmentStore(),
            Outbox = outbox,
            Leads = leads,
            Sender = sender,
            EventLog = new Funnel.Pipeline.InMemoryFunnelEventLog(),
            Clock = clock,
            Options = new SequenceOptions { Tracking = new TrackingOptions { BaseUrl = "https://example.com/email", SigningKey = "0123456789abcdef0123456789abcdef" } },
        });
        await engine.HandleAsync(new OptedIn { LeadId = lead.Id, OccurredAt = Now, Magnet = GuideSequences.Magnet });

        DispatchResult result = await engine.DispatchDueAsync();

        result.Sent.ShouldBe(1);
        result.Events.OfType<EmailSent>().ShouldHaveSingleItem().Email.ShouldBe("nurture-1");
        MimeMessage received = await ReadBackAsync("dispatch.ann@example.com");
        received.Subject.ShouldBe("Your Quick Start Guide to E-Book Creation");
        received.TextBody.ShouldStartWith("Hi Ann, here is your guide");
        received.Headers["List-Unsubscribe"].ShouldStartWith("<https://example.com/email/unsubscribe/");
        received.Headers["List-Unsubscribe-Post"].ShouldBe("List-Unsubscribe=One-Click");
        string key = outbox.Snapshot().Single(e => e.StepIndex == 0).Key;
        received.MessageId.ShouldBe(SmtpEmailSender.MessageIdOf(key, "example.com"));
    }

    [Fact]
    public void AddFunnelSmtp_InvalidOptions_FailNamingTheOption()
    {
        ServiceCollection services = new();
        services.AddFunnelSmtp(o => { o.Host = ""; o.DefaultFrom = "not a mailbox"; o.Port = 0; });
        services.AddFunnelSmtp(o => o.MaxConnections = 99);
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IEmailSender>());

        error.Failures.ShouldContain(f => f.StartsWith("SmtpOptions.Host", StringComparison.Ordinal));
        error.Failures.ShouldContain(f => f.StartsWith("SmtpOptions.Port", StringComparison.Ordinal));
        error.Failures.ShouldContain(f => f.StartsWith("SmtpOptions.DefaultFrom", StringComparison.Ordinal));
        error.Failures.ShouldContain(f => f.StartsWith("SmtpOptions.MaxConnections", StringComparison.Ordinal));
        services.Count(d => d.ServiceType == typeof(IEmailSender)).ShouldBe(1);
    }

    [Fact]
    public async Task AddFunnelSmtp_ValidOptions_ResolvesASenderThatDelivers()
    {
        ServiceCollection services = new();
        services.AddSingleton<IClock>(new FakeClock(Now));
        services.AddFunnelSmtp(o => { o.Host = Server.Host; o.Port = Server.SmtpPort; o.Security = SmtpSecurity.None; o.DefaultFrom = "jane@example.com"; });
        await using ServiceProvider provider = services.BuildServiceProvider();

        EmailSendResult result = await provider.GetRequiredService<IEmailSender>().SendAsync(new EmailMessage { To = EmailAddress.Parse("di@example.com"), Subject = "via DI", TextBody = "t", IdempotencyKey = "di" });

        result.Status.ShouldBe(EmailSendStatus.Sent);
        (await ReadBackAsync("di@example.com")).Subject.ShouldBe("via DI");
    }

    private static int FreePort()
    {
        using System.Net.Sockets.TcpListener listener = new(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
