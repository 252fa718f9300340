using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using MailKit.Net.Smtp;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Email.Smtp.Tests;

public class SmtpBounceTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 24, 9, 0);

    [Theory]
    [InlineData(SmtpStatusCode.MailboxUnavailable, "5.1.1 no such user", BounceKind.Hard)]
    [InlineData(SmtpStatusCode.MailboxUnavailable, "no such user", BounceKind.Hard)]
    [InlineData(SmtpStatusCode.UserNotLocalTryAlternatePath, "5.1.6 moved", BounceKind.Hard)]
    [InlineData(SmtpStatusCode.MailboxNameNotAllowed, "5.1.3 bad address syntax", BounceKind.Hard)]
    [InlineData(SmtpStatusCode.TransactionFailed, "5.1.2 no such domain", BounceKind.Hard)]
    [InlineData(SmtpStatusCode.MailboxUnavailable, "5.2.2 mailbox full", BounceKind.Soft)]
    [InlineData(SmtpStatusCode.ExceededStorageAllocation, "over quota", BounceKind.Soft)]
    [InlineData(SmtpStatusCode.MailboxBusy, "4.2.1 try later", BounceKind.Soft)]
    [InlineData(SmtpStatusCode.InsufficientStorage, "4.2.2 mailbox full", BounceKind.Soft)]
    public void Map_RecipientRejected_IsABounceOfItsKind(SmtpStatusCode code, string text, BounceKind kind)
    {
        EmailSendResult result = SmtpEmailSender.Map(new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, code, text));

        result.Bounce.ShouldBe(kind);
        result.Status.ShouldBe(kind == BounceKind.Hard ? EmailSendStatus.PermanentFailure : EmailSendStatus.TransientFailure);
    }

    [Theory]
    [InlineData(SmtpErrorCode.RecipientNotAccepted, SmtpStatusCode.MailboxUnavailable, "5.7.1 relaying denied")]
    [InlineData(SmtpErrorCode.RecipientNotAccepted, SmtpStatusCode.TransactionFailed, "rejected by policy")]
    [InlineData(SmtpErrorCode.MessageNotAccepted, SmtpStatusCode.MailboxUnavailable, "5.1.1 no such user")]
    [InlineData(SmtpErrorCode.SenderNotAccepted, SmtpStatusCode.MailboxUnavailable, "sender unknown")]
    public void Map_RejectionNotOfTheRecipientsMailbox_IsPermanentButNoBounce(SmtpErrorCode error, SmtpStatusCode code, string text)
    {
        EmailSendResult result = SmtpEmailSender.Map(new SmtpCommandException(error, code, text));

        result.Status.ShouldBe(EmailSendStatus.PermanentFailure);
        result.Bounce.ShouldBeNull();
    }

    [Theory]
    [InlineData("5.1.1 no such user", "5.1.1")]
    [InlineData("  4.2.2 full", "4.2.2")]
    [InlineData("no such user", "")]
    [InlineData("5.1 partial", "")]
    [InlineData("5.x.1 junk", "")]
    public void EnhancedStatusOf_ReplyText_ReadsTheLeadingCode(string reply, string expected) =>
        SmtpEmailSender.EnhancedStatusOf(reply).ShouldBe(expected);

    [Fact]
    public async Task Dispatcher_ServerAnswers550_RecordsAHardBounceAndSuppressesTheNextEmail()
    {
        await using ScriptedSmtpServer server = new() { RecipientReply = a => a.StartsWith("gone", StringComparison.Ordinal) ? "550 5.1.1 no such user" : null };
        (SequenceEngine engine, InMemoryLeadStore leads, InMemoryFunnelEventLog log, FakeClock clock, LeadProfile lead, SmtpEmailSender sender) =
            await SetUpAsync(server, "gone.bob@example.com", new SequenceOptions());
        using (sender)
        {
            DispatchResult first = await engine.DispatchDueAsync();

            first.Failed.ShouldBe(1);
            first.Events.OfType<EmailFailed>().ShouldHaveSingleItem().Permanent.ShouldBeTrue();
            first.Events.OfType<EmailBounced>().ShouldHaveSingleItem().Kind.ShouldBe(BounceKind.Hard);
            LeadProfile bounced = (await leads.FindAsync(lead.Id)).ShouldNotBeNull();
            bounced.BouncedAt.ShouldBe(clock.GetCurrentInstant());
            bounced.CanReceiveMarketingEmail.ShouldBeFalse();
            (await log.ReadAsync(0, 100)).Select(e => e.Event).OfType<EmailBounced>().ShouldHaveSingleItem();

            clock.Advance(Duration.FromDays(2));
            DispatchResult next = await engine.DispatchDueAsync();

            next.Sent.ShouldBe(0);
            next.Suppressed.ShouldBe(1);
            next.Events.OfType<EmailSuppressed>().ShouldHaveSingleItem().Reason.ShouldBe("bounced");
            server.Accepted.ShouldBe(0);
        }
    }

    [Fact]
    public async Task Dispatcher_MailboxFullAtEveryAttempt_SuppressesAtTheSoftBounceThreshold()
    {
        await using ScriptedSmtpServer server = new() { RecipientReply = a => a.StartsWith("full", StringComparison.Ordinal) ? "452 4.2.2 mailbox full" : null };
        SequenceOptions options = new() { SoftBounceThreshold = 2, MaxAttempts = 5, RetryDelay = Duration.FromMinutes(1) };
        (SequenceEngine engine, InMemoryLeadStore leads, _, FakeClock clock, LeadProfile lead, SmtpEmailSender sender) =
            await SetUpAsync(server, "full.cy@example.com", options);
        using (sender)
        {
            DispatchResult first = await engine.DispatchDueAsync();
            first.Events.OfType<EmailBounced>().ShouldHaveSingleItem().Kind.ShouldBe(BounceKind.Soft);
            LeadProfile once = (await leads.FindAsync(lead.Id)).ShouldNotBeNull();
            once.SoftBounces.ShouldBe(1);
            once.BouncedAt.ShouldBeNull();

            clock.Advance(Duration.FromMinutes(2));
            DispatchResult second = await engine.DispatchDueAsync();
            second.Events.OfType<EmailBounced>().ShouldHaveSingleItem();
            LeadProfile twice = (await leads.FindAsync(lead.Id)).ShouldNotBeNull();
            twice.SoftBounces.ShouldBe(2);
            twice.BouncedAt.ShouldNotBeNull();

            clock.Advance(Duration.FromMinutes(4));
            DispatchResult third = await engine.DispatchDueAsync();
            third.Suppressed.ShouldBe(1);
            third.Events.OfType<EmailSuppressed>().ShouldHaveSingleItem().Reason.ShouldBe("bounced");
        }
    }

    [Fact]
    public async Task Dispatcher_AcceptedAfterASoftBounce_StartsTheCountAgain()
    {
        int rejections = 1;
        await using ScriptedSmtpServer server = new() { RecipientReply = _ => Interlocked.Decrement(ref rejections) >= 0 ? "452 4.2.2 mailbox full" : null };
        (SequenceEngine engine, InMemoryLeadStore leads, _, FakeClock clock, LeadProfile lead, SmtpEmailSender sender) =
            await SetUpAsync(server, "dee@example.com", new SequenceOptions { SoftBounceThreshold = 2 });
        using (sender)
        {
            (await engine.DispatchDueAsync()).Events.OfType<EmailBounced>().ShouldHaveSingleItem();
            (await leads.FindAsync(lead.Id)).ShouldNotBeNull().SoftBounces.ShouldBe(1);

            clock.Advance(Duration.FromMinutes(2));
            (await engine.DispatchDueAsync()).Sent.ShouldBe(1);

            LeadProfile after = (await leads.FindAsync(lead.Id)).ShouldNotBeNull();
            after.SoftBounces.ShouldBe(0);
            after.BouncedAt.ShouldBeNull();
        }
    }

    private static async Task<(SequenceEngine, InMemoryLeadStore, InMemoryFunnelEventLog, FakeClock, LeadProfile, SmtpEmailSender)> SetUpAsync(
        ScriptedSmtpServer server, string address, SequenceOptions options)
    {
        FakeClock clock = new(Now);
        InMemoryLeadStore leads = new();
        LeadProfile lead = new()
        {
            Id = LeadId.New(),
            Email = EmailAddress.Parse(address),
            CreatedAt = Now,
            Consent = new ConsentRecord { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "test", RecordedAt = Now },
        };
        (await leads.TryAddAsync(lead)).ShouldBeTrue();
        SmtpEmailSender sender = new(
            new SmtpOptions { Host = "127.0.0.1", Port = server.Port, Security = SmtpSecurity.None, DefaultFrom = "jane@example.com", MaxConnections = 1, Timeout = Duration.FromSeconds(10) },
            clock);
        InMemoryFunnelEventLog log = new();
        SequenceEngine engine = new(new SequenceEngineSettings
        {
            Definitions = [GuideSequences.Nurture],
            Enrolments = new InMemoryEnrolmentStore(),
            Outbox = new InMemorySendOutbox(),
            Leads = leads,
            Sender = sender,
            EventLog = log,
            Clock = clock,
            Options = options,
        });
        await engine.HandleAsync(new OptedIn { LeadId = lead.Id, OccurredAt = Now, Magnet = GuideSequences.Magnet });
        return (engine, leads, log, clock, lead, sender);
    }
}
