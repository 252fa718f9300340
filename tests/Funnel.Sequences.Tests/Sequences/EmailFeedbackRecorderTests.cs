using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Tests.Sequences;

public class EmailFeedbackRecorderTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 24, 9, 0);

    [Fact]
    public async Task RecordAsync_HardBounceByLeadId_RecordsTheEventAndSuppressesTheLead()
    {
        (EmailFeedbackRecorder recorder, InMemoryLeadStore leads, InMemoryFunnelEventLog log, LeadProfile lead) = await SetUpAsync();

        EmailFeedbackResult result = await recorder.RecordAsync(Feedback("e1", EmailFeedbackKind.HardBounce) with { LeadId = lead.Id, Email = "nurture-2" });

        result.Status.ShouldBe(EmailFeedbackStatus.Recorded);
        EmailBounced bounced = result.Event.ShouldBeOfType<EmailBounced>();
        bounced.Kind.ShouldBe(BounceKind.Hard);
        bounced.Email.ShouldBe("nurture-2");
        bounced.LeadId.ShouldBe(lead.Id);
        (await leads.FindAsync(lead.Id)).ShouldNotBeNull().BouncedAt.ShouldBe(Now);
        (await log.ReadAsync(0, 10)).ShouldHaveSingleItem().Event.Id.ShouldBe(bounced.Id);
    }

    [Fact]
    public async Task RecordAsync_ReplayedReport_RecordsNothingTwice()
    {
        (EmailFeedbackRecorder recorder, InMemoryLeadStore leads, InMemoryFunnelEventLog log, LeadProfile lead) = await SetUpAsync();
        EmailFeedback soft = Feedback("e2", EmailFeedbackKind.SoftBounce);

        EmailFeedbackResult first = await recorder.RecordAsync(soft);
        EmailFeedbackResult again = await recorder.RecordAsync(soft);

        first.Status.ShouldBe(EmailFeedbackStatus.Recorded);
        again.Status.ShouldBe(EmailFeedbackStatus.Duplicate);
        again.Event.ShouldNotBeNull().Id.ShouldBe(first.Event.ShouldNotBeNull().Id);
        (await log.ReadAsync(0, 10)).Count.ShouldBe(1);
        (await leads.FindAsync(lead.Id)).ShouldNotBeNull().SoftBounces.ShouldBe(1);
    }

    [Fact]
    public async Task RecordAsync_SameEventIdOfAnotherProvider_IsAnotherReport()
    {
        (EmailFeedbackRecorder recorder, _, InMemoryFunnelEventLog log, _) = await SetUpAsync();

        await recorder.RecordAsync(Feedback("e3", EmailFeedbackKind.Opened));
        (await recorder.RecordAsync(Feedback("e3", EmailFeedbackKind.Opened) with { Provider = "other" })).Status.ShouldBe(EmailFeedbackStatus.Recorded);

        (await log.ReadAsync(0, 10)).Count.ShouldBe(2);
    }

    [Fact]
    public async Task RecordAsync_SoftBouncesUpToTheThreshold_SuppressAtTheThresholdAndADeliveryResets()
    {
        (EmailFeedbackRecorder recorder, InMemoryLeadStore leads, _, LeadProfile lead) = await SetUpAsync(threshold: 3);

        await recorder.RecordAsync(Feedback("s1", EmailFeedbackKind.SoftBounce));
        await recorder.RecordAsync(Feedback("s2", EmailFeedbackKind.SoftBounce));
        await recorder.RecordAsync(Feedback("d1", EmailFeedbackKind.Delivered));
        (await leads.FindAsync(lead.Id)).ShouldNotBeNull().SoftBounces.ShouldBe(0);
        await recorder.RecordAsync(Feedback("s3", EmailFeedbackKind.SoftBounce));
        await recorder.RecordAsync(Feedback("s4", EmailFeedbackKind.SoftBounce));
        (await leads.FindAsync(lead.Id)).ShouldNotBeNull().BouncedAt.ShouldBeNull();
        await recorder.RecordAsync(Feedback("s5", EmailFeedbackKind.SoftBounce) with { OccurredAt = Now + Duration.FromHours(1) });

        LeadProfile after = (await leads.FindAsync(lead.Id)).ShouldNotBeNull();
        after.SoftBounces.ShouldBe(3);
        after.BouncedAt.ShouldBe(Now + Duration.FromHours(1));
        after.CanReceiveMarketingEmail.ShouldBeFalse();
    }

    [Fact]
    public async Task RecordAsync_ComplaintByRecipient_SuppressesAndWithdrawsConsent()
    {
        (EmailFeedbackRecorder recorder, InMemoryLeadStore leads, _, LeadProfile lead) = await SetUpAsync();

        EmailFeedbackResult result = await recorder.RecordAsync(Feedback("c1", EmailFeedbackKind.Complaint));

        result.Event.ShouldBeOfType<EmailComplained>().Email.ShouldBe(EmailFeedback.UnknownEmail);
        LeadProfile after = (await leads.FindAsync(lead.Id)).ShouldNotBeNull();
        after.ComplainedAt.ShouldBe(Now);
        after.ConsentStatus.ShouldBe(ConsentStatus.Withdrawn);
    }

    [Fact]
    public async Task RecordAsync_Unsubscribe_WithdrawsConsent()
    {
        (EmailFeedbackRecorder recorder, InMemoryLeadStore leads, _, LeadProfile lead) = await SetUpAsync();

        (await recorder.RecordAsync(Feedback("u1", EmailFeedbackKind.Unsubscribe))).Event.ShouldBeOfType<EmailUnsubscribed>();

        (await leads.FindAsync(lead.Id)).ShouldNotBeNull().UnsubscribedAt.ShouldBe(Now);
    }

    [Fact]
    public async Task RecordAsync_HardBounceRecordedButLeadNotUpdated_TheReplayStillSuppresses()
    {
        (EmailFeedbackRecorder recorder, InMemoryLeadStore leads, InMemoryFunnelEventLog log, LeadProfile lead) = await SetUpAsync();
        EmailFeedback hard = Feedback("h1", EmailFeedbackKind.HardBounce);
        // A process that died after appending the event and before updating the lead.
        await log.AppendAsync([new EmailBounced { Id = EmailFeedbackRecorder.IdOf("sendgrid", "h1"), LeadId = lead.Id, OccurredAt = Now, Email = "x" }]);

        (await recorder.RecordAsync(hard)).Status.ShouldBe(EmailFeedbackStatus.Duplicate);

        (await leads.FindAsync(lead.Id)).ShouldNotBeNull().BouncedAt.ShouldBe(Now);
        (await log.ReadAsync(0, 10)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task RecordAsync_NoLeadWithTheAddress_RecordsNothing()
    {
        (EmailFeedbackRecorder recorder, _, InMemoryFunnelEventLog log, _) = await SetUpAsync();

        EmailFeedbackResult result = await recorder.RecordAsync(Feedback("n1", EmailFeedbackKind.HardBounce) with { Recipient = EmailAddress.Parse("nobody@example.com"), LeadId = LeadId.New() });

        result.Status.ShouldBe(EmailFeedbackStatus.UnknownLead);
        result.Event.ShouldBeNull();
        (await log.ReadAsync(0, 10)).ShouldBeEmpty();
    }

    [Fact]
    public async Task RecordAsync_EmptyProviderEventId_Throws()
    {
        (EmailFeedbackRecorder recorder, _, _, _) = await SetUpAsync();

        await Should.ThrowAsync<ArgumentException>(() => recorder.RecordAsync(Feedback(" ", EmailFeedbackKind.Delivered)));
    }

    [Fact]
    public void AddFunnelSequences_SoftBounceThresholdOutOfRange_FailsNamingTheOption()
    {
        ServiceCollection services = new();
        services.AddFunnelSequences();
        services.Configure<SequenceOptions>(o => o.SoftBounceThreshold = 0);
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IEmailFeedbackRecorder>());

        error.Message.ShouldContain("SoftBounceThreshold");
    }

    [Fact]
    public void AddFunnelSequences_Registers_TheFeedbackRecorder()
    {
        ServiceCollection services = new();
        services.AddFunnelSequences();
        using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<IEmailFeedbackRecorder>().ShouldBeOfType<EmailFeedbackRecorder>();
    }

    private static EmailFeedback Feedback(string id, EmailFeedbackKind kind) => new()
    {
        Provider = "sendgrid",
        ProviderEventId = id,
        Kind = kind,
        OccurredAt = Now,
        Recipient = EmailAddress.Parse("ann@example.com"),
    };

    private static async Task<(EmailFeedbackRecorder, InMemoryLeadStore, InMemoryFunnelEventLog, LeadProfile)> SetUpAsync(int threshold = 3)
    {
        InMemoryLeadStore leads = new();
        LeadProfile lead = new()
        {
            Id = LeadId.New(),
            Email = EmailAddress.Parse("ann@example.com"),
            CreatedAt = Now,
            Consent = new ConsentRecord { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "test", RecordedAt = Now },
        };
        (await leads.TryAddAsync(lead)).ShouldBeTrue();
        InMemoryFunnelEventLog log = new();
        return (new EmailFeedbackRecorder(leads, log, new SequenceOptions { SoftBounceThreshold = threshold }), leads, log, lead);
    }
}
