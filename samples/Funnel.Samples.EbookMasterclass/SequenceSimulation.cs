using System.Collections.Immutable;
using System.Globalization;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Pipeline;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>What the guide's email sequences did for one launch: per sequence, enrolments, emails sent, exits and completions.</summary>
/// <param name="Sequence">The sequence key.</param>
/// <param name="Enrolled">Leads enrolled.</param>
/// <param name="Sent">Emails the (in-memory) mail server accepted.</param>
/// <param name="Exited">Enrolments ended by an exit goal (a purchase ends the nurture).</param>
/// <param name="Completed">Enrolments that sent their last step.</param>
public sealed record SequenceSummary(string Sequence, int Enrolled, int Sent, int Exited, int Completed)
{
    /// <summary>Gets, per branch step of the sequence, how many enrolments took each path.</summary>
    public IReadOnlyList<BranchSummary> Branches { get; init; } = [];
}

/// <summary>How many enrolments took each path of a branch step.</summary>
/// <param name="Step">The branch step's key, such as <c>opened-guide</c>.</param>
/// <param name="Then">Enrolments whose condition held.</param>
/// <param name="Else">Enrolments whose condition did not hold.</param>
public sealed record BranchSummary(string Step, int Then, int Else);

/// <summary>Runs the launch's opt-ins and purchases through the guide's nurture and welcome sequences on a simulated clock.</summary>
/// <remarks>
/// Every lead who downloads the guide gets a profile (consent granted, a time zone picked from five) and enters the
/// 7-email nurture, whose day-3 branch reads the lead's opens of the guide from the event log (the launch's
/// <c>email_opened</c> events are appended there as they happen); buyers exit it and, once paid (the course is granted), enter the 5-day welcome. The dispatcher runs every 15 minutes of simulated
/// time, and the sender is an in-memory mail server that only counts.
/// </remarks>
public static class SequenceSimulation
{
    private static readonly string[] Zones = ["America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Australia/Sydney"];

    public static async Task<IReadOnlyList<SequenceSummary>> RunAsync(IReadOnlyList<FunnelEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        // A paid order grants the course, and the grant (not the order) starts the welcome: see GuideSequences.Welcome.
        List<LeadEvent> relevant = [.. events.OfType<LeadEvent>()
            .Select(e => e is PaymentSucceeded p ? new EntitlementGranted { LeadId = p.LeadId, OccurredAt = p.OccurredAt, Order = p.Order, Product = GuideSequences.Course } : e)
            .Where(e => e is OptedIn or OrderPlaced or EntitlementGranted or EmailOpened).OrderBy(e => e.OccurredAt)];
        if (relevant.Count == 0)
        {
            return [];
        }

        SimulatedClock clock = new(relevant[0].OccurredAt);
        InMemoryLeadStore leads = new();
        CountingSender sender = new();
        InMemoryFunnelEventLog log = new(); // the engine records what it causes here; the summary reads it back.
        SequenceEngine engine = new(new SequenceEngineSettings
        {
            Definitions = [GuideSequences.Nurture, GuideSequences.Welcome],
            Enrolments = new InMemoryEnrolmentStore(),
            Outbox = new InMemorySendOutbox(),
            Leads = leads,
            Sender = sender,
            EventLog = log,
            Clock = clock,
            Options = new SequenceOptions { From = "The E-Book Masterclass <hello@example.com>" },
        });

        Duration tick = Duration.FromMinutes(15);
        Instant nextTick = clock.Now + tick;
        foreach (LeadEvent e in relevant)
        {
            for (; nextTick <= e.OccurredAt; nextTick += tick)
            {
                clock.Now = nextTick;
                await DispatchAllAsync(engine);
            }

            clock.Now = e.OccurredAt;
            if (e is EmailOpened)
            {
                await log.AppendAsync([e]); // what the open-tracking endpoint records; the branch reads it.
                continue;
            }

            if (e is OptedIn)
            {
                EmailAddress email = EmailAddress.Parse($"lead-{e.LeadId.Value:N}@example.com");
                await leads.TryAddAsync(new LeadProfile
                {
                    Id = e.LeadId,
                    Email = email,
                    CreatedAt = e.OccurredAt,
                    TimeZoneId = Zones[(e.LeadId.Value.GetHashCode() & int.MaxValue) % Zones.Length],
                    Consent = new ConsentRecord { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = GuideSequences.Magnet, RecordedAt = e.OccurredAt },
                });
            }

            await engine.HandleAsync(e);
        }

        for (Instant end = clock.Now + Duration.FromDays(10); nextTick <= end; nextTick += tick)
        {
            clock.Now = nextTick;
            await DispatchAllAsync(engine);
        }

        IReadOnlyList<FunnelEvent> emitted = log.Snapshot();
        string[] keys = [GuideSequences.Nurture.Key, GuideSequences.Welcome.Key];
        return
        [
            .. keys.Select(key => new SequenceSummary(
                key,
                emitted.OfType<SequenceEnrolled>().Count(x => x.Sequence == key),
                sender.SentFor(key == GuideSequences.Nurture.Key ? "nurture-" : "welcome-"),
                emitted.OfType<SequenceExited>().Count(x => x.Sequence == key),
                emitted.OfType<SequenceCompleted>().Count(x => x.Sequence == key))
            {
                Branches =
                [
                    .. emitted.OfType<SequenceBranched>().Where(b => b.Sequence == key).GroupBy(b => b.Step)
                        .Select(g => new BranchSummary(g.Key, g.Count(b => b.Path == SequenceBranched.ThenPath), g.Count(b => b.Path == SequenceBranched.ElsePath))),
                ],
            }),
        ];
    }

    public static void Print(IReadOnlyList<SequenceSummary> summaries, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine();
        output.WriteLine("Email sequences (the guide's 7-email nurture and 5-day welcome, at 09:00 in each lead's time zone)");
        output.WriteLine("| Sequence            | Enrolled | Emails sent | Exited (bought) | Completed |");
        output.WriteLine("|---------------------|---------:|------------:|----------------:|----------:|");
        foreach (SequenceSummary s in summaries)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {s.Sequence,-19} | {s.Enrolled,8:N0} | {s.Sent,11:N0} | {s.Exited,15:N0} | {s.Completed,9:N0} |"));
        }

        foreach (SequenceSummary s in summaries)
        {
            foreach (BranchSummary b in s.Branches)
            {
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"Branch {s.Sequence}/{b.Step} on day 3: {b.Then:N0} had opened the guide (tagged {GuideSequences.EngagedReaderTag}, sent the next lesson), {b.Else:N0} had not (sent a reminder to open it)."));
            }
        }
    }

    private static async Task DispatchAllAsync(SequenceEngine engine)
    {
        while ((await engine.DispatchDueAsync()).Claimed > 0)
        {
        }
    }

    private sealed class SimulatedClock(Instant now) : IClock
    {
        public Instant Now { get; set; } = now;

        public Instant GetCurrentInstant() => Now;
    }

    private sealed class CountingSender : IEmailSender
    {
        private readonly Lock gate = new();
        private readonly Dictionary<string, int> byPrefix = new(StringComparer.Ordinal);
        private readonly HashSet<string> keys = new(StringComparer.Ordinal);

        public int SentFor(string prefix)
        {
            lock (gate)
            {
                return byPrefix.GetValueOrDefault(prefix);
            }
        }

        public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default)
        {
            string step = message.IdempotencyKey[(message.IdempotencyKey.IndexOf(':', StringComparison.Ordinal) + 1)..];
            string prefix = step[..(step.IndexOf('-', StringComparison.Ordinal) + 1)];
            lock (gate)
            {
                if (keys.Add(message.IdempotencyKey))
                {
                    byPrefix[prefix] = byPrefix.GetValueOrDefault(prefix) + 1;
                }
            }

            return Task.FromResult(EmailSendResult.Sent());
        }
    }
}
