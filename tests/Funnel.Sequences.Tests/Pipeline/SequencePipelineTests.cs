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

/// <summary>The sequences on the pipeline: the engine records its own events, the "sequences" handler enrols.</summary>
public sealed class SequencePipelineTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 24, 10, 0);

    [Fact]
    public async Task HandleAsyncAndDispatch_NobodyAppends_EveryEventIsInTheLogOnce()
    {
        SequenceWorld world = new();
        SequenceEngine engine = world.Engine(new RecordingSender(world.Clock), [GuideSequences.Nurture]);
        LeadProfile lead = await world.AddLeadAsync(1);

        await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        await world.RunUntilAsync(engine, SequenceWorld.Start + Duration.FromDays(10), Duration.FromHours(1));

        IReadOnlyList<FunnelEvent> log = world.EventLog.Snapshot();
        log.OfType<SequenceEnrolled>().ShouldHaveSingleItem();
        log.OfType<EmailSent>().Count().ShouldBe(GuideSequences.Nurture.Steps.Length);
        log.OfType<SequenceCompleted>().ShouldHaveSingleItem();
        log.Select(e => e.Id).ShouldBeUnique();
    }

    [Fact]
    public async Task HandleAsync_ExitGoalDeliveredTwice_RecordsOneExit()
    {
        SequenceWorld world = new();
        SequenceEngine engine = world.Engine(new RecordingSender(world.Clock), [GuideSequences.Nurture]);
        LeadProfile lead = await world.AddLeadAsync(1);
        await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        OrderPlaced order = SequenceWorld.Order(lead.Id, SequenceWorld.Start + Duration.FromHours(2));

        await engine.HandleAsync(order);
        await engine.HandleAsync(order);

        world.EventLog.Snapshot().OfType<SequenceExited>().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task SequencesHandler_SameOptedInDeliveredTwice_EnrolsOnceAndSendsOneFirstEmail()
    {
        FakeClock clock = new(Start);
        RecordingSender sender = new(clock);
        using ServiceProvider provider = Services(clock, sender, GuideSequences.Nurture);
        LeadProfile lead = await AddLeadAsync(provider, ConsentStatus.Granted);
        OptedIn optIn = SequenceWorld.OptIn(lead.Id, Start);
        SequencesHandler handler = provider.GetRequiredService<SequencesHandler>(); // the one AddFunnelSequences registers as "sequences".

        await handler.HandleAsync(optIn);
        await handler.HandleAsync(optIn); // at-least-once delivery: the same event again.
        await DispatchAsync(provider);

        provider.GetRequiredService<IEnrolmentStore>().ShouldBeOfType<InMemoryEnrolmentStore>().Snapshot().ShouldHaveSingleItem();
        sender.Sent.ShouldHaveSingleItem().Message.Subject.ShouldBe(GuideSequences.Nurture.Steps[0].Subject);
        IReadOnlyList<FunnelEvent> log = provider.GetRequiredService<InMemoryFunnelEventLog>().Snapshot();
        log.OfType<SequenceEnrolled>().ShouldHaveSingleItem();
        log.OfType<EmailSent>().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task Pipeline_OptedInAppended_TheSequencesHandlerEnrolsWithNoHostCode()
    {
        FakeClock clock = new(Start);
        RecordingSender sender = new(clock);
        using ServiceProvider provider = Services(clock, sender, GuideSequences.Nurture);
        LeadProfile lead = await AddLeadAsync(provider, ConsentStatus.Granted);
        IFunnelEventLog log = provider.GetRequiredService<IFunnelEventLog>();

        await log.AppendAsync([SequenceWorld.OptIn(lead.Id, Start)]);
        await provider.GetRequiredService<FunnelPipeline>().DeliverAllAsync();
        await DispatchAsync(provider);

        sender.Sent.ShouldHaveSingleItem();
        (await log.ReadAsync(0, 100)).Select(e => e.Event).OfType<SequenceEnrolled>().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task DoubleOptIn_GuideNurture_NothingBeforeConfirmationThenTheGuideAndTheDaysFromIt()
    {
        DateTimeZone berlin = DateTimeZoneProviders.Tzdb["Europe/Berlin"];
        FakeClock clock = new(Start); // 11:00 in Berlin
        RecordingSender sender = new(clock);
        using ServiceProvider provider = Services(clock, sender, GuideSequences.Nurture);
        LeadCapture capture = provider.GetRequiredService<LeadCapture>();
        LeadMagnet magnet = new() { Key = GuideSequences.Magnet, Title = "Quick Start Guide", Kind = LeadMagnetKind.Guide, DoubleOptIn = true };
        OptInResult optIn = await capture.OptInAsync(new OptInRequest { Email = "ada@example.com", Magnet = magnet, TimeZoneId = "Europe/Berlin" });
        await AppendAndDeliverAsync(provider, optIn.Events);

        for (int i = 0; i < 24; i++)
        {
            clock.Advance(Duration.FromHours(1));
            await DispatchAsync(provider);
        }

        sender.Sent.ShouldBeEmpty(); // a day unconfirmed: nothing sent, nothing suppressed.
        provider.GetRequiredService<InMemoryFunnelEventLog>().Snapshot().OfType<EmailSuppressed>().ShouldBeEmpty();
        clock.Advance(Duration.FromHours(12)); // 25 March, 23:00 in Berlin.
        Instant confirmedAt = clock.GetCurrentInstant();
        ConfirmationResult confirmed = await capture.ConfirmAsync(optIn.ConfirmationToken!);
        await AppendAndDeliverAsync(provider, [confirmed.Event!]);
        for (int i = 0; i < 10 * 24 * 4; i++)
        {
            await DispatchAsync(provider);
            clock.Advance(Duration.FromMinutes(15));
        }

        sender.Sent.Count.ShouldBe(GuideSequences.Nurture.Steps.Length);
        sender.Sent[0].Message.Subject.ShouldBe(GuideSequences.Nurture.Steps[0].Subject);
        sender.Sent[0].At.ShouldBe(confirmedAt);
        sender.Sent[1].At.InZone(berlin).LocalDateTime.ShouldBe(new LocalDateTime(2026, 3, 26, 9, 0)); // day 1 after the confirmation.
        sender.Sent[4].At.InZone(berlin).LocalDateTime.ShouldBe(new LocalDateTime(2026, 3, 29, 9, 0)); // day 4, across the DST change.
    }

    [Fact]
    public async Task DoubleOptIn_NeverConfirmed_NeverSendsAndStaysAwaitingConsent()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture]);
        LeadProfile lead = await world.AddLeadAsync(1, consent: ConsentStatus.Pending);

        (await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start))).ShouldBeEmpty();
        await world.RunUntilAsync(engine, SequenceWorld.Start + Duration.FromDays(30), Duration.FromHours(6));

        sender.Sent.ShouldBeEmpty();
        world.Enrolments.Snapshot().ShouldHaveSingleItem().Status.ShouldBe(EnrolmentStatus.AwaitingConsent);
        world.EventLog.Snapshot().ShouldBeEmpty();
    }

    [Fact]
    public async Task HandleAsync_ConfirmationDeliveredTwice_StartsTheWaitingEnrolmentOnce()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture]);
        LeadProfile lead = await world.AddLeadAsync(1, consent: ConsentStatus.Pending);
        await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        await world.Leads.TryUpdateAsync(lead, lead with { Consent = lead.Consent! with { Status = ConsentStatus.Granted } });
        OptInConfirmed confirmed = new() { LeadId = lead.Id, OccurredAt = SequenceWorld.Start + Duration.FromHours(1), Purpose = "marketing-email" };

        await engine.HandleAsync(confirmed);
        await engine.HandleAsync(confirmed);
        world.Clock.Reset(confirmed.OccurredAt);
        await engine.DispatchDueAsync();

        sender.Sent.ShouldHaveSingleItem();
        Enrolment enrolment = world.Enrolments.Snapshot().ShouldHaveSingleItem();
        enrolment.Status.ShouldBe(EnrolmentStatus.Active);
        enrolment.EnrolledAt.ShouldBe(confirmed.OccurredAt);
        world.EventLog.Snapshot().OfType<SequenceEnrolled>().ShouldHaveSingleItem().OccurredAt.ShouldBe(confirmed.OccurredAt);
    }

    internal static ServiceProvider Services(FakeClock clock, IEmailSender sender, params SequenceDefinition[] definitions)
    {
        ServiceCollection services = new();
        services.AddSingleton<IClock>(clock);
        services.AddSingleton(sender);
        services.AddSingleton<InMemoryFunnelEventLog>();
        services.AddSingleton<IFunnelEventLog>(sp => sp.GetRequiredService<InMemoryFunnelEventLog>());
        foreach (SequenceDefinition definition in definitions)
        {
            services.AddSingleton(definition);
        }

        services.AddFunnel(o => o.TimeZoneId = "Europe/Berlin").AddFunnelSequences();
        services.Configure<SequenceOptions>(o => o.OneMarketingEmailPerDay = false);
        return services.BuildServiceProvider();
    }

    internal static async Task<LeadProfile> AddLeadAsync(IServiceProvider provider, ConsentStatus consent, string email = "grace@example.com")
    {
        LeadProfile profile = new()
        {
            Id = LeadId.New(),
            Email = EmailAddress.Parse(email),
            CreatedAt = Start,
            TimeZoneId = "Europe/Berlin",
            Consent = new ConsentRecord { Purpose = "marketing-email", Status = consent, Method = ConsentMethod.SingleOptIn, Source = "test", RecordedAt = Start },
        };
        (await provider.GetRequiredService<ILeadStore>().TryAddAsync(profile)).ShouldBeTrue();
        return profile;
    }

    internal static async Task AppendAndDeliverAsync(IServiceProvider provider, IReadOnlyList<FunnelEvent> events)
    {
        await provider.GetRequiredService<IFunnelEventLog>().AppendAsync(events);
        await provider.GetRequiredService<FunnelPipeline>().DeliverAllAsync();
    }

    internal static async Task DispatchAsync(IServiceProvider provider)
    {
        SequenceEngine engine = provider.GetRequiredService<SequenceEngine>();
        while ((await engine.DispatchDueAsync()).Claimed > 0)
        {
        }
    }
}
