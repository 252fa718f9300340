using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.Storage.PostgreSql.Sequences;
using Funnel.Storage.Sqlite.Tests.Sequences;
using Npgsql;
using NodaTime;
using NodaTime.Testing;
using Xunit.Abstractions;

namespace Funnel.Storage.PostgreSql.Tests.Sequences;

/// <summary>
/// Design note §7.8 over PostgreSQL: a dispatch run is killed before, then after, each of its writes in turn; a fresh
/// engine on a new pool over the same schema finishes after the lease. No send is lost, none is repeated outside the documented
/// window, no event is lost or doubled, and the enrolments end consistent.
/// </summary>
/// <remarks>
/// The number of writes is counted from a run without a crash of whatever engine is built (it is not fixed here), and
/// a crash point past the writes of one run (an engine whose writes vary with timing) is allowed not to crash.
/// </remarks>
public sealed class PgCrashAtEveryWriteTests(ITestOutputHelper output) : IAsyncDisposable
{
    private const int Leads = 3;
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 24, 0, 0);
    private static readonly Duration Tick = Duration.FromHours(6);
    private static readonly Instant End = Start + Duration.FromDays(7);
    private static readonly SequenceOptions Options = new() { Lease = Duration.FromMinutes(5) };
    private static readonly int Steps = GuideSequences.Nurture.Steps.Length;
    private readonly PgSchemas _schemas = new();

    public static TheoryData<bool> Modes => new() { false, true };

    public ValueTask DisposeAsync() => _schemas.DisposeAsync();

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Dispatch_KilledAtEveryWriteThenRestartedOnANewPool_NoSendLostNoneRepeatedOutsideTheWindow(bool afterWrite)
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
        PgDatabase schema = await _schemas.CreateAsync();
        FakeClock clock = new(Start);
        InMemoryLeadStore leads = new();
        InMemoryFunnelEventLog log = new();
        TransportRecorder transport = new();
        PgDatabase database = Open(schema);
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
                    // The process died: its pool is closed, then a new process opens one and starts after the lease.
                    await database.DisposeAsync();
                    database = Open(schema);
                    leftByTheKilled = (await QueryAsync(database, $"SELECT key, state, outcome FROM {database.Table("outbox")}", static r => (r.GetString(0), (SendState)r.GetInt16(1), r.IsDBNull(2) ? (SendState?)null : (SendState)r.GetInt16(2))))
                        .ToDictionary(static r => r.Item1, static r => (r.Item2, r.Item3));
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
                await QueryAsync(database, $"SELECT key, state FROM {database.Table("outbox")}", static r => (r.GetString(0), (SendState)r.GetInt16(1))),
                await new PgEnrolmentStore(database).ListForLeadsAsync([.. Enumerable.Range(0, Leads).Select(LeadOf)]),
                (long)(await database.ScalarAsync($"SELECT count(*) FROM {database.Table("outbox_events")}"))!);
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

    /// <summary>Opens a pool of its own (a process) on the schema.</summary>
    private static PgDatabase Open(PgDatabase schema) =>
        new(new FunnelPostgreSqlOptions { ConnectionString = schema.Options.ConnectionString, Schema = schema.Schema });

    private static async Task<List<T>> QueryAsync<T>(PgDatabase database, string sql, Func<NpgsqlDataReader, T> read)
    {
        await using NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None);
        await using NpgsqlCommand command = new(sql, connection);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        List<T> rows = [];
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private static SequenceEngine Engine(PgDatabase database, InMemoryLeadStore leads, IFunnelEventLog log, Funnel.Email.IEmailSender sender, FakeClock clock, CrashPoint? crash)
    {
        ISendOutbox outbox = SequenceStoreKit.Outbox(database, clock);
        IEnrolmentStore enrolments = new PgEnrolmentStore(database);
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
            Outbox.Count.ShouldBe(Leads * Steps, at);
            Outbox.ShouldAllBe(e => e.State == SendState.Sent, at);
            Transport.Select(t => t.Key).Distinct().Order(StringComparer.Ordinal).ShouldBe(Outbox.Select(e => e.Key).Order(StringComparer.Ordinal), at + ": every send reached the server");
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
}
