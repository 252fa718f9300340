using System.Globalization;
using Funnel.CartRecovery;
using Funnel.Email;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Pipeline;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>What cart recovery did for the launch: the report, the recovery emails sent, and every event of the run.</summary>
/// <param name="Report">The cart-recovery KPIs, read from the funnel report's <c>cart-recovery</c> section.</param>
/// <param name="EmailsSent">Recovery emails sent, by email key (<c>cart-recovery-1</c> to <c>-3</c>).</param>
/// <param name="RecoveredAfter">Recovered orders, by the last recovery email sent before them.</param>
/// <param name="Events">The event log of the run: checkouts, orders, abandonments, enrolments and emails.</param>
public sealed record CartRecoveryRun(
    CartRecoveryReport Report, IReadOnlyDictionary<string, int> EmailsSent, IReadOnlyDictionary<string, int> RecoveredAfter, IReadOnlyList<FunnelEvent> Events);

/// <summary>
/// Runs the launch's checkouts through cart recovery as a host would: <c>AddFunnelCartRecovery</c> tracks them through the
/// pipeline and emits <c>checkout_abandoned</c> an hour after a checkout with no order, the guide's recovery sequence
/// (<see cref="GuideSequences.CartRecovery"/>) sends its three emails, and some buyers come back and order.
/// </summary>
/// <remarks>
/// The checkouts and orders are the launch's (<see cref="MasterclassScenario.GenerateEvents"/>); who comes back is
/// seeded: 12% of those who got the first email within a few hours of it, 9% after the second, 7% after the third, each
/// starting a new checkout and ordering minutes later. The clock moves in 15-minute ticks; on each tick the pipeline
/// delivers, the <c>cart-recovery</c> job runs and the sequence dispatcher sends what is due.
/// </remarks>
public static class CartRecoverySimulation
{
    private static readonly Duration Tick = Duration.FromMinutes(15);
    private static readonly Dictionary<string, int> ReturnPercent = new(StringComparer.Ordinal)
    {
        ["cart-recovery-1"] = 12,
        ["cart-recovery-2"] = 9,
        ["cart-recovery-3"] = 7,
    };

    public static async Task<CartRecoveryRun> RunAsync(IReadOnlyList<FunnelEvent> launch, ScenarioOptions options)
    {
        ArgumentNullException.ThrowIfNull(launch);
        ArgumentNullException.ThrowIfNull(options);
        var random = new Random(unchecked(options.Seed * 17 + 3));
        var pending = new PriorityQueue<LeadEvent, (Instant, long)>();
        long order = 0;
        foreach (LeadEvent e in launch.OfType<LeadEvent>().Where(e => e is CheckoutStarted or OrderPlaced))
        {
            pending.Enqueue(e, (e.OccurredAt, order++));
        }

        var clock = new SimulatedClock(options.Start);
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(clock);
        services.AddSingleton(OfferPathCatalogue.Catalogue);
        services.AddSingleton(OfferPathCatalogue.Path);
        services.AddSingleton<IEntitlementGrantor>(new NoGrantor());
        services.AddFunnel(o => o.TimeZoneId = "America/New_York").AddFunnelCartRecovery();
        await using ServiceProvider provider = services.BuildServiceProvider();
        IFunnelEventLog log = provider.GetRequiredService<IFunnelEventLog>();
        FunnelPipeline pipeline = provider.GetRequiredService<FunnelPipeline>();
        CheckoutAbandonment abandonment = provider.GetRequiredService<CheckoutAbandonment>();
        var leads = new InMemoryLeadStore();
        var engine = new SequenceEngine(new SequenceEngineSettings
        {
            Definitions = [GuideSequences.CartRecovery],
            Enrolments = new InMemoryEnrolmentStore(),
            Outbox = new InMemorySendOutbox(),
            Leads = leads,
            Sender = new AcceptingSender(),
            EventLog = log,
            Clock = clock,
            Options = new SequenceOptions { From = "The E-Book Masterclass <hello@example.com>" },
        });

        var emailsSent = new Dictionary<string, int>(StringComparer.Ordinal);
        var lastEmail = new Dictionary<LeadId, string>();
        var recoveredAfter = new Dictionary<string, int>(StringComparer.Ordinal);
        long read = 0;
        Instant end = options.Start + Duration.FromDays(options.Days + 10);
        for (clock.Now = options.Start; clock.Now <= end; clock.Now += Tick)
        {
            // What happened up to now: checkouts and orders reach the log, and the sequence sees the orders (its exit goal).
            while (pending.TryPeek(out LeadEvent? next, out _) && next.OccurredAt <= clock.Now)
            {
                pending.Dequeue();
                await log.AppendAsync([next]);
                if (next is CheckoutStarted)
                {
                    await AddLeadAsync(leads, next);
                }
                else if (next is OrderPlaced placed && lastEmail.Remove(placed.LeadId, out string? email))
                {
                    recoveredAfter[email] = recoveredAfter.GetValueOrDefault(email) + 1;
                }
            }

            await pipeline.DeliverAllAsync();
            await abandonment.EmitDueAsync();
            await pipeline.DeliverAllAsync();
            while ((await engine.DispatchDueAsync()).Claimed > 0)
            {
            }

            // Hand the sequence what the job and the log recorded; a buyer may answer a recovery email it sent.
            IReadOnlyList<LoggedEvent> fresh = await log.ReadAsync(read, 100_000);
            foreach (LoggedEvent logged in fresh)
            {
                read = logged.Position;
                switch (logged.Event)
                {
                    case CheckoutAbandoned or OrderPlaced:
                        await engine.HandleAsync(logged.Event);
                        break;
                    case EmailSent sent when ReturnPercent.TryGetValue(sent.Email, out int percent):
                        emailsSent[sent.Email] = emailsSent.GetValueOrDefault(sent.Email) + 1;
                        lastEmail[sent.LeadId] = sent.Email;
                        if (random.Next(100) < percent)
                        {
                            Instant back = sent.OccurredAt + Duration.FromMinutes(random.Next(30, 6 * 60));
                            var checkout = new CheckoutStarted { Id = NewEventId(random), LeadId = sent.LeadId, OccurredAt = back, Offer = MasterclassScenario.Masterclass };
                            var placed = new OrderPlaced
                            {
                                Id = NewEventId(random), LeadId = sent.LeadId, OccurredAt = back + Duration.FromMinutes(random.Next(2, 8)),
                                Order = new OrderId(NewEventId(random).Value), Offer = MasterclassScenario.Masterclass, Total = options.Price,
                            };
                            pending.Enqueue(checkout, (checkout.OccurredAt, order++));
                            pending.Enqueue(placed, (placed.OccurredAt, order++));
                        }

                        break;
                }
            }
        }

        IReadOnlyList<FunnelEvent> events = [.. (await log.ReadAsync(0, 1_000_000)).Select(l => l.Event)];
        FunnelReport report = provider.GetRequiredService<IFunnelReporter>().CreateReport(MasterclassScenario.Funnel, events);
        return new CartRecoveryRun(report.Section<CartRecoveryReport>()!, emailsSent, recoveredAfter, events);
    }

    public static void Print(CartRecoveryRun run, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(output);
        CultureInfo c = CultureInfo.InvariantCulture;
        CartRecoveryReport r = run.Report;
        output.WriteLine();
        output.WriteLine("Cart recovery: checkouts with no order after an hour, and the guide's three recovery emails");
        List<string[]> rows =
        [
            ["Cart recovery", "Value"],
            ["Checkouts abandoned (checkout_abandoned)", ReportPrinter.Count(r.Abandoned)],
            ["Recovery emails sent (1 / 2 / 3)", string.Join(" / ", ReturnPercent.Keys.Select(k => ReportPrinter.Count(run.EmailsSent.GetValueOrDefault(k))))],
            ["Orders after email 1 / 2 / 3", string.Join(" / ", ReturnPercent.Keys.Select(k => ReportPrinter.Count(run.RecoveredAfter.GetValueOrDefault(k))))],
            ["Recovered (order within 7 days)", string.Create(c, $"{ReportPrinter.Count(r.Recovered)} of {ReportPrinter.Count(r.Abandoned)}")],
            ["Recovery rate", r.RecoveryRate.ToString("P1", c)],
            ["Recovered revenue", ReportPrinter.Format(r.RecoveredRevenue)],
        ];
        ReportPrinter.WriteTable(output, rows, rightAligned: [1]);
    }

    private static async Task AddLeadAsync(InMemoryLeadStore leads, LeadEvent e) =>
        await leads.TryAddAsync(new LeadProfile
        {
            Id = e.LeadId,
            Email = EmailAddress.Parse($"lead-{e.LeadId.Value:N}@example.com"),
            CreatedAt = e.OccurredAt,
            TimeZoneId = "America/New_York",
            Consent = new ConsentRecord { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = GuideSequences.Magnet, RecordedAt = e.OccurredAt },
        });

    private static EventId NewEventId(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new EventId(new Guid(bytes));
    }

    private sealed class SimulatedClock(Instant now) : IClock
    {
        public Instant Now { get; set; } = now;

        public Instant GetCurrentInstant() => Now;
    }

    private sealed class AcceptingSender : IEmailSender
    {
        public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default) => Task.FromResult(EmailSendResult.Sent());
    }

    private sealed class NoGrantor : IEntitlementGrantor
    {
        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
