using System.Collections.Immutable;
using Funnel.Definitions;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Tests.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Pipeline;

/// <summary>The built-in confirmation email: sent through the outbox on every <c>confirmation_requested</c>.</summary>
public sealed class OptInConfirmationSequenceTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 24, 10, 0);

    [Fact]
    public async Task ConfirmationRequested_ByDefault_MailsTheLinkAtOnceWhileConsentIsPending()
    {
        FakeClock clock = new(Start);
        RecordingSender sender = new(clock);
        using ServiceProvider provider = SequencePipelineTests.Services(clock, sender);
        LeadProfile lead = await SequencePipelineTests.AddLeadAsync(provider, ConsentStatus.Pending);

        await SequencePipelineTests.AppendAndDeliverAsync(provider, [Requested(lead, "https://example.com/confirm?token=one")]);
        await SequencePipelineTests.DispatchAsync(provider);

        EmailMessage message = sender.Sent.ShouldHaveSingleItem().Message;
        message.To.ShouldBe(lead.Email);
        message.Subject.ShouldBe("Please confirm your email to get Quick Start Guide");
        message.TextBody.ShouldContain("https://example.com/confirm?token=one");
        message.HtmlBody!.ShouldContain("href=\"https://example.com/confirm?token=one\"");
        provider.GetRequiredService<InMemoryFunnelEventLog>().Snapshot().OfType<EmailSent>().ShouldHaveSingleItem().Email.ShouldBe("confirm");
    }

    [Fact]
    public async Task ConfirmationRequested_TwoRequestsAndARedelivery_MailsEachRequestsOwnLinkOnce()
    {
        FakeClock clock = new(Start);
        RecordingSender sender = new(clock);
        using ServiceProvider provider = SequencePipelineTests.Services(clock, sender);
        LeadProfile lead = await SequencePipelineTests.AddLeadAsync(provider, ConsentStatus.Pending);
        ConfirmationRequested first = Requested(lead, "https://example.com/confirm?token=one");
        ConfirmationRequested second = Requested(lead, "https://example.com/confirm?token=two") with { OccurredAt = Start + Duration.FromMinutes(1) };
        SequenceEngine engine = provider.GetRequiredService<SequenceEngine>();

        await engine.HandleAsync(first);
        await engine.HandleAsync(first); // redelivered
        await engine.HandleAsync(second);
        clock.Advance(Duration.FromMinutes(1));
        await SequencePipelineTests.DispatchAsync(provider);

        sender.Sent.Select(s => s.Message.TextBody).Order().ShouldSatisfyAllConditions(
            bodies => bodies.Count().ShouldBe(2),
            bodies => bodies.First().ShouldContain("token=one"),
            bodies => bodies.Last().ShouldContain("token=two"));
    }

    [Fact]
    public async Task ConfirmationRequested_SmtpDownThenRestarted_RecordsTheFailureAndRetriesTheSameLink()
    {
        FakeClock clock = new(Start);
        bool down = true;
        RecordingSender sender = new(clock) { Script = (_, _) => down ? EmailSendResult.Transient("421 service not available") : null };
        using ServiceProvider provider = SequencePipelineTests.Services(clock, sender);
        LeadProfile lead = await SequencePipelineTests.AddLeadAsync(provider, ConsentStatus.Pending);
        await SequencePipelineTests.AppendAndDeliverAsync(provider, [Requested(lead, "https://example.com/confirm?token=one")]);

        await SequencePipelineTests.DispatchAsync(provider);
        provider.GetRequiredService<InMemoryFunnelEventLog>().Snapshot().OfType<EmailFailed>().ShouldHaveSingleItem().Permanent.ShouldBeFalse();

        down = false;
        IEmailSender restartedSender = sender;
        SequenceEngine restarted = new(new SequenceEngineSettings // a new process over the same stores.
        {
            Definitions = [FunnelSequences.OptInConfirmation],
            Enrolments = provider.GetRequiredService<IEnrolmentStore>(),
            Outbox = provider.GetRequiredService<ISendOutbox>(),
            Leads = provider.GetRequiredService<ILeadStore>(),
            Sender = restartedSender,
            EventLog = provider.GetRequiredService<IFunnelEventLog>(),
            Clock = clock,
        });
        clock.Advance(Duration.FromMinutes(2));
        await restarted.DispatchDueAsync();

        sender.Sent.ShouldHaveSingleItem().Message.TextBody.ShouldContain("https://example.com/confirm?token=one");
        provider.GetRequiredService<InMemoryFunnelEventLog>().Snapshot().OfType<EmailSent>().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task AddFunnelSequences_DefinitionWithTheSameKey_ReplacesTheBuiltInConfirmation()
    {
        FakeClock clock = new(Start);
        RecordingSender sender = new(clock);
        SequenceDefinition mine = FunnelSequences.OptInConfirmation with
        {
            Steps = [FunnelSequences.OptInConfirmation.Steps[0] with { Subject = "Bitte bestätigen: {{ magnet_title }}" }],
        };
        using ServiceProvider provider = SequencePipelineTests.Services(clock, sender, mine);
        LeadProfile lead = await SequencePipelineTests.AddLeadAsync(provider, ConsentStatus.Pending);

        await SequencePipelineTests.AppendAndDeliverAsync(provider, [Requested(lead, "https://example.com/confirm?token=one")]);
        await SequencePipelineTests.DispatchAsync(provider);

        sender.Sent.ShouldHaveSingleItem().Message.Subject.ShouldBe("Bitte bestätigen: Quick Start Guide");
    }

    [Fact]
    public void OptInConfirmation_Definition_IsTransactionalAlwaysReEnteredAndTriggeredByConfirmationRequested()
    {
        SequenceDefinition definition = FunnelSequences.OptInConfirmation;

        definition.Key.ShouldBe("opt-in-confirmation");
        definition.IsMarketing.ShouldBeFalse();
        definition.ReEntry.ShouldBe(ReEntryPolicy.Always);
        definition.Triggers.ShouldHaveSingleItem().Matches(new ConfirmationRequested
        {
            LeadId = LeadId.New(), OccurredAt = Start, Magnet = "x", ConfirmationUrl = "https://example.com/c",
        }).ShouldBeTrue();
        new SequenceDefinitionValidator().Validate(definition).IsValid.ShouldBeTrue();
    }

    private static ConfirmationRequested Requested(LeadProfile lead, string url) => new()
    {
        LeadId = lead.Id,
        OccurredAt = Start,
        Magnet = GuideSequences.Magnet,
        MagnetTitle = "Quick Start Guide",
        ConfirmationUrl = url,
    };
}
