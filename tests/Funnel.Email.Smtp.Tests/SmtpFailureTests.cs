using Funnel.Leads;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Email.Smtp.Tests;

public class SmtpFailureTests
{
    private static readonly FakeClock Clock = new(Instant.FromUtc(2026, 3, 24, 9, 0));

    private static SmtpOptions Options(int port) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        Security = SmtpSecurity.None,
        DefaultFrom = "jane@example.com",
        MaxConnections = 1,
        Timeout = Duration.FromSeconds(10),
    };

    private static EmailMessage To(string address, string key) => new() { To = EmailAddress.Parse(address), Subject = "s", TextBody = "t", IdempotencyKey = key };

    [Fact]
    public async Task SendAsync_RecipientRejectedWith550_IsPermanent_With452_IsTransient()
    {
        await using ScriptedSmtpServer server = new()
        {
            RecipientReply = a => a.StartsWith("gone", StringComparison.Ordinal) ? "550 5.1.1 no such user" : a.StartsWith("full", StringComparison.Ordinal) ? "452 4.2.2 mailbox full" : null,
        };
        using SmtpEmailSender sender = new(Options(server.Port), Clock);

        EmailSendResult gone = await sender.SendAsync(To("gone@example.com", "a"));
        EmailSendResult full = await sender.SendAsync(To("full@example.com", "b"));
        EmailSendResult ok = await sender.SendAsync(To("ok@example.com", "c"));

        gone.Status.ShouldBe(EmailSendStatus.PermanentFailure);
        gone.Error.ShouldNotBeNull().ShouldStartWith("SMTP 550");
        full.Status.ShouldBe(EmailSendStatus.TransientFailure);
        full.Error.ShouldNotBeNull().ShouldStartWith("SMTP 452");
        ok.Status.ShouldBe(EmailSendStatus.Sent);
        server.Accepted.ShouldBe(1);
    }

    [Fact]
    public async Task SendAsync_ServerClosedThePooledConnection_ReconnectsAndSends()
    {
        await using ScriptedSmtpServer server = new() { CloseAfterEachMessage = true };
        using SmtpEmailSender sender = new(Options(server.Port), Clock);

        EmailSendResult first = await sender.SendAsync(To("one@example.com", "1"));
        EmailSendResult second = await sender.SendAsync(To("two@example.com", "2"));
        EmailSendResult third = await sender.SendAsync(To("three@example.com", "3"));

        new[] { first, second, third }.ShouldAllBe(r => r.Status == EmailSendStatus.Sent);
        server.Accepted.ShouldBe(3);
        server.Connections.ShouldBe(3);
    }

    [Fact]
    public async Task SendAsync_FromThatDoesNotParse_IsAPermanentFailureNotAnException()
    {
        using SmtpEmailSender sender = new(Options(25), Clock);

        EmailSendResult result = await sender.SendAsync(To("ok@example.com", "k") with { From = "Jane <jane@" });

        result.Status.ShouldBe(EmailSendStatus.PermanentFailure);
        result.Error.ShouldNotBeNull().ShouldStartWith("The message could not be built");
        sender.OpenedConnections.ShouldBe(0);
    }

    [Fact]
    public void ToMime_SubjectWithLineBreaksFromALeadField_CannotInjectHeaders()
    {
        using SmtpEmailSender sender = new(Options(25), Clock);

        string raw = sender.ToMime(To("ok@example.com", "k") with { Subject = "Hi Eve\r\nBcc: victim@example.com\r\n\r\nforged body" })
            .ToString().ReplaceLineEndings("\n");

        string headers = raw[..raw.IndexOf("\n\n", StringComparison.Ordinal)];
        headers.Split('\n').ShouldNotContain(line => line.StartsWith("Bcc:", StringComparison.OrdinalIgnoreCase));
        headers.ShouldContain("Subject:");
        raw.ShouldNotContain("\nforged body");
    }

    [Fact]
    public async Task Dispose_WhileASendIsInFlight_ThatSendsConnectionIsClosedNotPooled()
    {
        using ManualResetEventSlim inFlight = new();
        using ManualResetEventSlim disposed = new();
        await using ScriptedSmtpServer server = new()
        {
            RecipientReply = _ =>
            {
                inFlight.Set();
                disposed.Wait(TimeSpan.FromSeconds(30));
                return null;
            },
        };
        SmtpEmailSender sender = new(Options(server.Port), Clock);

        Task<EmailSendResult> send = sender.SendAsync(To("ok@example.com", "k"));
        inFlight.Wait(TimeSpan.FromSeconds(30)).ShouldBeTrue();
        sender.Dispose();
        disposed.Set();

        (await send).Status.ShouldBe(EmailSendStatus.Sent);
        sender.IdleConnections.ShouldBe(0);
    }
}
