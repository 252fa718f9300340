using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Benchmarks;

/// <summary>
/// The due-scan of the in-memory outbox over 1,000,000 open sends (one enrolment each), due one per second over
/// 11.6 days: each tick advances 15 minutes, claims the ~900 sends that came due, and reschedules them as their
/// next step (so the outbox stays at 1,000,000). Aim: under 50 ms per tick.
/// </summary>
[MemoryDiagnoser]
public class SequenceDueScanBenchmarks
{
    private const int Enrolments = 1_000_000;
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 1, 0, 0);
    private static readonly Duration Tick = Duration.FromMinutes(15);
    private InMemorySendOutbox outbox = null!;
    private Instant now;

    [GlobalSetup]
    public void Setup()
    {
        outbox = new InMemorySendOutbox();
        for (int i = 0; i < Enrolments; i++)
        {
            EnrolmentId id = new(new Guid(i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
            Instant due = Start + Duration.FromSeconds(i);
            outbox.TryAddAsync(new OutboxEntry
            {
                Key = OutboxEntry.KeyOf(id, "nurture-2"),
                Enrolment = id,
                LeadId = new LeadId(id.Value),
                Sequence = "guide-nurture",
                StepIndex = 1,
                ScheduledFor = due,
                DueAt = due,
            }).GetAwaiter().GetResult();
        }

        now = Start;
    }

    /// <summary>One dispatcher tick: claim everything due (batches of 1,000) and record each as rescheduled.</summary>
    [Benchmark]
    public int ClaimDueTick()
    {
        now += Tick;
        int claimed = 0;
        while (true)
        {
            ImmutableArray<OutboxEntry> batch = outbox.ClaimDueAsync(now, 1000, Duration.FromMinutes(5), "bench").GetAwaiter().GetResult();
            foreach (OutboxEntry entry in batch)
            {
                Instant next = entry.ScheduledFor + Duration.FromSeconds(Enrolments);
                outbox.TryUpdateAsync(entry, entry with { State = SendState.Pending, DueAt = next, ScheduledFor = next, ClaimedBy = null }).GetAwaiter().GetResult();
            }

            claimed += batch.Length;
            if (batch.Length < 1000)
            {
                return claimed;
            }
        }
    }
}

/// <summary>
/// Dispatches the first nurture email of 100,000 enrolments through the batched path (one read of the batch's
/// enrolments and leads, one frequency-cap reservation, rendering with the lead's fields, sends with bounded
/// concurrency, outcomes through the coalescer, next steps, enrolments and final states as sets) to a sender that does
/// nothing, in batches of <see cref="BatchSize"/>. Aim: over 100,000 messages per second, so under 1 s per operation.
/// </summary>
[MemoryDiagnoser]
public class SequenceDispatchBenchmarks
{
    private const int Messages = 100_000;
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 24, 6, 0);
    private SequenceEngine engine = null!;

    /// <summary>Gets or sets the claim size: the default (500) and the size the benchmark used before the batched path.</summary>
    [Params(500, 10_000)]
    public int BatchSize { get; set; }

    [IterationSetup]
    public void Setup()
    {
        ManualClock clock = new(Start);
        InMemoryLeadStore leads = new();
        engine = new SequenceEngine(new SequenceEngineSettings
        {
            Definitions = [GuideSequences.Nurture],
            Enrolments = new InMemoryEnrolmentStore(),
            Outbox = new InMemorySendOutbox(),
            Leads = leads,
            Sender = new NoOpSender(),
            EventLog = new Funnel.Pipeline.InMemoryFunnelEventLog(),
            Clock = clock,
            Options = new SequenceOptions { BatchSize = BatchSize },
        });
        ConsentRecord consent = new() { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "bench", RecordedAt = Start };
        for (int i = 0; i < Messages; i++)
        {
            EmailAddress email = EmailAddress.Parse($"lead{i}@example.com");
            LeadId id = new(new Guid(i, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0));
            leads.TryAddAsync(new LeadProfile
            {
                Id = id,
                Email = email,
                CreatedAt = Start,
                TimeZoneId = "Europe/Berlin",
                Consent = consent,
                CustomFields = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("first_name", "Lead" + i),
            }).GetAwaiter().GetResult();
            engine.EnrolAsync(id, GuideSequences.Nurture.Key, Start).GetAwaiter().GetResult();
        }

        clock.Now += Duration.FromMinutes(1);
    }

    [Benchmark]
    public int Dispatch100k()
    {
        int sent = 0;
        while (true)
        {
            DispatchResult result = engine.DispatchDueAsync().GetAwaiter().GetResult();
            sent += result.Sent;
            if (result.Claimed == 0)
            {
                return sent == Messages ? sent : throw new InvalidOperationException($"Sent {sent}, expected {Messages}.");
            }
        }
    }

    private sealed class ManualClock(Instant now) : IClock
    {
        public Instant Now { get; set; } = now;

        public Instant GetCurrentInstant() => Now;
    }

    private sealed class NoOpSender : IEmailSender
    {
        private static readonly Task<EmailSendResult> Sent = Task.FromResult(EmailSendResult.Sent());

        public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default) => Sent;
    }
}
