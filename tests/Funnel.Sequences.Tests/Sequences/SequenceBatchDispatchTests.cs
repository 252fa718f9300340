using System.Collections.Concurrent;
using System.Collections.Immutable;
using Funnel.Definitions;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Tests.Sequences;

/// <summary>The batched dispatch path: store calls per batch, the outcome coalescer, bounded concurrency and the lease margin.</summary>
public class SequenceBatchDispatchTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(50)]
    [InlineData(200)]
    public async Task DispatchDueAsync_BatchOfAnySize_CostsTheSameStoreCalls(int leads)
    {
        (SequenceWorld world, StoreCalls calls, ProbedOutbox outbox, ProbedEnrolments enrolments, ProbedLeads leadStore) = await ProbedWorldAsync(leads);
        RecordingSender sender = new(world.Clock);
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture], outbox: outbox, enrolments: enrolments, leads: leadStore);
        // A durable store commits slower than a no-op sender sends: the first outcome flush is still in flight
        // while the other sends of the batch finish.
        TaskCompletionSource commit = new(TaskCreationOptions.RunContinuationsAsynchronously);
        outbox.BeforeUpdateMany = (n, _) => n == 1 ? commit.Task : Task.CompletedTask;

        Task<DispatchResult> dispatch = engine.DispatchDueAsync();
        sender.Calls.ShouldBe(leads);
        commit.SetResult();
        DispatchResult result = await dispatch.WaitAsync(Patience);

        result.Sent.ShouldBe(leads);
        calls.All.Select(c => c.Call).ShouldBe(
        [
            "Outbox.ClaimDue", "Enrolments.ListForLeads", "Leads.FindMany", "Enrolments.TryReserveDays",
            "Outbox.TryUpdateMany", "Outbox.TryUpdateMany", // the outcomes: the first send's, then all that finished meanwhile
            "Enrolments.TryUpdateMany", "Outbox.TryAddAndUpdateMany", // enrolments, then next steps and final states together
            "Outbox.ClaimEvents", "Outbox.AcknowledgeEvents",
        ]);
        calls.Sizes("Outbox.TryUpdateMany").ShouldBe([1, leads - 1]);
        calls.Sizes("Outbox.TryAddAndUpdateMany").ShouldBe([leads]);
        world.Outbox.Snapshot().Count(e => e.State == SendState.Sent).ShouldBe(leads);
        world.Outbox.Snapshot().Count(e => e.State == SendState.Pending && e.StepIndex == 1).ShouldBe(leads);
        world.Enrolments.Snapshot().ShouldAllBe(e => e.LastSentAt == world.Clock.GetCurrentInstant());
        world.EventLog.Snapshot().OfType<EmailSent>().Count().ShouldBe(leads);
    }

    [Fact]
    public async Task DispatchDueAsync_SlowSendAndSlowFlush_OutcomesThatFinishMeanwhileJoinTheNextFlushBeforeTheSlowSendEnds()
    {
        const int Leads = 20;
        (SequenceWorld world, StoreCalls calls, ProbedOutbox outbox, _, _) = await ProbedWorldAsync(Leads);
        TaskCompletionSource slowSend = new(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskCompletionSource firstFlush = new(TaskCreationOptions.RunContinuationsAsynchronously);
        GatedSender sender = new(n => n == 1 ? slowSend.Task : null);
        outbox.BeforeUpdateMany = (n, _) => n == 1 ? firstFlush.Task : Task.CompletedTask;
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture], new SequenceOptions { SendConcurrency = 8 }, outbox: outbox);

        Task<DispatchResult> dispatch = engine.DispatchDueAsync();

        // Every send started while the first flush (the second send's outcome) was in flight and the first send hangs.
        sender.Calls.ShouldBe(Leads);
        calls.Sizes("Outbox.TryUpdateMany").ShouldBe([1]);
        firstFlush.SetResult();
        await Until(() => world.Outbox.Snapshot().Count(e => e.Outcome == SendState.Sent) == Leads - 1);
        calls.Sizes("Outbox.TryUpdateMany").ShouldBe([1, Leads - 2]);
        world.Outbox.Snapshot().Where(e => e.Outcome == SendState.Sent).ShouldAllBe(e => e.State == SendState.Sending); // recorded, still claimed
        dispatch.IsCompleted.ShouldBeFalse();

        slowSend.SetResult();
        DispatchResult result = await dispatch.WaitAsync(Patience);

        result.Sent.ShouldBe(Leads);
        calls.Sizes("Outbox.TryUpdateMany").ShouldBe([1, Leads - 2, 1]); // three outcome flushes
        calls.Sizes("Outbox.TryAddAndUpdateMany").ShouldBe([Leads]); // then the next steps and final states
        world.Outbox.Snapshot().Count(e => e.State == SendState.Sent).ShouldBe(Leads);
    }

    [Fact]
    public async Task DispatchDueAsync_SlowSends_NeverHasMoreThanSendConcurrencyInFlight()
    {
        const int Leads = 30;
        const int Concurrency = 4;
        (SequenceWorld world, _, _, _, _) = await ProbedWorldAsync(Leads);
        using SemaphoreSlim started = new(0);
        using SemaphoreSlim gate = new(0);
        int inFlight = 0, most = 0;
        GatedSender sender = new(_ => Hold());
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture], new SequenceOptions { SendConcurrency = Concurrency });

        Task<DispatchResult> dispatch = engine.DispatchDueAsync();
        for (int i = 0; i < Concurrency; i++)
        {
            (await started.WaitAsync(Patience)).ShouldBeTrue();
        }

        sender.Calls.ShouldBe(Concurrency); // the dispatcher waits for a free slot before the next send
        gate.Release(Leads);
        DispatchResult result = await dispatch.WaitAsync(Patience);

        result.Sent.ShouldBe(Leads);
        most.ShouldBe(Concurrency);
        sender.Accepted.ShouldBeUnique();
        sender.Accepted.Count.ShouldBe(Leads);

        async Task Hold()
        {
            int now = Interlocked.Increment(ref inFlight);
            int seen;
            while (now > (seen = Volatile.Read(ref most)) && Interlocked.CompareExchange(ref most, now, seen) != seen)
            {
            }

            started.Release();
            await gate.WaitAsync();
            Interlocked.Decrement(ref inFlight);
        }
    }

    [Fact]
    public async Task DispatchDueAsync_SenderSlowerThanTheLease_StartsNoSendWithinTheSafetyMarginAndReleasesTheRest()
    {
        const int Leads = 10;
        (SequenceWorld world, _, _, _, _) = await ProbedWorldAsync(Leads);
        ConcurrentQueue<Instant> starts = new();
        Duration perSend = Duration.FromMinutes(1);
        GatedSender sender = new(_ =>
        {
            starts.Enqueue(world.Clock.GetCurrentInstant());
            world.Clock.Advance(perSend); // each send takes a minute
            return null;
        });
        SequenceOptions options = new() { Lease = Duration.FromMinutes(5), LeaseSafetyMargin = Duration.FromMinutes(1), SendConcurrency = 1 };
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture], options);
        Instant claimedAt = world.Clock.GetCurrentInstant();

        DispatchResult result = await engine.DispatchDueAsync();

        result.Claimed.ShouldBe(Leads);
        result.Sent.ShouldBe(4);
        result.Released.ShouldBe(6);
        starts.ShouldAllBe(at => at < claimedAt + options.Lease - options.LeaseSafetyMargin);
        OutboxEntry[] released = [.. world.Outbox.Snapshot().Where(e => e.StepIndex == 0 && e.State != SendState.Sent)];
        released.Length.ShouldBe(6);
        released.ShouldAllBe(e => e.State == SendState.Pending && e.DueAt == claimedAt + Duration.FromMinutes(4) && e.ClaimedBy == null && e.Attempts == 0);

        // Released, not left claimed: the next dispatch takes them at once, and each is sent once.
        DispatchResult next;
        do
        {
            next = await engine.DispatchDueAsync();
        }
        while (next.Claimed > 0);

        sender.Accepted.Count.ShouldBe(Leads);
        sender.Accepted.ShouldBeUnique();
        world.Outbox.Snapshot().Count(e => e.StepIndex == 0 && e.State == SendState.Sent).ShouldBe(Leads);
    }

    [Fact]
    public async Task DispatchDueAsync_EnrolmentChangedDuringTheBatch_RereadsAndRetriesOnlyThatEnrolment()
    {
        const int Leads = 10;
        (SequenceWorld world, StoreCalls calls, _, ProbedEnrolments enrolments, _) = await ProbedWorldAsync(Leads);
        Enrolment changed = world.Enrolments.Snapshot().OrderBy(e => e.Id.Value).First();
        enrolments.BeforeUpdateMany = async (n, _) =>
        {
            if (n == 1)
            {
                Enrolment stored = (await world.Enrolments.FindAsync(changed.Id))!;
                (await world.Enrolments.TryUpdateAsync(stored, stored with { Fields = stored.Fields.Add("note", "changed meanwhile") })).ShouldBeTrue();
            }
        };
        SequenceEngine engine = world.Engine(new RecordingSender(world.Clock), [GuideSequences.Nurture], enrolments: enrolments);

        DispatchResult result = await engine.DispatchDueAsync();

        result.Sent.ShouldBe(Leads);
        calls.Sizes("Enrolments.TryUpdateMany").ShouldBe([Leads, 1]);
        calls.Sizes("Enrolments.ListForLeads").ShouldBe([Leads, 1]);
        Enrolment after = (await world.Enrolments.FindAsync(changed.Id))!;
        after.Fields["note"].ShouldBe("changed meanwhile");
        after.LastSentAt.ShouldBe(world.Clock.GetCurrentInstant());
        world.Enrolments.Snapshot().ShouldAllBe(e => e.LastSentAt != null);
    }

    [Fact]
    public async Task DispatchDueAsync_OutcomeFlushFails_StartsNoFurtherSendAndThrowsTheFailure()
    {
        const int Leads = 10;
        (SequenceWorld world, _, ProbedOutbox outbox, _, _) = await ProbedWorldAsync(Leads);
        outbox.BeforeUpdateMany = (_, _) => Task.FromException(new InvalidOperationException("disk full"));
        SequenceOptions options = new() { Lease = Duration.FromMinutes(5) };
        RecordingSender first = new(world.Clock);

        await Should.ThrowAsync<InvalidOperationException>(() => world.Engine(first, [GuideSequences.Nurture], options, outbox: outbox).DispatchDueAsync());

        first.Sent.Count.ShouldBe(1); // the one send whose outcome could not be stored
        world.Outbox.Snapshot().Where(e => e.StepIndex == 0).ShouldAllBe(e => e.State == SendState.Sending && e.Outcome == null);

        // After the lease a healthy dispatcher sends all ten: the failed flush's one send is the documented repeat.
        world.Clock.Advance(Duration.FromMinutes(6));
        RecordingSender second = new(world.Clock);
        (await world.Engine(second, [GuideSequences.Nurture], options).DispatchDueAsync()).Sent.ShouldBe(Leads);
        first.Sent.Concat(second.Sent).Select(s => s.Message.IdempotencyKey).Distinct().Count().ShouldBe(Leads);
    }

    [Fact]
    public async Task DispatchDueAsync_SixteenCappedSendsOfOneLeadInOneBatch_SendsOneAndDefersTheOthersWithOneReservationCall()
    {
        const int Sequences = 16;
        SequenceWorld world = new();
        StoreCalls calls = new();
        ProbedEnrolments enrolments = new(world.Enrolments, calls);
        ImmutableArray<SequenceDefinition> definitions = [.. Enumerable.Range(0, Sequences).Select(i => new SequenceDefinition
        {
            Key = "promo-" + i,
            Triggers = [EventMatch.For(EventTypes.SalesPageVisited)],
            Steps = [new SequenceStep { Key = "promo-" + i + "-1", Timing = StepTiming.AfterEnrolment, Subject = "Offer " + i, TextBody = "Hello" }],
        })];
        RecordingSender sender = new(world.Clock);
        SequenceEngine engine = world.Engine(sender, definitions, enrolments: enrolments);
        LeadProfile lead = await world.AddLeadAsync(1, "Europe/Berlin");
        world.Clock.Reset(Instant.FromUtc(2026, 3, 24, 8, 0));
        await engine.HandleAsync(new SalesPageVisited { LeadId = lead.Id, OccurredAt = world.Clock.GetCurrentInstant(), Offer = GuideSequences.Offer });
        calls.Clear();

        DispatchResult result = await engine.DispatchDueAsync();

        result.Claimed.ShouldBe(Sequences);
        result.Sent.ShouldBe(1);
        result.Deferred.ShouldBe(Sequences - 1);
        calls.Sizes("Enrolments.TryReserveDays").ShouldBe([Sequences]);
        world.Outbox.Snapshot().Where(e => e.State == SendState.Pending).ShouldAllBe(e => e.DueAt == Instant.FromUtc(2026, 3, 24, 23, 0));
    }

    [Fact]
    public async Task DispatchDueAsync_RecordedOutcomeOfARemovedStep_KeepsTheOutcomeAndSendsNothing()
    {
        SequenceWorld world = new();
        LeadProfile lead = await world.AddLeadAsync(1);
        EnrolmentId enrolment = EnrolmentId.New();
        Instant now = world.Clock.GetCurrentInstant();
        await world.Outbox.TryAddAsync(new OutboxEntry
        {
            Key = OutboxEntry.KeyOf(enrolment, "retired-1"),
            Enrolment = enrolment,
            LeadId = lead.Id,
            Sequence = "retired",
            StepIndex = 0,
            ScheduledFor = now,
            DueAt = now,
            State = SendState.Sending, // a crashed dispatcher's claim, its lease over
            Outcome = SendState.Sent,
            Attempts = 1,
            CompletedAt = now - Duration.FromMinutes(10),
        });
        RecordingSender sender = new(world.Clock);

        DispatchResult result = await world.Engine(sender, [GuideSequences.Nurture]).DispatchDueAsync();

        result.Claimed.ShouldBe(1);
        result.Failed.ShouldBe(0);
        sender.Sent.ShouldBeEmpty();
        OutboxEntry entry = world.Outbox.Snapshot().ShouldHaveSingleItem();
        entry.State.ShouldBe(SendState.Sent);
        entry.CompletedAt.ShouldBe(now - Duration.FromMinutes(10));
    }

    public static TheoryData<string, Action<SequenceOptions>> InvalidOptions => new()
    {
        { "SendConcurrency", o => o.SendConcurrency = 0 },
        { "SendConcurrency", o => o.SendConcurrency = 257 },
        { "LeaseSafetyMargin", o => o.LeaseSafetyMargin = Duration.FromSeconds(-1) },
        { "LeaseSafetyMargin", o => o.LeaseSafetyMargin = o.Lease },
        { "LeaseSafetyMargin", o => o.LeaseSafetyMargin = (o.Lease / 2) + Duration.FromSeconds(1) },
        { "OutboxRetention", o => o.OutboxRetention = Duration.FromHours(23) },
        // Issue 17: extreme durations overflowed the instant arithmetic at run time instead of failing validation.
        { "OutboxRetention", o => o.OutboxRetention = Duration.MaxValue },
        { "Lease", o => o.Lease = Duration.MaxValue },
        { "MaxRetryDelay", o => o.MaxRetryDelay = Duration.MaxValue },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void SequenceEngine_InvalidDispatchOption_ThrowsNamingIt(string option, Action<SequenceOptions> change)
    {
        SequenceWorld world = new();
        SequenceOptions options = new();
        change(options);

        Should.Throw<ArgumentException>(() => world.Engine(new RecordingSender(world.Clock), [GuideSequences.Nurture], options)).Message.ShouldContain(option);
    }

    [Fact]
    public void SequenceOptions_Defaults_AreValidAndDocumented()
    {
        SequenceOptions options = new();

        options.SendConcurrency.ShouldBe(8);
        options.LeaseSafetyMargin.ShouldBe(Duration.FromMinutes(1));
        options.OutboxRetention.ShouldBe(Duration.FromDays(30));
        new SequenceOptionsValidator().Validate(options).IsValid.ShouldBeTrue();
    }

    /// <summary>A world with <paramref name="leads"/> leads opted in to the nurture (its first email due), and probes over its stores.</summary>
    private static async Task<(SequenceWorld World, StoreCalls Calls, ProbedOutbox Outbox, ProbedEnrolments Enrolments, ProbedLeads Leads)> ProbedWorldAsync(int leads)
    {
        SequenceWorld world = new();
        SequenceEngine setup = world.Engine(new RecordingSender(world.Clock), [GuideSequences.Nurture]);
        for (int i = 0; i < leads; i++)
        {
            LeadProfile lead = await world.AddLeadAsync(i, firstName: "Lead" + i);
            await setup.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        }

        world.Clock.Advance(Duration.FromMinutes(1));
        StoreCalls calls = new();
        return (world, calls, new ProbedOutbox(world.Outbox, calls), new ProbedEnrolments(world.Enrolments, calls), new ProbedLeads(world.Leads, calls));
    }

    private static async Task Until(Func<bool> condition)
    {
        using CancellationTokenSource timeout = new(Patience);
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }

    /// <summary>A sender that accepts every message, after waiting for the task <c>gate(n)</c> returns for call n (from 1), if any.</summary>
    private sealed class GatedSender(Func<int, Task?> gate) : IEmailSender
    {
        private readonly ConcurrentQueue<string> accepted = new();
        private int calls;

        public int Calls => Volatile.Read(ref calls);

        public IReadOnlyList<string> Accepted => [.. accepted];

        public async Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default)
        {
            if (gate(Interlocked.Increment(ref calls)) is { } wait)
            {
                await wait;
            }

            accepted.Enqueue(message.IdempotencyKey);
            return EmailSendResult.Sent("<" + message.IdempotencyKey + ">");
        }
    }
}
