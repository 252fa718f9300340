using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Kpis;
using NodaTime;

namespace Funnel.Subscriptions;

/// <summary>Subscription KPIs computed from subscription events: MRR, its movements, net revenue retention, churn and trial conversion.</summary>
/// <remarks>
/// <para>
/// Create it from the events with <see cref="Create"/> (each counted once per <see cref="FunnelEvent.Id"/>, in any
/// order: they are replayed by <see cref="FunnelEvent.OccurredAt"/>, then in the order given), or read it from a funnel
/// report with <c>report.Section&lt;SubscriptionMetrics&gt;()</c>. Then ask for the state at an instant
/// (<see cref="At"/>), the KPIs of a window (<see cref="For"/>) or of each calendar month (<see cref="Monthly"/>).
/// </para>
/// <para>
/// The rules, from the events' contract: a subscription started with a trial counts for MRR from its
/// <see cref="SubscriptionTrialConverted"/> (new MRR); one started without a trial counts from its
/// <see cref="SubscriptionStarted"/> (new MRR). A <see cref="SubscriptionPlanChanged"/> of a paying subscription moves its
/// MRR to <see cref="SubscriptionPlanChanged.ToMonthlyAmount"/> (expansion or contraction), and so does a
/// <see cref="SubscriptionDiscountEnded"/> when its coupons run out (expansion, at the first renewal at the full price); a
/// <see cref="SubscriptionPaused"/> removes it (paused) until a <see cref="SubscriptionResumed"/> (reactivation); a
/// <see cref="SubscriptionEnded"/> removes it (churned), except for a trial, which never counted, or a paused
/// subscription, whose MRR left when it paused. <see cref="SubscriptionCancelScheduled"/>, renewals and failed payments
/// change nothing: a subscription set to cancel, or past due, counts until it ends.
/// </para>
/// <para>
/// MRR is kept per currency and never added across currencies. Events of a subscription before its
/// <see cref="SubscriptionStarted"/>, after its end, or that do not apply to its state (a conversion of a subscription
/// that is not trialing, a second start) change nothing.
/// </para>
/// <para>
/// The instance keeps the distinct subscription events, sorted. Each query replays them from the first: <see cref="At"/>
/// and <see cref="For"/> take time linear in the events before the instant asked for, and <see cref="Monthly"/> replays
/// them once for every month.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class SubscriptionMetrics
{
    /// <summary>The key of the report section in <see cref="FunnelReport.Sections"/>.</summary>
    public const string SectionKey = "subscription-metrics";

    private readonly ImmutableArray<FunnelEvent> _events;

    private SubscriptionMetrics(ImmutableArray<FunnelEvent> events, ImmutableArray<Currency> currencies)
    {
        _events = events;
        Currencies = currencies;
    }

    /// <summary>Gets the report section that computes these metrics, under the key <see cref="SectionKey"/>.</summary>
    /// <remarks>
    /// <c>AddFunnelSubscriptionMetrics</c> registers it for the reporter that <c>AddFunnel</c> registers; list it in
    /// <see cref="FunnelReportSettings.Sections"/> for a reporter built by hand. The section keeps every currency apart,
    /// whatever the report's <see cref="FunnelReportSettings.Currency"/>.
    /// </remarks>
    public static IFunnelReportSection ReportSection { get; } = new SubscriptionMetricsReportSection();

    /// <summary>Gets the currencies of the subscriptions, ordered by code.</summary>
    public ImmutableArray<Currency> Currencies { get; }

    /// <summary>Gets the number of distinct subscription events read.</summary>
    public int EventCount => _events.Length;

    /// <summary>Gets the instant of the earliest subscription event, or <see langword="null"/> when there is none.</summary>
    public Instant? FirstEventAt => _events.IsEmpty ? null : _events[0].OccurredAt;

    /// <summary>Gets the instant of the latest subscription event, or <see langword="null"/> when there is none.</summary>
    public Instant? LastEventAt => _events.IsEmpty ? null : _events[^1].OccurredAt;

    /// <summary>Computes the metrics from funnel events.</summary>
    /// <param name="events">The events, in any order; other event types are ignored and a repeated id counts once.</param>
    /// <returns>The metrics.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> or one of them is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">An event gives a subscription an amount in another currency than its start.</exception>
    public static SubscriptionMetrics Create(IEnumerable<FunnelEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var seen = new HashSet<EventId>();
        var kept = new List<FunnelEvent>();
        foreach (FunnelEvent e in events)
        {
            ArgumentNullException.ThrowIfNull(e, nameof(events));
            if (SubscriptionMetricsLedger.Reads(e) && seen.Add(e.Id))
            {
                kept.Add(e);
            }
        }

        return FromDistinct(kept);
    }

    /// <summary>Builds the metrics from distinct subscription events in arrival order.</summary>
    internal static SubscriptionMetrics FromDistinct(List<FunnelEvent> events)
    {
        // A stable sort by instant: events at the same instant keep the order they were given in.
        FunnelEvent[] ordered = [.. events.Select((e, i) => (e, i)).OrderBy(p => p.e.OccurredAt).ThenBy(p => p.i).Select(p => p.e)];

        // Replaying once checks the currencies, so a bad history fails at creation rather than at the first query.
        var ledger = new SubscriptionMetricsLedger();
        foreach (FunnelEvent e in ordered)
        {
            ledger.Apply(e, out _, out _);
        }

        ImmutableArray<Currency> currencies =
            [.. ledger.Subscriptions.Values.Select(s => s.Currency).Distinct().OrderBy(c => c.Code, StringComparer.Ordinal)];
        return new SubscriptionMetrics(ImmutableArray.Create(ordered), currencies);
    }

    /// <summary>Returns the MRR and subscriber counts at an instant.</summary>
    /// <param name="at">The instant; the events before it count.</param>
    /// <returns>The snapshot.</returns>
    public RecurringRevenueSnapshot At(Instant at)
    {
        var ledger = new SubscriptionMetricsLedger();
        for (int i = 0; i < _events.Length && _events[i].OccurredAt < at; i++)
        {
            ledger.Apply(_events[i], out _, out _);
        }

        return Snapshot(ledger, at);
    }

    /// <summary>Returns the MRR in one currency at an instant.</summary>
    /// <param name="at">The instant; the events before it count.</param>
    /// <param name="currency">The currency.</param>
    /// <returns>The MRR, zero when nothing pays in <paramref name="currency"/>.</returns>
    public Money MonthlyRecurringRevenue(Instant at, Currency currency) => At(at).Mrr(currency);

    /// <summary>Computes the KPIs of the window [<paramref name="from"/>, <paramref name="to"/>).</summary>
    /// <param name="from">The start of the window (included).</param>
    /// <param name="to">The end of the window (excluded).</param>
    /// <returns>The MRR movements per currency, net revenue retention, churn and trial conversion of the window.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="to"/> is before <paramref name="from"/>.</exception>
    public RecurringRevenueReport For(Instant from, Instant to)
    {
        if (to < from)
        {
            throw new ArgumentOutOfRangeException(nameof(to), to, "The end of the window must not be before its start.");
        }

        var ledger = new SubscriptionMetricsLedger();
        int i = 0;
        for (; i < _events.Length && _events[i].OccurredAt < from; i++)
        {
            ledger.Apply(_events[i], out _, out _);
        }

        return Window(ledger, ref i, from, to);
    }

    /// <summary>Computes the KPIs of each calendar month, from the month of the first event to that of the last.</summary>
    /// <param name="zone">The zone whose calendar defines the months; <see langword="null"/> for UTC.</param>
    /// <returns>One report per month, in order; empty when there are no events.</returns>
    public ImmutableArray<RecurringRevenueReport> Monthly(DateTimeZone? zone = null)
    {
        zone ??= DateTimeZone.Utc;
        if (_events.IsEmpty)
        {
            return [];
        }

        YearMonth first = _events[0].OccurredAt.InZone(zone).Date.ToYearMonth();
        YearMonth last = _events[^1].OccurredAt.InZone(zone).Date.ToYearMonth();
        var reports = ImmutableArray.CreateBuilder<RecurringRevenueReport>();
        var ledger = new SubscriptionMetricsLedger();
        int i = 0;
        for (YearMonth month = first; month <= last; month = month.PlusMonths(1))
        {
            Instant from = zone.AtStartOfDay(month.OnDayOfMonth(1)).ToInstant();
            Instant to = zone.AtStartOfDay(month.PlusMonths(1).OnDayOfMonth(1)).ToInstant();
            reports.Add(Window(ledger, ref i, from, to));
        }

        return reports.ToImmutable();
    }

    /// <summary>Replays the events of [from, to) from <paramref name="next"/> on a ledger already at <paramref name="from"/>.</summary>
    private RecurringRevenueReport Window(SubscriptionMetricsLedger ledger, ref int next, Instant from, Instant to)
    {
        RecurringRevenueSnapshot start = Snapshot(ledger, from);
        var cohort = new Dictionary<SubscriptionId, SubscriptionEntry>();
        foreach ((SubscriptionId id, SubscriptionEntry entry) in ledger.Subscriptions)
        {
            if (entry.State == SubscriptionState.Active)
            {
                cohort.Add(id, entry);
            }
        }

        var lines = new Dictionary<Currency, long[]>();
        long started = 0, trialsStarted = 0, converted = 0, lapsed = 0;
        var churnedIds = new HashSet<SubscriptionId>();
        for (; next < _events.Length && _events[next].OccurredAt < to; next++)
        {
            FunnelEvent e = _events[next];
            SubscriptionChange change = ledger.Apply(e, out SubscriptionEntry? subscription, out long amount);
            if (subscription is null || change == SubscriptionChange.None)
            {
                continue;
            }

            long[] line = Line(lines, subscription.Currency);
            switch (change)
            {
                case SubscriptionChange.TrialStarted:
                    started++;
                    trialsStarted++;
                    break;
                case SubscriptionChange.New:
                    started++;
                    line[New] = checked(line[New] + amount);
                    break;
                case SubscriptionChange.TrialConverted:
                    converted++;
                    line[New] = checked(line[New] + amount);
                    break;
                case SubscriptionChange.TrialLapsed:
                    lapsed++;
                    break;
                case SubscriptionChange.Expansion:
                    line[Expansion] = checked(line[Expansion] + amount);
                    break;
                case SubscriptionChange.Contraction:
                    line[Contraction] = checked(line[Contraction] + amount);
                    break;
                case SubscriptionChange.Paused:
                    line[Paused] = checked(line[Paused] + amount);
                    break;
                case SubscriptionChange.Reactivation:
                    line[Reactivation] = checked(line[Reactivation] + amount);
                    break;
                case SubscriptionChange.Churned:
                    line[Churned] = checked(line[Churned] + amount);
                    churnedIds.Add(((SubscriptionEnded)e).Subscription);
                    break;
                case SubscriptionChange.EndedWhilePaused:
                    churnedIds.Add(((SubscriptionEnded)e).Subscription);
                    break;
            }
        }

        RecurringRevenueSnapshot end = Snapshot(ledger, to);
        foreach ((SubscriptionId id, SubscriptionEntry entry) in cohort)
        {
            long[] line = Line(lines, entry.Currency);
            line[Starters]++;
            line[Retained] = checked(line[Retained] + entry.Mrr);
            if (churnedIds.Contains(id))
            {
                line[ChurnedCount]++;
            }
        }

        ImmutableArray<RecurringRevenueMovement> movements =
        [
            .. Currencies.Select(c =>
            {
                long[] line = Line(lines, c);
                return new RecurringRevenueMovement
                {
                    Currency = c,
                    Starting = start.Mrr(c),
                    New = new Money(line[New], c),
                    Expansion = new Money(line[Expansion], c),
                    Contraction = new Money(line[Contraction], c),
                    Churned = new Money(line[Churned], c),
                    Paused = new Money(line[Paused], c),
                    Reactivation = new Money(line[Reactivation], c),
                    Ending = end.Mrr(c),
                    Retained = new Money(line[Retained], c),
                    SubscribersAtStart = line[Starters],
                    ChurnedSubscribers = line[ChurnedCount],
                };
            }),
        ];

        return new RecurringRevenueReport
        {
            From = from,
            To = to,
            Start = start,
            End = end,
            Currencies = movements,
            SubscribersAtStart = cohort.Count,
            ChurnedSubscribers = movements.Sum(m => m.ChurnedSubscribers),
            SubscriptionsStarted = started,
            TrialsStarted = trialsStarted,
            TrialsConverted = converted,
            TrialsLapsed = lapsed,
        };
    }

    private const int New = 0, Expansion = 1, Contraction = 2, Churned = 3, Paused = 4, Reactivation = 5, Retained = 6,
        Starters = 7, ChurnedCount = 8;

    private static long[] Line(Dictionary<Currency, long[]> lines, Currency currency)
    {
        if (!lines.TryGetValue(currency, out long[]? line))
        {
            lines[currency] = line = new long[9];
        }

        return line;
    }

    private RecurringRevenueSnapshot Snapshot(SubscriptionMetricsLedger ledger, Instant at) => new()
    {
        At = at,
        MonthlyRecurringRevenue = [.. Currencies.Select(c => new Money(ledger.Mrr.GetValueOrDefault(c), c))],
        ActiveSubscribers = ledger.Active,
        TrialingSubscribers = ledger.Trialing,
        PausedSubscribers = ledger.PausedCount,
    };
}

/// <summary>The <c>subscription-metrics</c> section of the funnel report.</summary>
internal sealed class SubscriptionMetricsReportSection : IFunnelReportSection
{
    public string Key => SubscriptionMetrics.SectionKey;

    public IFunnelReportSectionBuilder CreateBuilder(FunnelReportSettings settings) => new Builder();

    /// <summary>Keeps the subscription events of the report; the reporter passes each distinct event once.</summary>
    private sealed class Builder : IFunnelReportSectionBuilder
    {
        private readonly List<FunnelEvent> _events = [];
        private readonly HashSet<EventId> _seen = [];

        public void Add(FunnelEvent funnelEvent)
        {
            if (SubscriptionMetricsLedger.Reads(funnelEvent) && _seen.Add(funnelEvent.Id))
            {
                _events.Add(funnelEvent);
            }
        }

        public object Build() => SubscriptionMetrics.FromDistinct(_events);
    }
}
