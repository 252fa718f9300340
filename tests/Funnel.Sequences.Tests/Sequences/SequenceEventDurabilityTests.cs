using Funnel.Events;
using Funnel.Leads;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Tests.Sequences;

public class SequenceEventDurabilityTests
{
    private const int Leads = 3;
    private const int Steps = 7;

    [Fact]
    public async Task Dispatch_CrashMidBatchAfterSomeSends_EverySentEmailHasExactlyOneSentEventAfterRecovery()
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
        world.Outbox.UnacknowledgedEvents.ShouldBe(29); // the crashed batch's events were recorded with its sends.

        RecordingSender restarted = new(world.Clock);
        SequenceEngine second = world.Engine(restarted, [GuideSequences.Nurture], options, "second");
        List<FunnelEvent> events = [.. (await second.DispatchDueAsync()).Events];
        events.OfType<EmailSent>().Count().ShouldBe(29); // handed out by the next dispatch, before the lease even ends.
        events.AddRange(await world.RunUntilAsync(second, world.Clock.GetCurrentInstant() + Duration.FromDays(10), Duration.FromMinutes(30)));

        var sentKeys = crashing.Sent.Concat(restarted.Sent).Select(s => s.Message.IdempotencyKey).ToList();
        sentKeys.Count.ShouldBe(100 * Steps);
        EmailSent[] sentEvents = [.. events.OfType<EmailSent>()];
        sentEvents.Length.ShouldBe(100 * Steps);
        sentEvents.Select(e => (e.LeadId, e.Email)).ShouldBeUnique();
        events.Select(e => e.Id).ShouldBeUnique();
        events.OfType<SequenceCompleted>().Count().ShouldBe(100);
        world.Outbox.UnacknowledgedEvents.ShouldBe(0);
    }

    public static TheoryData<bool> CrashModes => new() { false, true };

    [Theory]
    [MemberData(nameof(CrashModes))]
    public async Task Dispatch_CrashAtEveryStoreWrite_NoEventLostOrDoubledAndNoEmailLost(bool afterWrite)
    {
        int total = (await RunWithCrashAsync(crashAt: 0, afterWrite)).Writes;
        total.ShouldBeGreaterThan(Leads * Steps * 3);

        for (int crashAt = 1; crashAt <= total; crashAt++)
        {
            CrashRun run = await RunWithCrashAsync(crashAt, afterWrite);
            string at = $"crash {(afterWrite ? "after" : "before")} write {crashAt}";
            run.Crashed.ShouldBeTrue(at);
            run.World.Outbox.Snapshot().Count(e => e.State == SendState.Sent).ShouldBe(Leads * Steps, at);
            run.Transport.Distinct().Count().ShouldBe(Leads * Steps, at);
            run.Transport.Count.ShouldBeLessThanOrEqualTo((Leads * Steps) + 1, at); // the documented window: crash between accept and record.
            EmailSent[] sent = [.. run.Events.OfType<EmailSent>()];
            sent.Select(e => (e.LeadId, e.Email)).ShouldBeUnique(at);
            sent.Length.ShouldBe(Leads * Steps, at);
            run.Events.OfType<SequenceCompleted>().Select(e => e.Enrolment).ShouldBeUnique(at);
            run.Events.OfType<SequenceCompleted>().Count().ShouldBe(Leads, at);
            run.World.Enrolments.Snapshot().ShouldAllBe(e => e.Status == EnrolmentStatus.Completed, at);
            run.World.Outbox.UnacknowledgedEvents.ShouldBe(0, at);
        }
    }

    [Fact]
    public async Task DispatchDueAsync_CrashBetweenAppendAndAcknowledge_AppendsTheSameEventsOnceAfterTheLease()
    {
        SequenceWorld world = new();
        SequenceOptions options = new() { Lease = Duration.FromMinutes(5) };
        AcknowledgeCrashingOutbox crashing = new(world.Outbox);
        LeadProfile lead = await world.AddLeadAsync(1);
        await world.Engine(new RecordingSender(world.Clock), [GuideSequences.Nurture], options).HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        SequenceEngine first = world.Engine(new RecordingSender(world.Clock), [GuideSequences.Nurture], options, outbox: crashing);

        await Should.ThrowAsync<InvalidOperationException>(() => first.DispatchDueAsync());
        EmailSent sent = world.EventLog.Snapshot().OfType<EmailSent>().ShouldHaveSingleItem(); // appended before the crash.
        world.Outbox.UnacknowledgedEvents.ShouldBe(1);

        SequenceEngine second = world.Engine(new RecordingSender(world.Clock), [GuideSequences.Nurture], options);
        (await second.DrainEventsAsync()).ShouldBeEmpty(); // still leased to the crashed dispatcher.
        world.Clock.Advance(Duration.FromMinutes(6));
        (await second.DrainEventsAsync()).ShouldHaveSingleItem().Id.ShouldBe(sent.Id);

        world.EventLog.Snapshot().OfType<EmailSent>().ShouldHaveSingleItem();
        world.Outbox.UnacknowledgedEvents.ShouldBe(0);
    }

    [Fact]
    public async Task DispatchDueAsync_EventLogFails_LeavesTheEventsInTheOutboxUnacknowledged()
    {
        SequenceWorld world = new();
        LeadProfile lead = await world.AddLeadAsync(1);
        SequenceEngine engine = world.Engine(new RecordingSender(world.Clock), [GuideSequences.Nurture]);
        await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        SequenceEngine broken = new(new SequenceEngineSettings
        {
            Definitions = [GuideSequences.Nurture],
            Enrolments = world.Enrolments,
            Outbox = world.Outbox,
            Leads = world.Leads,
            Sender = new RecordingSender(world.Clock),
            EventLog = new FailingEventLog(),
            Clock = world.Clock,
        });

        await Should.ThrowAsync<InvalidOperationException>(() => broken.DispatchDueAsync());

        world.Outbox.UnacknowledgedEvents.ShouldBe(1);
        world.Clock.Advance(Duration.FromMinutes(6));
        (await engine.DrainEventsAsync()).OfType<EmailSent>().ShouldHaveSingleItem();
        world.EventLog.Snapshot().OfType<EmailSent>().ShouldHaveSingleItem();
    }

    /// <summary>An outbox whose acknowledgement "kills the process" after the events were appended to the log.</summary>
    private sealed class AcknowledgeCrashingOutbox(ISendOutbox inner) : ISendOutbox
    {
        public Task<bool> TryAddAsync(OutboxEntry entry, CancellationToken cancellationToken = default) => inner.TryAddAsync(entry, cancellationToken);

        public Task<OutboxEntry?> FindAsync(string key, CancellationToken cancellationToken = default) => inner.FindAsync(key, cancellationToken);

        public Task<int> PurgeCompletedAsync(Instant completedBefore, int max, CancellationToken cancellationToken = default) =>
            inner.PurgeCompletedAsync(completedBefore, max, cancellationToken);

        public Task<System.Collections.Immutable.ImmutableArray<OutboxEntry>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default) =>
            inner.ClaimDueAsync(now, max, lease, owner, cancellationToken);

        public Task<bool> TryUpdateAsync(OutboxEntry current, OutboxEntry replacement, CancellationToken cancellationToken = default) =>
            inner.TryUpdateAsync(current, replacement, cancellationToken);

        public Task<System.Collections.Immutable.ImmutableArray<FunnelEvent>> ClaimEventsAsync(Instant now, int max, Duration lease, CancellationToken cancellationToken = default) =>
            inner.ClaimEventsAsync(now, max, lease, cancellationToken);

        public Task AcknowledgeEventsAsync(IEnumerable<EventId> ids, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("process killed before acknowledging");
    }

    private sealed class FailingEventLog : Funnel.Pipeline.IFunnelEventLog
    {
        public Task<int> AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("the log is down");

        public Task<IReadOnlyList<Funnel.Pipeline.LoggedEvent>> ReadAsync(long after, int max, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<Funnel.Pipeline.LoggedEvent>>([]);

        public Task<IReadOnlyList<Funnel.Pipeline.LoggedEvent>> ReadLeadAsync(LeadId lead, int max, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<Funnel.Pipeline.LoggedEvent>>([]);
    }

    [Fact]
    public async Task DispatchDueAsync_TwoDispatchersAtOnce_HandOutEachEventOnce()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceOptions options = new() { BatchSize = 25 };
        SequenceEngine a = world.Engine(sender, [GuideSequences.Nurture], options, "a");
        SequenceEngine b = world.Engine(sender, [GuideSequences.Nurture], options, "b");
        for (int i = 0; i < 100; i++)
        {
            LeadProfile lead = await world.AddLeadAsync(i);
            await a.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        }

        List<FunnelEvent> events = [];
        for (int tick = 0; tick < 10 * 24; tick++)
        {
            world.Clock.Advance(Duration.FromHours(1));
            DispatchResult[] results;
            do
            {
                results = await Task.WhenAll(Task.Run(() => a.DispatchDueAsync()), Task.Run(() => b.DispatchDueAsync()));
                events.AddRange(results.SelectMany(r => r.Events));
            }
            while (results.Any(r => r.Claimed > 0));
        }

        events.OfType<EmailSent>().Count().ShouldBe(sender.Sent.Count);
        sender.Sent.Count.ShouldBe(100 * Steps);
        events.Select(e => e.Id).ShouldBeUnique();
    }

    private static async Task<CrashRun> RunWithCrashAsync(int crashAt, bool afterWrite)
    {
        SequenceWorld world = new();
        CrashSwitch crash = new() { CrashAt = crashAt, AfterWrite = afterWrite };
        CrashingOutbox outbox = new(world.Outbox, crash);
        CrashingEnrolments enrolments = new(world.Enrolments, crash);
        SequenceOptions options = new() { Lease = Duration.FromMinutes(5) };
        List<string> transport = [];
        List<FunnelEvent> events = [];
        RecordingSender sender = new(world.Clock);
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture], options, "first", outbox, enrolments);
        for (int i = 0; i < Leads; i++)
        {
            LeadProfile lead = await world.AddLeadAsync(i);
            await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        }

        crash.Armed = true;
        Instant end = SequenceWorld.Start + Duration.FromDays(10);
        while (world.Clock.GetCurrentInstant() < end)
        {
            world.Clock.Advance(Duration.FromHours(1));
            try
            {
                DispatchResult result;
                do
                {
                    result = await engine.DispatchDueAsync();
                    events.AddRange(result.Events);
                }
                while (result.Claimed > 0);
            }
            catch (OperationCanceledException)
            {
                // The process died: a new one starts with the same stores.
                engine = world.Engine(sender, [GuideSequences.Nurture], options, "restarted", outbox, enrolments);
            }
        }

        transport.AddRange(sender.Sent.Select(s => s.Message.IdempotencyKey));
        return new CrashRun(world, crash.Writes, crash.Crashed, transport, events);
    }

    private sealed record CrashRun(SequenceWorld World, int Writes, bool Crashed, List<string> Transport, List<FunnelEvent> Events);
}
