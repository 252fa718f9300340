using System.Collections.Immutable;
using System.Globalization;
using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>What the affiliate part of the launch produced.</summary>
/// <param name="Affiliates">The affiliates' KPIs.</param>
/// <param name="Events">The affiliate events emitted (enrolments, clicks, attributions, commissions, payouts).</param>
/// <param name="Metrics">The advocacy KPIs over the launch and affiliate events.</param>
/// <param name="Paid">The total paid out after the refund window.</param>
public sealed record AffiliateOutcome(ImmutableArray<AffiliateStats> Affiliates, ImmutableArray<FunnelEvent> Events, AdvocacyMetrics Metrics, Money Paid);

/// <summary>Turns the launch's first buyers into affiliates and lets some later buyers arrive through their links.</summary>
/// <remarks>
/// The first <see cref="AffiliateCount"/> buyers enrol a week after buying (after the course) and are approved. Each
/// later buyer clicked the link of one enrolled affiliate a day before buying with a one-in-four chance (seeded).
/// Commission is 30% of each payment, pending through a 30-day refund window; payouts need $50. The launch's own
/// events are not changed, so the case-study figures stay as they are.
/// </remarks>
public static class AffiliateSimulation
{
    /// <summary>How many early buyers become affiliates.</summary>
    public const int AffiliateCount = 10;

    /// <summary>Runs the affiliate program over the launch's purchases.</summary>
    /// <param name="events">The launch's events.</param>
    /// <param name="seed">The random seed.</param>
    /// <returns>The outcome.</returns>
    public static async Task<AffiliateOutcome> RunAsync(IReadOnlyList<FunnelEvent> events, int seed)
    {
        ArgumentNullException.ThrowIfNull(events);
        var clock = new SimulationClock();

        // The program records its own events in the log: nothing it returns needs appending again.
        var log = new InMemoryFunnelEventLog();
        var program = new AffiliateProgram(new AffiliateProgramSettings
        {
            Currency = Currency.USD,
            Rules = [new CommissionRule { Percent = 30m }],
            MinimumPayout = Money.FromMajor(50m, Currency.USD),
        }, new InMemoryAffiliateStore(), new InMemoryAffiliateClickStore(), new InMemoryAffiliateSaleStore(), new InMemoryAffiliatePayoutStore(), clock, log);
        var random = new Random(seed);
        var timeline = new List<(Instant At, int Order, Func<Task> Act)>();
        List<OrderPlaced> orders = [.. events.OfType<OrderPlaced>().OrderBy(o => o.OccurredAt)];
        var enrolled = new List<(Instant At, AffiliateId Id, string Code)>();

        for (int i = 0; i < orders.Count; i++)
        {
            OrderPlaced order = orders[i];
            if (i < AffiliateCount)
            {
                Instant enrolAt = order.OccurredAt + Duration.FromDays(7);
                string code = "affiliate-" + (i + 1).ToString(CultureInfo.InvariantCulture);
                timeline.Add((enrolAt, timeline.Count, async () =>
                {
                    var (affiliate, _) = await program.EnrolAsync(order.LeadId, code);
                    await program.DecideAsync(affiliate.Id, approve: true);
                    enrolled.Add((enrolAt, affiliate.Id, code));
                }));
            }
            else if (random.Next(4) == 0)
            {
                Instant clickAt = order.OccurredAt - Duration.FromDays(1);
                int pick = random.Next(AffiliateCount);
                timeline.Add((clickAt, timeline.Count, async () =>
                {
                    var available = enrolled.Where(a => a.At <= clickAt).ToList();
                    if (available.Count > 0)
                    {
                        await program.RecordClickAsync(available[pick % available.Count].Code, order.LeadId);
                    }
                }));
            }
        }

        // The launch's events are sorted by time only; an order is placed before it is paid or refunded.
        foreach (FunnelEvent e in events.Where(e => e is OrderPlaced or PaymentSucceeded or RefundIssued).OrderBy(e => e.OccurredAt).ThenBy(e => e is OrderPlaced ? 0 : 1))
        {
            timeline.Add((e.OccurredAt, timeline.Count, async () => await program.ApplyAsync(e)));
        }

        foreach (var (at, _, act) in timeline.OrderBy(t => t.At).ThenBy(t => t.Order))
        {
            clock.Now = at;
            await act();
        }

        clock.Now = (orders.Count == 0 ? Instant.FromUnixTimeSeconds(0) : orders[^1].OccurredAt) + Duration.FromDays(31);
        await program.ApproveClearedAsync();
        Money paid = Money.Zero(Currency.USD);
        foreach (var (_, id, _) in enrolled)
        {
            var (payout, _) = await program.PayOutAsync(id);
            paid += payout?.Amount ?? Money.Zero(Currency.USD);
        }

        var stats = new List<AffiliateStats>();
        foreach (var (_, id, _) in enrolled)
        {
            stats.Add(await program.StatsAsync(id));
        }

        IReadOnlyList<FunnelEvent> emitted = log.Snapshot();
        return new AffiliateOutcome(
            [.. stats],
            [.. emitted],
            AdvocacyMetrics.Compute(events.Concat(emitted), Currency.USD),
            paid);
    }

    /// <summary>Prints the affiliate figures: affiliates, clicks, affiliate sales and revenue, its share, commission, EPC and payouts.</summary>
    /// <param name="outcome">The simulation outcome.</param>
    /// <param name="output">Where to write.</param>
    public static void Print(AffiliateOutcome outcome, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(output);
        long clicks = outcome.Affiliates.Sum(a => a.Clicks);
        long sales = outcome.Affiliates.Sum(a => a.Conversions);
        Money commission = outcome.Metrics.AffiliateCommission;
        output.WriteLine();
        output.WriteLine("Affiliates (buyers turned promoters; 30% commission, 30-day cookie, last click, 30-day refund window)");
        output.WriteLine($"  Affiliates enrolled:          {outcome.Affiliates.Length}");
        output.WriteLine($"  Affiliate link clicks:        {ReportPrinter.Count(clicks)}");
        output.WriteLine($"  Affiliate sales:              {ReportPrinter.Count(sales)}");
        output.WriteLine($"  Affiliate revenue:            {ReportPrinter.Format(outcome.Metrics.AffiliateRevenue)} ({outcome.Metrics.AffiliateRevenueShare.ToString("P1", CultureInfo.InvariantCulture)} of revenue)");
        output.WriteLine($"  Commission earned:            {ReportPrinter.Format(commission)}");
        output.WriteLine($"  EPC (earnings per click):     {ReportPrinter.Format(clicks == 0 ? null : commission.Divide(clicks, MidpointRounding.AwayFromZero))}");
        output.WriteLine($"  Commission cost per sale:     {ReportPrinter.Format(sales == 0 ? null : commission.Divide(sales, MidpointRounding.AwayFromZero))}");
        output.WriteLine($"  Paid out after the window:    {ReportPrinter.Format(outcome.Paid)}");
    }

    /// <summary>A clock the simulation moves to each event's instant.</summary>
    private sealed class SimulationClock : IClock
    {
        public Instant Now { get; set; }

        public Instant GetCurrentInstant() => Now;
    }
}
