using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Tests.Broadcasts;

public sealed class BroadcastTests
{
    private static readonly Instant SendAt = BroadcastWorld.Start + Duration.FromHours(1);

    [Fact]
    public async Task ScheduleAsync_BeforeItsInstant_QueuesNothingAndThenEveryMemberOnceAtTheInstant()
    {
        using BroadcastWorld world = new();
        await world.AddMembersAsync(5);

        await world.AddMemberAsync(6, member: false);

        Broadcast scheduled = await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo());

        scheduled.Status.ShouldBe(BroadcastStatus.Scheduled);
        scheduled.DueAt.ShouldBe(SendAt);
        (await world.Broadcasts.QueueDueAsync()).ShouldBe(0);
        world.Clock.Reset(SendAt);
        (await world.Broadcasts.QueueDueAsync()).ShouldBe(5);
        (await world.Broadcasts.QueueDueAsync()).ShouldBe(0);
        Broadcast queued = (await world.Broadcasts.FindAsync("webinar-promo")).ShouldNotBeNull();
        queued.Status.ShouldBe(BroadcastStatus.Queued);
        queued.Queued.ShouldBe(5);
        queued.CompletedAt.ShouldBe(SendAt);

        await world.DispatchAllAsync();

        world.Sender.Sent.Select(s => s.Message.To.Value).Order().ShouldBe([.. Enumerable.Range(1, 5).Select(n => $"reader{n}@example.com")]);
        world.Sender.Sent.ShouldAllBe(s => s.Message.Subject == "Live webinar on Thursday" && s.Message.EmailKey == "webinar-promo" && s.At == SendAt);
        world.Events.OfType<EmailSent>().Count(e => e.Email == "webinar-promo").ShouldBe(5);
    }

    [Fact]
    public async Task DispatchDueAsync_UnsubscribedNoConsentAndLeftTheSegment_SuppressesSkipsAndRecordsWhy()
    {
        using BroadcastWorld world = new();
        LeadProfile kept = await world.AddMemberAsync(1);
        LeadProfile unsubscribed = await world.AddMemberAsync(2, change: p => p with { UnsubscribedAt = BroadcastWorld.Start });
        LeadProfile noConsent = await world.AddMemberAsync(3, change: p => p with { Consent = null });
        LeadProfile left = await world.AddMemberAsync(4);
        await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo());
        world.Clock.Reset(SendAt);
        (await world.Broadcasts.QueueDueAsync()).ShouldBe(4);
        await world.LeaveSegmentAsync(left.Id);

        await world.DispatchAllAsync();

        world.Sender.Sent.ShouldHaveSingleItem().Message.To.ShouldBe(kept.Email);
        ImmutableArray<FunnelEvent> events = world.Events;
        events.OfType<EmailSuppressed>().Select(e => (e.LeadId, e.Reason)).OrderBy(e => e.Reason)
            .ShouldBe([(noConsent.Id, "no_consent"), (unsubscribed.Id, "unsubscribed")]);
        events.OfType<EmailSkipped>().ShouldHaveSingleItem().ShouldSatisfyAllConditions(
            e => e.LeadId.ShouldBe(left.Id), e => e.Reason.ShouldBe("left_segment"), e => e.Email.ShouldBe("webinar-promo"));
        BroadcastMetrics metrics = BroadcastMetrics.Compute(events, "webinar-promo");
        metrics.Email.Sent.ShouldBe(1);
        metrics.Suppressed.ShouldBe(2);
        metrics.Skipped.ShouldBe(1);
    }

    [Fact]
    public async Task QueueDueAsync_LocalSendAt_DuesEachLeadAtItsOwnLocalTimeAndStartsInTheEarliestZone()
    {
        using BroadcastWorld world = new();
        await world.AddMemberAsync(1, "Asia/Tokyo");
        await world.AddMemberAsync(2, "America/New_York");
        await world.AddMemberAsync(3, zone: null); // the business zone, Europe/Berlin
        await world.AddMemberAsync(4, "Pacific/Kiritimati"); // UTC+14
        LocalDateTime nine = new(2026, 12, 8, 9, 0);

        Broadcast scheduled = await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo() with { SendAt = null, LocalSendAt = nine });

        scheduled.DueAt.ShouldBe(Instant.FromUtc(2026, 12, 7, 19, 0));
        world.Clock.Reset(scheduled.DueAt);
        (await world.Broadcasts.QueueDueAsync()).ShouldBe(4);
        ImmutableArray<OutboxEntry> pending = await world.PendingAsync();
        pending.ToDictionary(e => e.LeadId, e => e.DueAt).ShouldBe(new Dictionary<LeadId, Instant>
        {
            [BroadcastWorld.Lead(1)] = Instant.FromUtc(2026, 12, 8, 0, 0),
            [BroadcastWorld.Lead(2)] = Instant.FromUtc(2026, 12, 8, 14, 0),
            [BroadcastWorld.Lead(3)] = Instant.FromUtc(2026, 12, 8, 8, 0),
            [BroadcastWorld.Lead(4)] = Instant.FromUtc(2026, 12, 7, 19, 0),
        }, ignoreOrder: true);
    }

    [Fact]
    public async Task QueueDueAsync_LocalSendAtInADaylightSavingGap_SendsAtTheFirstInstantAfterTheGap()
    {
        using BroadcastWorld world = new();
        await world.AddMemberAsync(1, "Europe/Berlin");
        Broadcast scheduled = await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo() with { SendAt = null, LocalSendAt = new LocalDateTime(2027, 3, 28, 2, 30) });
        world.Clock.Reset(scheduled.DueAt);

        await world.Broadcasts.QueueDueAsync();

        // 02:30 does not exist in Berlin that night (02:00 CET jumps to 03:00 CEST): the lenient resolver moves it on by the gap.
        (await world.PendingAsync()).ShouldHaveSingleItem().DueAt.ShouldBe(Instant.FromUtc(2027, 3, 28, 1, 30));
    }

    [Fact]
    public async Task QueueDueAsync_StartedLate_DuesThePassedSendsAtTheStartOfQueuing()
    {
        using BroadcastWorld world = new();
        await world.AddMemberAsync(1);
        await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo());
        Instant late = SendAt + Duration.FromMinutes(40);
        world.Clock.Reset(late);

        await world.Broadcasts.QueueDueAsync();

        (await world.PendingAsync()).ShouldHaveSingleItem().DueAt.ShouldBe(late);
    }

    [Fact]
    public async Task QueueDueAsync_Throttled_SpreadsTheSendsOverMinutesAcrossPages()
    {
        using BroadcastWorld world = new();
        int members = BroadcastService.Page + 600;
        await world.AddMembersAsync(members);

        await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo() with { MaxSendsPerMinute = 700 });
        world.Clock.Reset(SendAt);

        (await world.Broadcasts.QueueDueAsync()).ShouldBe(members);

        ImmutableArray<OutboxEntry> pending = await world.PendingAsync();
        pending.GroupBy(e => e.DueAt).OrderBy(g => g.Key).Select(g => (g.Key, g.Count())).ShouldBe(
        [
            (SendAt, 700),
            (SendAt + Duration.FromMinutes(1), 700),
            (SendAt + Duration.FromMinutes(2), 200),
        ]);
        (await world.Broadcasts.FindAsync("webinar-promo"))!.Slots.ShouldBe([new BroadcastSlot(SendAt, members)]);
    }

    [Fact]
    public async Task CancelAsync_AfterQueuing_CancelsTheSendsNotYetMade()
    {
        using BroadcastWorld world = new();
        await world.AddMemberAsync(1);
        await world.AddMemberAsync(2);
        await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo());
        world.Clock.Reset(SendAt);
        await world.Broadcasts.QueueDueAsync();

        (await world.Broadcasts.CancelAsync("webinar-promo")).ShouldBeTrue();
        (await world.Broadcasts.CancelAsync("webinar-promo")).ShouldBeFalse();
        (await world.Broadcasts.CancelAsync("no-such-broadcast")).ShouldBeFalse();
        DispatchResult result = await world.Engine.DispatchDueAsync();

        result.Cancelled.ShouldBe(2);
        world.Sender.Sent.ShouldBeEmpty();
        (await world.Outbox.ListAsync(SendState.Cancelled, 10)).Length.ShouldBe(2);
    }

    [Fact]
    public async Task CancelAsync_BeforeItsInstant_QueuesNothing()
    {
        using BroadcastWorld world = new();
        await world.AddMemberAsync(1);
        await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo());

        await world.Broadcasts.CancelAsync("webinar-promo");
        world.Clock.Reset(SendAt);

        (await world.Broadcasts.QueueDueAsync()).ShouldBe(0);
        (await world.PendingAsync()).ShouldBeEmpty();
        (await world.Broadcasts.FindAsync("webinar-promo"))!.Status.ShouldBe(BroadcastStatus.Cancelled);
    }

    [Fact]
    public async Task QueueDueAsync_TwoInstancesAtOnce_QueueEachMemberOnce()
    {
        using BroadcastWorld world = new();
        int members = (2 * BroadcastService.Page) + 17;
        await world.AddMembersAsync(members);

        await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo());
        world.Clock.Reset(SendAt);
        // A second service over the same stores stands for a second app instance.
        BroadcastService other = ActivatorUtilities.CreateInstance<BroadcastServiceFactory>(world.Services).Create();

        int[] queued = await Task.WhenAll(world.Broadcasts.QueueDueAsync(), other.QueueDueAsync(), world.Broadcasts.QueueDueAsync());

        queued.Sum().ShouldBe(members);
        (await world.PendingAsync()).Select(e => e.LeadId).Distinct().Count().ShouldBe(members);
        (await world.PendingAsync()).Length.ShouldBe(members);
    }

    [Fact]
    public async Task QueueDueAsync_AfterAnInstanceDiedMidway_ResumesAtItsCursorWhenTheLeaseEnds()
    {
        using BroadcastWorld world = new();
        int members = (2 * BroadcastService.Page) + 5;
        await world.AddMembersAsync(members);

        await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo());
        world.Clock.Reset(SendAt);
        IBroadcastStore store = world.Services.GetRequiredService<IBroadcastStore>();
        Broadcast scheduled = (await store.FindAsync("webinar-promo"))!;
        // The dead instance claimed it and queued the first page (the outbox has it, the cursor says so), then died.
        ImmutableArray<Segments.SegmentMember> firstPage = await world.Members.ListMembersAsync("newsletter", null, BroadcastService.Page);
        await world.Outbox.TryAddManyAsync([.. firstPage.Select(m => Entry(m.Lead))]);
        (await store.TryUpdateAsync(scheduled, scheduled with
        {
            Status = BroadcastStatus.Queuing,
            ClaimedBy = "dead",
            StartedAt = SendAt,
            DueAt = SendAt + Duration.FromMinutes(5),
            Cursor = firstPage[^1].Lead,
            Queued = firstPage.Length,
        })).ShouldBeTrue();

        (await world.Broadcasts.QueueDueAsync()).ShouldBe(0); // still under the dead instance's lease
        world.Clock.Advance(Duration.FromMinutes(5));
        (await world.Broadcasts.QueueDueAsync()).ShouldBe(members - BroadcastService.Page);

        (await world.PendingAsync()).Length.ShouldBe(members);
        Broadcast done = (await store.FindAsync("webinar-promo"))!;
        done.Status.ShouldBe(BroadcastStatus.Queued);
        done.Queued.ShouldBe(members);

        static OutboxEntry Entry(LeadId lead)
        {
            EnrolmentId enrolment = Funnel.Sequences.Broadcasts.EnrolmentOf("webinar-promo", lead);
            return new OutboxEntry
            {
                Key = OutboxEntry.KeyOf(enrolment, "webinar-promo"),
                Enrolment = enrolment,
                LeadId = lead,
                Sequence = "broadcast:webinar-promo",
                StepIndex = 0,
                ScheduledFor = SendAt,
                DueAt = SendAt,
            };
        }
    }

    [Fact]
    public async Task DispatchDueAsync_LeadAlreadyMailedToday_DefersTheBroadcastToTheSameLocalTimeTomorrow()
    {
        using BroadcastWorld world = new();
        LeadProfile lead = await world.AddMemberAsync(1, "Europe/Berlin");
        await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo());
        world.Clock.Reset(SendAt);
        await world.Broadcasts.QueueDueAsync();
        IEnrolmentStore enrolments = world.Services.GetRequiredService<IEnrolmentStore>();
        // Today's marketing email went out already (the frequency cap's day is taken).
        (await enrolments.TryReserveDaysAsync([(lead.Id, new LocalDate(2026, 12, 7), "earlier:send")])).ShouldHaveSingleItem();

        DispatchResult result = await world.Engine.DispatchDueAsync();

        result.Deferred.ShouldBe(1);
        world.Sender.Sent.ShouldBeEmpty();
        // 13:00 UTC is 14:00 in Berlin: the same local time the next day.
        (await world.PendingAsync()).ShouldHaveSingleItem().DueAt.ShouldBe(Instant.FromUtc(2026, 12, 8, 13, 0));
    }

    [Fact]
    public async Task DispatchDueAsync_WithVariants_SendsEachLeadItsStickyVariantAndRecordsIt()
    {
        using BroadcastWorld world = new();
        await world.AddMembersAsync(40);

        await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo() with
        {
            Variants = [new EmailVariant { Key = EmailVariant.ControlKey }, new EmailVariant { Key = "question", Subject = "Coming on Thursday?" }],
        });
        world.Clock.Reset(SendAt);
        await world.Broadcasts.QueueDueAsync();

        await world.DispatchAllAsync();

        ImmutableArray<EmailSent> sent = [.. world.Events.OfType<EmailSent>()];
        sent.Length.ShouldBe(40);
        foreach (EmailSent e in sent)
        {
            EmailVariant expected = EmailVariants.Assign(EmailVariants.TestKey("broadcast:webinar-promo", "webinar-promo"), e.LeadId,
                [new EmailVariant { Key = EmailVariant.ControlKey }, new EmailVariant { Key = "question", Subject = "Coming on Thursday?" }])!;
            e.Variant.ShouldBe(expected.Key);
        }

        sent.Select(e => e.Variant).Distinct().Count().ShouldBe(2);
        world.Sender.Sent.Count(s => s.Message.Subject == "Coming on Thursday?").ShouldBe(sent.Count(e => e.Variant == "question"));
    }

    [Fact]
    public async Task ScheduleAsync_InvalidDefinitions_ThrowNamingThePropertyAndTheProblem()
    {
        using BroadcastWorld world = new();

        (await Should.ThrowAsync<ArgumentException>(() => world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo() with { LocalSendAt = new LocalDateTime(2026, 12, 8, 9, 0) })))
            .Message.ShouldContain("Set exactly one of 'SendAt'");
        (await Should.ThrowAsync<ArgumentException>(() => world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo() with { SendAt = null })))
            .Message.ShouldContain("Set exactly one of 'SendAt'");
        (await Should.ThrowAsync<ArgumentException>(() => world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo() with { MaxSendsPerMinute = 0 })))
            .Message.ShouldContain("MaxSendsPerMinute");
        (await Should.ThrowAsync<ArgumentException>(() => world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo() with { Segment = "vip" })))
            .Message.ShouldContain("Segment: 'vip' is not a tracked segment");
        (await Should.ThrowAsync<ArgumentException>(() => world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo() with { Key = "Not A Key" })))
            .Message.ShouldContain("Key");
        ArgumentException field = await Should.ThrowAsync<ArgumentException>(() => world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo() with { TextBody = "Hi {{ first_name }}" }));
        field.Message.ShouldContain("TextBody");
        field.Message.ShouldContain("first_name");
    }

    [Fact]
    public async Task DispatchDueAsync_BroadcastOfATopicTheLeadLeft_SuppressesItAndSendsTheOthers()
    {
        using BroadcastWorld world = new();
        LeadProfile stays = await world.AddMemberAsync(1);
        LeadProfile left = await world.AddMemberAsync(2, change: p => p.ApplySuppression(new EmailUnsubscribed { LeadId = p.Id, OccurredAt = BroadcastWorld.Start, Email = "older-promo", Topic = "webinars" }));
        await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo() with { Topic = "webinars" });
        // A broadcast of no topic the next day (the frequency cap allows one marketing email a day).
        await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo("tips") with { Subject = "Three tips", SendAt = SendAt + Duration.FromDays(1) });
        foreach (Instant at in (Instant[])[SendAt, SendAt + Duration.FromDays(1)])
        {
            world.Clock.Reset(at);
            await world.Broadcasts.QueueDueAsync();
            await world.DispatchAllAsync();
        }

        world.Sender.Sent.Select(s => (s.Message.To.Value, s.Message.EmailKey)).Order().ShouldBe(
        [
            (stays.Email.Value, "tips"),
            (stays.Email.Value, "webinar-promo"),
            (left.Email.Value, "tips"),
        ]);
        EmailSuppressed suppressed = world.Events.OfType<EmailSuppressed>().ShouldHaveSingleItem();
        (suppressed.LeadId, suppressed.Email, suppressed.Reason).ShouldBe((left.Id, "webinar-promo", "unsubscribed_topic"));
    }

    [Fact]
    public async Task ScheduleAsync_UnregisteredTopic_ThrowsNamingIt()
    {
        using BroadcastWorld world = new();

        ArgumentException error = await Should.ThrowAsync<ArgumentException>(() => world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo() with { Topic = "podcasts" }));

        error.Message.ShouldContain("Topic: 'podcasts' is not a registered topic");
    }

    [Fact]
    public void SequenceEngine_SequenceWithAnUnregisteredTopic_ThrowsNamingSequenceAndTopic()
    {
        using BroadcastWorld world = new();
        SequenceDefinition tips = new()
        {
            Key = "tips",
            Topic = "podcasts",
            Steps = [new SequenceStep { Key = "tips-1", Subject = "Tip", TextBody = "A tip." }],
        };

        ArgumentException error = Should.Throw<ArgumentException>(() => new SequenceEngine(new SequenceEngineSettings
        {
            Definitions = [tips],
            Topics = [new Email.EmailTopic { Key = "webinars", Title = "Webinar invitations" }],
            Enrolments = world.Services.GetRequiredService<IEnrolmentStore>(),
            Outbox = world.Outbox,
            Leads = world.Leads,
            Sender = world.Sender,
            EventLog = new InMemoryFunnelEventLog(),
            Clock = world.Clock,
        }));

        error.Message.ShouldContain("Sequence 'tips' has the topic 'podcasts', which is not registered");
    }

    [Fact]
    public async Task ScheduleAsync_ExistingKey_ThrowsAndKeepsTheFirst()
    {
        using BroadcastWorld world = new();
        await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo());

        (await Should.ThrowAsync<InvalidOperationException>(() => world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo() with { Subject = "Other" })))
            .Message.ShouldContain("'webinar-promo' exists already");
        (await world.Broadcasts.FindAsync("webinar-promo"))!.Definition.Subject.ShouldBe("Live webinar on Thursday");
    }

    [Fact]
    public async Task ScheduleAsync_KeyOfASequenceEmail_Throws()
    {
        using BroadcastWorld world = new();

        ArgumentException error = await Should.ThrowAsync<ArgumentException>(() => world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo(FunnelSequences.OptInConfirmation.Steps[0].Key)));

        error.Message.ShouldContain("is the key of a sequence email");
    }

    [Fact]
    public async Task BroadcastQueueJob_Registered_QueuesTheStartedBroadcasts()
    {
        using BroadcastWorld world = new();
        await world.AddMemberAsync(1);
        await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo());
        world.Clock.Reset(SendAt);
        IFunnelJob job = world.Services.GetServices<IFunnelJob>().Single(j => j.Name == "broadcast-queue");

        await job.RunAsync();

        (await world.PendingAsync()).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task DispatchDueAsync_EngineWithoutABroadcastStore_FailsTheSendNamingTheStore()
    {
        using BroadcastWorld world = new();
        await world.AddMemberAsync(1);
        await world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo());
        world.Clock.Reset(SendAt);
        await world.Broadcasts.QueueDueAsync();
        SequenceEngine bare = new(new SequenceEngineSettings
        {
            Definitions = [],
            Enrolments = world.Services.GetRequiredService<IEnrolmentStore>(),
            Outbox = world.Outbox,
            Leads = world.Leads,
            Sender = world.Sender,
            EventLog = new InMemoryFunnelEventLog(),
            Clock = world.Clock,
        });

        DispatchResult result = await bare.DispatchDueAsync();

        result.Failed.ShouldBe(1);
        (await world.Outbox.ListAsync(SendState.FailedPermanent, 10)).ShouldHaveSingleItem().Reason.ShouldBe("Broadcasts are not configured: no broadcast store.");
    }

    /// <summary>Builds a second <see cref="BroadcastService"/> over the app's stores, as a second instance would.</summary>
    private sealed class BroadcastServiceFactory(IServiceProvider services)
    {
        public BroadcastService Create()
        {
            ServiceCollection copy = new();
            copy.AddSingleton(services.GetRequiredService<IClock>());
            copy.AddSingleton(services.GetRequiredService<IBroadcastStore>());
            copy.AddSingleton(services.GetRequiredService<Segments.ISegmentMembershipStore>());
            copy.AddSingleton(services.GetRequiredService<ILeadStore>());
            copy.AddSingleton(services.GetRequiredService<ISendOutbox>());
            copy.AddSingleton<Email.IEmailSender>(new Tests.Sequences.RecordingSender(services.GetRequiredService<IClock>()));
            copy.AddSingleton(new Segments.SegmentDefinition("newsletter", new Segments.TagRule("newsletter")));
            copy.AddFunnel(o => o.TimeZoneId = "Europe/Berlin");
            copy.AddFunnelSequences();
            return copy.BuildServiceProvider().GetRequiredService<BroadcastService>();
        }
    }
}
