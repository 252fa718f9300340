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

/// <summary>The built-in delivery email: sent through the outbox on every <c>magnet_delivery_requested</c>.</summary>
public sealed class LeadMagnetDeliverySequenceTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 24, 10, 0);
    private const string Link = "https://example.com/funnel/magnets/quick-start-guide/download?lead=1&exp=2&sig=3";

    [Fact]
    public async Task DeliveryRequested_ByDefault_MailsTheDownloadLinkAtOnce()
    {
        FakeClock clock = new(Start);
        RecordingSender sender = new(clock);
        using ServiceProvider provider = SequencePipelineTests.Services(clock, sender);
        LeadProfile lead = await SequencePipelineTests.AddLeadAsync(provider, ConsentStatus.Granted);

        await SequencePipelineTests.AppendAndDeliverAsync(provider, [Requested(lead)]);
        await SequencePipelineTests.DispatchAsync(provider);

        EmailMessage message = sender.Sent.ShouldHaveSingleItem().Message;
        message.To.ShouldBe(lead.Email);
        message.Subject.ShouldBe("Here is Quick Start Guide");
        message.TextBody.ShouldContain(Link);
        message.HtmlBody!.ShouldContain("href=\"" + Link.Replace("&", "&amp;", StringComparison.Ordinal) + "\"");
        provider.GetRequiredService<InMemoryFunnelEventLog>().Snapshot().OfType<EmailSent>().ShouldHaveSingleItem().Email.ShouldBe("deliver");
    }

    [Fact]
    public async Task DeliveryRequested_Redelivered_MailsOnce()
    {
        FakeClock clock = new(Start);
        RecordingSender sender = new(clock);
        using ServiceProvider provider = SequencePipelineTests.Services(clock, sender);
        LeadProfile lead = await SequencePipelineTests.AddLeadAsync(provider, ConsentStatus.Granted);
        LeadMagnetDeliveryRequested requested = Requested(lead);
        SequenceEngine engine = provider.GetRequiredService<SequenceEngine>();

        await engine.HandleAsync(requested);
        await engine.HandleAsync(requested); // redelivered by the pipeline after a crash
        await SequencePipelineTests.DispatchAsync(provider);

        sender.Sent.ShouldHaveSingleItem();
    }

    [Fact]
    public async Task DeliveryRequested_UnsubscribedLead_IsSuppressed()
    {
        FakeClock clock = new(Start);
        RecordingSender sender = new(clock);
        using ServiceProvider provider = SequencePipelineTests.Services(clock, sender);
        LeadProfile lead = await SequencePipelineTests.AddLeadAsync(provider, ConsentStatus.Granted);
        ILeadStore leads = provider.GetRequiredService<ILeadStore>();
        LeadProfile stored = (await leads.FindAsync(lead.Id))!;
        (await leads.TryUpdateAsync(stored, stored with { UnsubscribedAt = Start, Version = stored.Version + 1 })).ShouldBeTrue();

        await SequencePipelineTests.AppendAndDeliverAsync(provider, [Requested(lead)]);
        await SequencePipelineTests.DispatchAsync(provider);

        sender.Sent.ShouldBeEmpty();
        provider.GetRequiredService<InMemoryFunnelEventLog>().Snapshot().OfType<EmailSuppressed>().ShouldHaveSingleItem().Reason.ShouldBe("unsubscribed");
    }

    [Fact]
    public async Task AddFunnelSequences_DefinitionWithTheSameKey_ReplacesTheBuiltInDelivery()
    {
        FakeClock clock = new(Start);
        RecordingSender sender = new(clock);
        SequenceDefinition mine = FunnelSequences.LeadMagnetDelivery with
        {
            Steps = [FunnelSequences.LeadMagnetDelivery.Steps[0] with { Subject = "Ihr Download: {{ magnet_title }}" }],
        };
        using ServiceProvider provider = SequencePipelineTests.Services(clock, sender, mine);
        LeadProfile lead = await SequencePipelineTests.AddLeadAsync(provider, ConsentStatus.Granted);

        await SequencePipelineTests.AppendAndDeliverAsync(provider, [Requested(lead)]);
        await SequencePipelineTests.DispatchAsync(provider);

        sender.Sent.ShouldHaveSingleItem().Message.Subject.ShouldBe("Ihr Download: Quick Start Guide");
    }

    [Fact]
    public void LeadMagnetDelivery_Definition_IsTransactionalAlwaysReEnteredAndTriggeredByDeliveryRequested()
    {
        SequenceDefinition definition = FunnelSequences.LeadMagnetDelivery;

        definition.Key.ShouldBe("lead-magnet-delivery");
        definition.IsMarketing.ShouldBeFalse();
        definition.ReEntry.ShouldBe(ReEntryPolicy.Always);
        definition.Triggers.ShouldHaveSingleItem().Matches(Requested(new LeadProfile
        {
            Id = LeadId.New(), Email = EmailAddress.Parse("a@example.com"), CreatedAt = Start, Stage = LifecycleStage.Lead,
        })).ShouldBeTrue();
        definition.Triggers.Single().Matches(new OptedIn { LeadId = LeadId.New(), OccurredAt = Start, Magnet = "x" }).ShouldBeFalse();
        new SequenceDefinitionValidator().Validate(definition).IsValid.ShouldBeTrue();
    }

    private static LeadMagnetDeliveryRequested Requested(LeadProfile lead) => new()
    {
        LeadId = lead.Id,
        OccurredAt = Start,
        Magnet = "quick-start-guide",
        MagnetTitle = "Quick Start Guide",
        DownloadUrl = Link,
    };
}
