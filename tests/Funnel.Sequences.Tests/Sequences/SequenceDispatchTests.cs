using System.Collections.Immutable;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Tests.Sequences;

public class SequenceDispatchTests
{
    private static readonly string[] Zones =
    [
        "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/St_Johns",
        "America/Sao_Paulo", "Europe/London", "Europe/Dublin", "Europe/Berlin", "Europe/Moscow",
        "Africa/Johannesburg", "Asia/Dubai", "Asia/Tehran", "Asia/Kolkata", "Asia/Kathmandu",
        "Asia/Tokyo", "Australia/Adelaide", "Australia/Sydney", "Pacific/Auckland", "UTC",
    ];

    [Fact]
    public async Task Dispatch_ThousandLeadsInTwentyZonesAcrossDst_SendsEachEmailOnceAtNineLocalAndBuyersExit()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture, GuideSequences.Welcome]);
        Dictionary<LeadId, (DateTimeZone Zone, Instant OptIn, Instant? Order)> leads = [];
        List<LeadEvent> events = [];
        for (int i = 0; i < 1000; i++)
        {
            LeadProfile lead = await world.AddLeadAsync(i, Zones[i % Zones.Length], firstName: "Lead" + i);
            Instant optIn = SequenceWorld.Start + Duration.FromMinutes(30 + (i * 10));
            Instant? order = i % 10 == 3 ? optIn + Duration.FromHours(60) : null;
            leads[lead.Id] = (DateTimeZoneProviders.Tzdb[Zones[i % Zones.Length]], optIn, order);
            events.Add(SequenceWorld.OptIn(lead.Id, optIn));
            if (order is { } at)
            {
                events.Add(SequenceWorld.Order(lead.Id, at));
                events.Add(new Funnel.Offers.EntitlementGranted { LeadId = lead.Id, OccurredAt = at, Order = OrderId.New(), Product = GuideSequences.Course }); // paid: the welcome starts
            }
        }

        // Walk a fake clock in 15-minute ticks from 24 March to 12 April 2026: through the EU spring-forward
        // (29 March) and the Australian and New Zealand fall-back (5 April). Events are handled when they happen.
        Queue<LeadEvent> pending = new(events.OrderBy(e => e.OccurredAt));
        List<FunnelEvent> emitted = [];
        Instant end = Instant.FromUtc(2026, 4, 12, 0, 0);
        while (world.Clock.GetCurrentInstant() < end)
        {
            Instant next = world.Clock.GetCurrentInstant() + Duration.FromMinutes(15);
            while (pending.Count > 0 && pending.Peek().OccurredAt <= next)
            {
                LeadEvent e = pending.Dequeue();
                world.Clock.Reset(e.OccurredAt);
                emitted.AddRange(await engine.HandleAsync(e));
            }

            world.Clock.Reset(next);
            DispatchResult result;
            do
            {
                result = await engine.DispatchDueAsync();
                emitted.AddRange(result.Events);
            }
            while (result.Claimed > 0);
        }

        var sent = sender.Sent.Select(s => (s.Message, s.At, Lead: world.Leads.FindByEmailAsync(s.Message.To).Result!.Id)).ToList();
        sent.Select(s => s.Message.IdempotencyKey).ShouldBeUnique();
        foreach ((LeadId id, (DateTimeZone zone, Instant optIn, Instant? order)) in leads)
        {
            var mine = sent.Where(s => s.Lead == id).ToList();
            string[] nurture = [.. mine.Where(s => s.Message.Subject is not null && IsNurture(s.Message)).Select(s => KeyOf(s.Message))];
            nurture.ShouldBeUnique();
            foreach (var s in mine)
            {
                s.At.ShouldBeGreaterThanOrEqualTo(optIn);
                string key = KeyOf(s.Message);
                if (key is "nurture-1" or "welcome-1")
                {
                    (s.At - (key == "nurture-1" ? optIn : order!.Value)).ShouldBeLessThan(Duration.FromMinutes(15));
                }
                else
                {
                    s.At.InZone(zone).TimeOfDay.ShouldBe(new LocalTime(9, 0), $"{key} to {zone.Id} at {s.At}");
                }
            }

            if (order is { } bought)
            {
                nurture.Length.ShouldBeLessThan(7);
                mine.Where(s => IsNurture(s.Message)).ShouldAllBe(s => s.At < bought);
                mine.Count(s => !IsNurture(s.Message)).ShouldBe(5);
            }
            else
            {
                // Nobody opens the guide here, so day 3's branch sends the reminder to open it.
                nurture.ShouldBe(["nurture-1", "nurture-2", "nurture-3", "nurture-4-reminder", "nurture-5", "nurture-6", "nurture-7"]);
            }
        }

        // The clock really crossed the changes: Berlin's 09:00 was 08:00 UTC before 29 March and 07:00 UTC after.
        var berlin = sent.Where(s => leads[s.Lead].Zone.Id == "Europe/Berlin" && !IsFirst(s.Message)).Select(s => s.At.InUtc().Hour).Distinct().Order().ToArray();
        berlin.ShouldBe([7, 8]);
        var sydney = sent.Where(s => leads[s.Lead].Zone.Id == "Australia/Sydney" && !IsFirst(s.Message)).Select(s => s.At.InUtc().Hour).Distinct().Order().ToArray();
        sydney.ShouldBe([22, 23]);
        world.Outbox.Snapshot().Count(e => e.State == SendState.Sent).ShouldBe(sent.Count);

        // The events the KPI report reads agree with the transport: one email_sent per message, every buyer exited.
        emitted.OfType<EmailSent>().Select(e => (e.LeadId, e.Email)).ShouldBeUnique();
        emitted.OfType<EmailSent>().Count().ShouldBe(sent.Count);
        emitted.OfType<SequenceExited>().Select(e => e.LeadId.Value).Order().ShouldBe(leads.Where(l => l.Value.Order is not null).Select(l => l.Key.Value).Order());
        emitted.OfType<SequenceCompleted>().Count(e => e.Sequence == GuideSequences.Nurture.Key).ShouldBe(leads.Count(l => l.Value.Order is null));
    }

    [Fact]
    public async Task Dispatch_TwoDispatchersAtOnce_SendEveryEmailExactlyOnce()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceOptions options = new() { BatchSize = 40 };
        SequenceEngine a = world.Engine(sender, [GuideSequences.Nurture], options, "a");
        SequenceEngine b = world.Engine(sender, [GuideSequences.Nurture], options, "b");
        for (int i = 0; i < 300; i++)
        {
            LeadProfile lead = await world.AddLeadAsync(i, Zones[i % Zones.Length]);
            await a.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        }

        int claimedByA = 0, claimedByB = 0;
        for (int tick = 0; tick < 12 * 24; tick++)
        {
            world.Clock.Advance(Duration.FromHours(1));
            while (true)
            {
                DispatchResult[] results = await Task.WhenAll(Task.Run(() => a.DispatchDueAsync()), Task.Run(() => b.DispatchDueAsync()));
                claimedByA += results[0].Claimed;
                claimedByB += results[1].Claimed;
                if (results.All(r => r.Claimed == 0))
                {
                    break;
                }
            }
        }

        sender.Sent.Count.ShouldBe(300 * 7);
        sender.Sent.Select(s => s.Message.IdempotencyKey).ShouldBeUnique();
        claimedByA.ShouldBeGreaterThan(0);
        claimedByB.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Dispatch_CrashMidBatchBeforeTheServerAccepts_NoDuplicateAndNoLossAfterTheLease()
    {
        SequenceWorld world = new();
        SequenceOptions options = new() { BatchSize = 100, Lease = Duration.FromMinutes(5) };
        using CancellationTokenSource kill = new(); // the host shutting down: the sender sees its token cancelled
        RecordingSender crashing = new(world.Clock) { BeforeAccept = n => { if (n == 30) { kill.Cancel(); kill.Token.ThrowIfCancellationRequested(); } } };
        SequenceEngine first = world.Engine(crashing, [GuideSequences.Nurture], options, "first");
        for (int i = 0; i < 100; i++)
        {
            LeadProfile lead = await world.AddLeadAsync(i);
            await first.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        }

        world.Clock.Advance(Duration.FromMinutes(1));
        await Should.ThrowAsync<OperationCanceledException>(() => first.DispatchDueAsync(kill.Token));
        crashing.Sent.Count.ShouldBe(29);
        world.Outbox.Snapshot().Count(e => e.State == SendState.Sending).ShouldBe(71);

        // The restarted process: the crashed claims are not due until their lease ends, then they are sent once.
        RecordingSender restarted = new(world.Clock);
        SequenceEngine second = world.Engine(restarted, [GuideSequences.Nurture], options, "second");
        (await second.DispatchDueAsync()).Claimed.ShouldBe(0);
        await world.RunUntilAsync(second, world.Clock.GetCurrentInstant() + Duration.FromDays(10), Duration.FromMinutes(30));

        string[] all = [.. crashing.Sent.Concat(restarted.Sent).Select(s => s.Message.IdempotencyKey)];
        all.ShouldBeUnique();
        all.Length.ShouldBe(100 * 7);
        world.Enrolments.Snapshot().ShouldAllBe(e => e.Status == EnrolmentStatus.Completed);
    }

    [Fact]
    public async Task Dispatch_CrashAfterTheServerAccepted_ResendsWithTheSameKeyAndRecordsOnce()
    {
        SequenceWorld world = new();
        SequenceOptions options = new() { Lease = Duration.FromMinutes(5) };
        using CancellationTokenSource kill = new(); // the host shutting down: the sender sees its token cancelled
        RecordingSender crashing = new(world.Clock) { AfterAccept = n => { if (n == 3) { kill.Cancel(); kill.Token.ThrowIfCancellationRequested(); } } };
        SequenceEngine first = world.Engine(crashing, [GuideSequences.Nurture], options);
        for (int i = 0; i < 5; i++)
        {
            LeadProfile lead = await world.AddLeadAsync(i);
            await first.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        }

        world.Clock.Advance(Duration.FromMinutes(1));
        await Should.ThrowAsync<OperationCanceledException>(() => first.DispatchDueAsync(kill.Token));
        RecordingSender restarted = new(world.Clock);
        List<FunnelEvent> events = await world.RunUntilAsync(world.Engine(restarted, [GuideSequences.Nurture], options), world.Clock.GetCurrentInstant() + Duration.FromMinutes(10), Duration.FromMinutes(1));

        // The documented window: the transport saw the third message twice, with the same idempotency key (and so the
        // same Message-ID); the records and the events count it once, and the crashed batch's two recorded sends keep
        // their events (the outbox hands them out to the restarted process).
        string[] transport = [.. crashing.Sent.Concat(restarted.Sent).Select(s => s.Message.IdempotencyKey)];
        transport.Length.ShouldBe(6);
        transport.Distinct().Count().ShouldBe(5);
        world.Outbox.Snapshot().Count(e => e.State == SendState.Sent).ShouldBe(5);
        events.OfType<EmailSent>().Count().ShouldBe(5);
        events.OfType<EmailSent>().Select(e => e.LeadId).ShouldBeUnique();
    }

    [Fact]
    public async Task Dispatch_UnsubscribedBouncedComplainedOrUnconsentedLeads_GetNothingAndEmitSuppressed()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture]);
        LeadProfile[] leads =
        [
            await world.AddLeadAsync(1, change: p => p with { UnsubscribedAt = SequenceWorld.Start }),
            await world.AddLeadAsync(2, change: p => p with { BouncedAt = SequenceWorld.Start }),
            await world.AddLeadAsync(3, change: p => p with { ComplainedAt = SequenceWorld.Start }),
            await world.AddLeadAsync(4, consent: ConsentStatus.None),
            await world.AddLeadAsync(5),
            await world.AddLeadAsync(6, consent: ConsentStatus.Pending), // waits for the confirmation: not suppressed.
        ];
        foreach (LeadProfile lead in leads)
        {
            await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        }

        List<FunnelEvent> events = await world.RunUntilAsync(engine, SequenceWorld.Start + Duration.FromDays(10), Duration.FromHours(1));

        sender.Sent.ShouldAllBe(s => s.Message.To == leads[4].Email);
        sender.Sent.Count.ShouldBe(7);
        events.OfType<EmailSuppressed>().Select(e => e.Reason).Distinct().Order().ShouldBe(["bounced", "complained", "no_consent", "unsubscribed"]);
        events.OfType<EmailSuppressed>().Count().ShouldBe(4 * 7);
        events.OfType<EmailSuppressed>().ShouldNotContain(e => e.LeadId == leads[5].Id);
        world.Enrolments.Snapshot().Single(e => e.LeadId == leads[5].Id).Status.ShouldBe(EnrolmentStatus.AwaitingConsent);
    }

    [Fact]
    public async Task Dispatch_TransientFailures_RetryWithDoublingBackoffThenFailPermanently()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock) { Script = (_, _) => EmailSendResult.Transient("451 try later") };
        SequenceOptions options = new() { MaxAttempts = 4, RetryDelay = Duration.FromMinutes(1) };
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture], options);
        LeadProfile lead = await world.AddLeadAsync(1);
        await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));

        List<Instant> attempts = [];
        List<FunnelEvent> events = [];
        for (int minute = 0; minute < 20; minute++)
        {
            int before = sender.Calls;
            events.AddRange((await engine.DispatchDueAsync()).Events);
            if (sender.Calls > before)
            {
                attempts.Add(world.Clock.GetCurrentInstant());
            }

            world.Clock.Advance(Duration.FromMinutes(1));
        }

        attempts.Select(a => (a - SequenceWorld.Start).TotalMinutes).ShouldBe([0, 1, 3, 7]);
        EmailFailed[] failed = [.. events.OfType<EmailFailed>().Where(e => e.Email == "nurture-1")];
        failed.Select(f => f.Permanent).ShouldBe([false, false, false, true]);
        OutboxEntry entry = world.Outbox.Snapshot().Single(e => e.StepIndex == 0);
        entry.State.ShouldBe(SendState.FailedPermanent);
        entry.Reason.ShouldBe("451 try later");
    }

    [Fact]
    public async Task Dispatch_PermanentFailure_IsRecordedAndTheSequenceMovesOn()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock) { Script = (n, _) => n == 1 ? EmailSendResult.Permanent("550 no such user") : null };
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture]);
        LeadProfile lead = await world.AddLeadAsync(1);
        await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));

        List<FunnelEvent> events = await world.RunUntilAsync(engine, SequenceWorld.Start + Duration.FromDays(10), Duration.FromHours(1));

        events.OfType<EmailFailed>().Single().ShouldSatisfyAllConditions(f => f.Permanent.ShouldBeTrue(), f => f.Error.ShouldBe("550 no such user"));
        world.Outbox.Snapshot().Single(e => e.StepIndex == 0).State.ShouldBe(SendState.FailedPermanent);
        sender.Sent.Count.ShouldBe(6);
    }

    [Fact]
    public async Task Dispatch_SecondMarketingEmailTheSameLocalDay_IsDeferredToTheNextDayNotDropped()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceDefinition promo = new()
        {
            Key = "promo",
            Triggers = [global::Funnel.Definitions.EventMatch.For(EventTypes.SalesPageVisited)],
            Steps = [new SequenceStep { Key = "promo-1", Timing = StepTiming.AfterEnrolment, Subject = "Still thinking?", TextBody = "The doors close soon." }],
        };
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture, promo]);
        LeadProfile lead = await world.AddLeadAsync(1, "Europe/Berlin");
        Instant optIn = Instant.FromUtc(2026, 3, 24, 6, 0); // 07:00 in Berlin
        world.Clock.Reset(optIn);
        await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, optIn));
        await engine.DispatchDueAsync();
        world.Clock.Advance(Duration.FromHours(2));
        await engine.HandleAsync(new SalesPageVisited { LeadId = lead.Id, OccurredAt = world.Clock.GetCurrentInstant(), Offer = GuideSequences.Offer });

        DispatchResult result = await engine.DispatchDueAsync();

        result.Deferred.ShouldBe(1);
        result.Sent.ShouldBe(0);
        world.Outbox.Snapshot().Single(e => e.Sequence == "promo").DueAt.ShouldBe(Instant.FromUtc(2026, 3, 24, 23, 0)); // midnight in Berlin
        await world.RunUntilAsync(engine, Instant.FromUtc(2026, 3, 25, 12, 0), Duration.FromMinutes(15));
        sender.Sent.Select(s => s.Message.Subject).ShouldContain("Still thinking?");
    }

    [Fact]
    public async Task HandleAsync_WebinarRegistration_SchedulesRemindersFromTheStartAndSkipsPassedOnes()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceEngine engine = world.Engine(sender, [GuideSequences.WebinarReminders]);
        LeadProfile early = await world.AddLeadAsync(1);
        LeadProfile late = await world.AddLeadAsync(2);
        Instant startsAt = SequenceWorld.Start + Duration.FromDays(3) + Duration.FromHours(17);
        await engine.HandleAsync(new WebinarRegistered { LeadId = early.Id, OccurredAt = SequenceWorld.Start, Webinar = GuideSequences.Webinar, StartsAt = startsAt });
        await engine.HandleAsync(new WebinarRegistered { LeadId = late.Id, OccurredAt = startsAt - Duration.FromHours(5), Webinar = GuideSequences.Webinar, StartsAt = startsAt });

        List<FunnelEvent> events = await world.RunUntilAsync(engine, startsAt + Duration.FromHours(1), Duration.FromMinutes(1));

        sender.Sent.Where(s => s.Message.To == early.Email).Select(s => s.At).ShouldBe([startsAt - Duration.FromHours(24), startsAt - Duration.FromHours(1), startsAt]);
        sender.Sent.Where(s => s.Message.To == late.Email).Select(s => s.At).ShouldBe([startsAt - Duration.FromHours(1), startsAt]);
        world.Outbox.Snapshot().Single(e => e.LeadId == late.Id && e.StepIndex == 0).State.ShouldBe(SendState.Skipped);
        events.OfType<SequenceCompleted>().Count().ShouldBe(2);
    }

    [Fact]
    public async Task HandleAsync_SameTriggerTwice_EnrolsOnceUnderNeverReEntry()
    {
        SequenceWorld world = new();
        SequenceEngine engine = world.Engine(new RecordingSender(world.Clock), [GuideSequences.Nurture]);
        LeadProfile lead = await world.AddLeadAsync(1);

        ImmutableArray<FunnelEvent> first = await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        ImmutableArray<FunnelEvent> second = await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start + Duration.FromDays(30)));

        first.OfType<SequenceEnrolled>().Count().ShouldBe(1);
        second.ShouldBeEmpty();
        world.Enrolments.Snapshot().Count.ShouldBe(1);
    }

    [Fact]
    public async Task Dispatch_RenderedMessage_PersonalisesEscapesHtmlAndCarriesOneClickUnsubscribe()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceOptions options = new() { From = "Jane <jane@example.com>", Tracking = new TrackingOptions { BaseUrl = "https://example.com/email", SigningKey = new string('k', 32) } };
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture], options);
        LeadProfile lead = await world.AddLeadAsync(1, firstName: "<Ann & Co>");
        await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));

        await engine.DispatchDueAsync();

        EmailMessage message = sender.Sent.Single().Message;
        message.From.ShouldBe("Jane <jane@example.com>");
        message.TextBody.ShouldStartWith("Hi <Ann & Co>, here is your guide");
        message.HtmlBody!.ShouldContain("Hi &lt;Ann &amp; Co&gt;, here is your guide");
        message.HtmlBody!.ShouldContain("https://example.com/email/open/");
        message.Headers["List-Unsubscribe-Post"].ShouldBe("List-Unsubscribe=One-Click");
        string url = message.Headers["List-Unsubscribe"].Trim('<', '>');
        message.TextBody.ShouldContain(url);
        new TrackingLinks(options.Tracking).TryReadToken(url[(url.LastIndexOf('/') + 1)..], out TrackingToken? token).ShouldBeTrue();
        token!.ShouldBe(new TrackingToken(TrackingAction.Unsubscribe, lead.Id, "nurture-1"));
    }

    [Fact]
    public async Task Dispatch_StepWithTagConditions_IsSkippedWhenTheLeadLacksTheTag()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceDefinition definition = new()
        {
            Key = "vip",
            Steps =
            [
                new SequenceStep { Key = "vip-1", Timing = StepTiming.AfterEnrolment, RequiredTags = ["vip"], Subject = "For VIPs", TextBody = "Hello" },
                new SequenceStep { Key = "all-1", Delay = Period.FromHours(1), Subject = "For all", TextBody = "Hello" },
            ],
        };
        SequenceEngine engine = world.Engine(sender, [definition], new SequenceOptions { OneMarketingEmailPerDay = false });
        LeadProfile vip = await world.AddLeadAsync(1, change: p => p with { Tags = p.Tags.Add("vip") });
        LeadProfile other = await world.AddLeadAsync(2);
        await engine.EnrolAsync(vip.Id, "vip", SequenceWorld.Start);
        await engine.EnrolAsync(other.Id, "vip", SequenceWorld.Start);

        await world.RunUntilAsync(engine, SequenceWorld.Start + Duration.FromHours(3), Duration.FromMinutes(15));

        sender.Sent.Where(s => s.Message.To == vip.Email).Select(s => s.Message.Subject).ShouldBe(["For VIPs", "For all"]);
        sender.Sent.Where(s => s.Message.To == other.Email).Select(s => s.Message.Subject).ShouldBe(["For all"]);
    }

    private static string KeyOf(EmailMessage message) => message.IdempotencyKey[(message.IdempotencyKey.IndexOf(':', StringComparison.Ordinal) + 1)..];

    private static bool IsNurture(EmailMessage message) => KeyOf(message).StartsWith("nurture-", StringComparison.Ordinal);

    private static bool IsFirst(EmailMessage message) => KeyOf(message) is "nurture-1" or "welcome-1";
}
