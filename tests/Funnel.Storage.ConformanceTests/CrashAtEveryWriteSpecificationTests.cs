using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using NodaTime;
using NodaTime.Testing;
using Xunit.Abstractions;

namespace Funnel.Storage.ConformanceTests;

/// <summary>
/// Design note §7.8: a dispatch run is killed before, then after, each of its writes in turn; a fresh engine (a new
/// process on the same store) finishes after the lease. No send is lost, none is repeated outside the documented
/// window, no event is lost or doubled, and the enrolments end consistent. Subclass it with an <see cref="OpenAsync"/>
/// of your stores.
/// </summary>
/// <remarks>
/// The number of writes is counted from a run without a crash of whatever engine is built (it is not fixed here), and
/// a crash point past the writes of one run (an engine whose writes vary with timing) is allowed not to crash.
/// </remarks>
public abstract class CrashAtEveryWriteSpecificationTests(ITestOutputHelper output)
{
    private const int Leads = 3;
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 24, 0, 0);
    private static readonly Duration Tick = Duration.FromHours(6);
    private static readonly Instant End = Start + Duration.FromDays(7);
    private static readonly SequenceOptions Options = new() { Lease = Duration.FromMinutes(5) };
    /// <summary>The emails each lead gets: nobody opens the guide here, so day 3's branch takes its else path (the reminder).</summary>
    private static readonly int Steps = GuideSequences.Nurture.AllSteps().Count(s => s.Subject is not null && s.Key != "nurture-4");

    public static TheoryData<bool> Modes => new() { false, true };

    /// <summary>Opens a process's view of the stores: on a new, empty store when <paramref name="previous"/> is <see langword="null"/>, else on the store of the (killed and disposed) previous process.</summary>
    /// <param name="previous">The process before this one in the run, or <see langword="null"/> for the first.</param>
    /// <returns>The process's stores.</returns>
    protected abstract Task<StoreProcess> OpenAsync(StoreProcess? previous);

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Dispatch_KilledAtEveryWriteThenRestartedOnTheSameStore_NoSendLostNoneRepeatedOutsideTheWindow(bool afterWrite)
    {
        CrashRun clean = await RunAsync(crashAt: 0, afterWrite);
        clean.Check("no crash");
        clean.Transport.Count.ShouldBe(Leads * Steps);
        int total = clean.Writes;
        total.ShouldBeGreaterThan(Leads * Steps, "claims, outcomes, next steps, enrolments, finals and events are all writes");

        int crashed = 0;
        int repeated = 0;
        for (int crashAt = 1; crashAt <= total; crashAt++)
        {
            string at = $"killed {(afterWrite ? "after" : "before")} write {crashAt} of {total}";
            CrashRun run = await RunAsync(crashAt, afterWrite);
            (run.Crashed || crashAt > run.Writes).ShouldBeTrue(at);
            crashed += run.Crashed ? 1 : 0;
            repeated += run.Check(at);
        }

        output.WriteLine($"{total} writes per run; {crashed} runs killed {(afterWrite ? "after" : "before")} a write; "
            + $"{repeated} sends repeated in all, each one accepted by the killed process with its outcome not yet stored.");
        crashed.ShouldBeGreaterThan(total / 2);
    }

    private async Task<CrashRun> RunAsync(int crashAt, bool afterWrite)
    {
        FakeClock clock = new(Start);
        InMemoryLeadStore leads = new();
        InMemoryFunnelEventLog log = new();
        TransportRecorder transport = new();
        StoreProcess database = await OpenAsync(previous: null);
        try
        {
            CrashPoint crash = new() { CrashAt = crashAt, AfterWrite = afterWrite };
            SequenceEngine setup = Engine(database, leads, log, transport.SenderFor(0, new CrashPoint()), clock, crash: null);
            for (int i = 0; i < Leads; i++)
            {
                LeadId lead = await AddLeadAsync(leads, i);
                await setup.HandleAsync(new OptedIn { LeadId = lead, OccurredAt = Start, Magnet = GuideSequences.Magnet });
            }

            SequenceEngine engine = Engine(database, leads, log, transport.SenderFor(1, crash), clock, crash);
            Dictionary<string, (SendState State, SendState? Outcome)>? leftByTheKilled = null;
            while (clock.GetCurrentInstant() < End)
            {
                clock.Advance(Tick);
                await DispatchUntilIdleAsync(engine, crash);
                if (crash.Dead && leftByTheKilled is null)
                {
                    // The process died: its connections are closed, then a new process opens the store and starts after the lease.
                    await database.DisposeAsync();
                    database = await OpenAsync(database);
                    leftByTheKilled = (await database.ReadOutboxAsync()).ToDictionary(static r => r.Key, static r => (r.State, r.Outcome));
                    clock.Advance(Options.Lease);
                    engine = Engine(database, leads, log, transport.SenderFor(2, new CrashPoint()), clock, crash: null);
                    await DispatchUntilIdleAsync(engine, crash: null);
                }
            }

            clock.Advance(Duration.FromDays(1));
            await DispatchUntilIdleAsync(engine, crash.Dead ? null : crash);
            return new CrashRun(
                crash.Writes,
                crash.Dead,
                transport.Accepted,
                leftByTheKilled,
                [.. log.Snapshot()],
                [.. (await database.ReadOutboxAsync()).Select(static r => (r.Key, r.State))],
                await database.Enrolments.ListForLeadsAsync([.. Enumerable.Range(0, Leads).Select(LeadOf)]),
                await database.CountUnacknowledgedEventsAsync());
        }
        finally
        {
            await database.DisposeAsync();
        }
    }

    private static async Task DispatchUntilIdleAsync(SequenceEngine engine, CrashPoint? crash)
    {
        try
        {
            DispatchResult result;
            do
            {
                result = await engine.DispatchDueAsync();
            }
            while (result.Claimed > 0);
        }
        catch (Exception) when (crash is { Dead: true })
        {
            // The kill: whatever the engine was doing stops here.
        }
    }

    private static SequenceEngine Engine(StoreProcess database, InMemoryLeadStore leads, IFunnelEventLog log, Funnel.Email.IEmailSender sender, FakeClock clock, CrashPoint? crash)
    {
        ISendOutbox outbox = database.Outbox;
        IEnrolmentStore enrolments = database.Enrolments;
        return new SequenceEngine(new SequenceEngineSettings
        {
            Definitions = [GuideSequences.Nurture],
            Enrolments = crash is null ? enrolments : new CrashingEnrolments(enrolments, crash),
            Outbox = crash is null ? outbox : new CrashingOutbox(outbox, crash),
            Leads = leads,
            Sender = sender,
            EventLog = crash is null ? log : new CrashingEventLog(log, crash),
            Clock = clock,
            Options = Options,
            DispatcherId = Guid.NewGuid().ToString("N"),
        });
    }

    private static LeadId LeadOf(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));

    private static async Task<LeadId> AddLeadAsync(InMemoryLeadStore leads, int n)
    {
        LeadProfile profile = new()
        {
            Id = LeadOf(n),
            Email = EmailAddress.Parse($"lead{n}@example.com"),
            CreatedAt = Start,
            TimeZoneId = "Europe/Berlin",
            Consent = new ConsentRecord { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "test", RecordedAt = Start },
        };
        (await leads.TryAddAsync(profile)).ShouldBeTrue();
        return profile.Id;
    }

    private sealed record CrashRun(
        int Writes,
        bool Crashed,
        IReadOnlyList<(string Key, int Process)> Transport,
        Dictionary<string, (SendState State, SendState? Outcome)>? LeftByTheKilled,
        ImmutableArray<FunnelEvent> Events,
        List<(string Key, SendState State)> Outbox,
        ImmutableArray<Enrolment> Enrolments,
        long UnacknowledgedEvents)
    {
        /// <summary>Asserts the outcome of a run and returns the number of repeated sends (all inside the documented window).</summary>
        public int Check(string at)
        {
            // One entry per email and one for the branch, which is evaluated once and recorded with its path.
            Outbox.Count.ShouldBe(Leads * (Steps + 1), at);
            Outbox.Count(e => e.State == SendState.Done).ShouldBe(Leads, at);
            Outbox.ShouldAllBe(e => e.State == SendState.Sent || e.State == SendState.Done, at);
            Events.OfType<SequenceBranched>().Select(b => b.Enrolment).ShouldBeUnique(at);
            Events.OfType<SequenceBranched>().ShouldAllBe(b => b.Path == SequenceBranched.ElsePath, at);
            Transport.Select(t => t.Key).Distinct().Order(StringComparer.Ordinal)
                .ShouldBe(Outbox.Where(e => e.State == SendState.Sent).Select(e => e.Key).Order(StringComparer.Ordinal), at + ": every send reached the server");
            int repeated = 0;
            foreach (IGrouping<string, (string Key, int Process)> key in Transport.GroupBy(t => t.Key).Where(g => g.Count() > 1))
            {
                // The documented window: the killed process had the server accept it and died before its outcome was stored.
                key.Count().ShouldBe(2, $"{at}: {key.Key} sent {key.Count()} times");
                key.First().Process.ShouldBe(1, $"{at}: {key.Key} repeated by a live process");
                LeftByTheKilled.ShouldNotBeNull(at).TryGetValue(key.Key, out (SendState State, SendState? Outcome) left).ShouldBeTrue(at);
                (left.Outcome, left.State is SendState.Pending or SendState.Sending or SendState.FailedTransient)
                    .ShouldBe(((SendState?)null, true), $"{at}: {key.Key} was sent again although its outcome was stored");
                repeated++;
            }

            EmailSent[] sent = [.. Events.OfType<EmailSent>()];
            sent.Select(e => (e.LeadId, e.Email)).ShouldBeUnique(at);
            sent.Length.ShouldBe(Leads * Steps, at);
            Events.Select(e => e.Id).ShouldBeUnique(at);
            Events.OfType<SequenceCompleted>().Select(e => e.Enrolment).ShouldBeUnique(at);
            Events.OfType<SequenceCompleted>().Count().ShouldBe(Leads, at);
            Enrolments.Length.ShouldBe(Leads, at);
            Enrolments.ShouldAllBe(e => e.Status == EnrolmentStatus.Completed && e.LastSentAt != null && e.EndedAt != null, at);
            UnacknowledgedEvents.ShouldBe(0, at);
            return repeated;
        }
    }

    /// <summary>One process's view of the stores under test; disposing it closes its connections (the process dies).</summary>
    protected abstract class StoreProcess : IAsyncDisposable
    {
        /// <summary>Gets the process's outbox (its clock may be the system clock).</summary>
        public abstract ISendOutbox Outbox { get; }

        /// <summary>Gets the process's enrolment store.</summary>
        public abstract IEnrolmentStore Enrolments { get; }

        /// <summary>Reads every outbox entry's key, state and outcome straight from the store.</summary>
        /// <returns>The rows.</returns>
        public abstract Task<List<(string Key, SendState State, SendState? Outcome)>> ReadOutboxAsync();

        /// <summary>Counts the events recorded in the outbox and not yet acknowledged.</summary>
        /// <returns>The count.</returns>
        public abstract Task<long> CountUnacknowledgedEventsAsync();

        /// <inheritdoc/>
        public abstract ValueTask DisposeAsync();
    }
}
