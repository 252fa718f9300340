using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using Funnel.Currencies;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Kpis;

/// <summary>Computes a <see cref="FunnelReport"/> from a stream of funnel events.</summary>
public interface IFunnelReporter
{
    /// <summary>Computes the report of a funnel from its events.</summary>
    /// <param name="funnel">The funnel definition.</param>
    /// <param name="events">The events, in any order; replays with the same <see cref="FunnelEvent.Id"/> count once.</param>
    /// <returns>The report.</returns>
    FunnelReport CreateReport(FunnelDefinition funnel, IEnumerable<FunnelEvent> events);
}

/// <summary>Settings of a <see cref="FunnelReporter"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record FunnelReportSettings
{
    /// <summary>Gets the currency of the report; amounts in other currencies are converted with <see cref="ExchangeRates"/>.</summary>
    /// <value>Defaults to <see cref="Currency.USD"/>.</value>
    public Currency Currency { get; init; } = Currency.USD;

    /// <summary>Gets the exchange rates that convert an amount in another currency into <see cref="Currency"/>.</summary>
    /// <remarks>
    /// An event's amount is converted at the rate of the event's UTC date (<see cref="ToReportCurrency"/>), so each
    /// sale counts at what it was worth when it happened. The reporter of <c>AddFunnel</c> uses the
    /// <see cref="IExchangeRates"/> registered in the container. To see revenue per currency instead, read the
    /// <c>revenue-by-currency</c> section of Funnel.Commerce.
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>: every amount must be in <see cref="Currency"/>.</value>
    public IExchangeRates? ExchangeRates { get; init; }

    /// <summary>Gets how long after an entry page view another event still counts as engagement rather than a bounce.</summary>
    /// <value>Defaults to 30 minutes, the usual web-analytics session timeout.</value>
    public Duration BounceWindow { get; init; } = Duration.FromMinutes(30);

    /// <summary>Gets the rules that decide each lead's stage in <see cref="FunnelReport.Lifecycle"/>.</summary>
    /// <value>Defaults to <see cref="Leads.LeadLifecycle.Default"/>.</value>
    public LeadLifecycle Lifecycle { get; init; } = LeadLifecycle.Default;

    /// <summary>Gets the model that estimates <see cref="FunnelReport.CustomerLifetimeValue"/>.</summary>
    /// <value>Defaults to <see cref="SimpleCustomerLifetimeValueModel"/> with a lifespan of one period (the report period).</value>
    public ICustomerLifetimeValueModel CustomerLifetimeValue { get; init; } = new SimpleCustomerLifetimeValueModel(1m);

    /// <summary>Gets the sections packages contribute to <see cref="FunnelReport.Sections"/>.</summary>
    /// <remarks>
    /// The <c>AddFunnel…</c> method of each package registers its section, and the reporter that <c>AddFunnel</c>
    /// registers lists every registered one; a reporter built by hand lists those given here.
    /// </remarks>
    /// <value>Defaults to none.</value>
    public ImmutableArray<IFunnelReportSection> Sections { get; init; } = [];

    /// <summary>Returns an event's amount in the report's currency.</summary>
    /// <param name="amount">The amount, such as an order's total.</param>
    /// <param name="source">The event that carries it; its UTC date picks the rate.</param>
    /// <returns>
    /// <paramref name="amount"/> when it is in <see cref="Currency"/>; otherwise converted at the rate of
    /// <paramref name="source"/>'s UTC date, rounded half to even (<see cref="CurrencyConversion.Convert(Money, decimal, Currency)"/>).
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">
    /// The amount is in another currency and <see cref="ExchangeRates"/> is not set or has no rate for it on that date;
    /// the message names the event, the currencies and the date.
    /// </exception>
    public Money ToReportCurrency(Money amount, FunnelEvent source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (amount.Currency == Currency)
        {
            return amount;
        }

        LocalDate day = source.OccurredAt.InUtc().Date;
        decimal? rate = ExchangeRates?.FindRate(amount.Currency, Currency, day);
        return rate is > 0m
            ? CurrencyConversion.Convert(amount, rate.Value, Currency)
            : throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Event {source.Id} ({source.EventType}) has an amount in {amount.Currency.Code}, but the report is in {Currency.Code} ")
                + (ExchangeRates is null
                    ? "and no exchange rates are set: register an IExchangeRates (FunnelReportSettings.ExchangeRates) or report in one currency."
                    : string.Create(CultureInfo.InvariantCulture, $"and the exchange rates have no rate from {amount.Currency.Code} to {Currency.Code} on {day:uuuu'-'MM'-'dd}.")));
    }
}

/// <summary>The built-in <see cref="IFunnelReporter"/>: an ordered funnel over each lead's events.</summary>
/// <remarks>
/// <para>
/// A lead reaches step <em>k</em> when it has events matching steps 1 to <em>k</em> in that order: each at the same
/// instant as, or later than, the event that reached the step before, and each a different event. Events at the
/// same instant chain in step order. Unrelated events in between do not break the chain, and there is no
/// conversion window: the whole stream is one period. Step counts therefore never increase from one step to the next.
/// </para>
/// <para>
/// Orders count once per <see cref="OrderId"/>, events once per <see cref="FunnelEvent.Id"/>. Channel and campaign
/// breakdowns use first-touch attribution: a lead belongs to the channel (campaign) of its earliest event that has one.
/// </para>
/// <para>
/// A lead is a person, not an id: the events of a visitor id linked to a lead by an <see cref="IdentityLinked"/>
/// event in the stream count as that lead's (see <see cref="LeadAliases"/>), so a person who browsed on two devices
/// before opting in is one lead through every step. Report sections receive the events as they are.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class FunnelReporter : IFunnelReporter
{
    private const string NoSegment = "(none)";
    private readonly FunnelReportSettings settings;

    /// <summary>Initializes a reporter.</summary>
    /// <param name="settings">The settings, or <see langword="null"/> for the defaults.</param>
    public FunnelReporter(FunnelReportSettings? settings = null)
    {
        this.settings = settings ?? new FunnelReportSettings();
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument or one of the events is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">An event carries an amount in another currency than the report's that <see cref="FunnelReportSettings.ExchangeRates"/> cannot convert.</exception>
    /// <exception cref="OverflowException">A sum of amounts does not fit in 64-bit minor units.</exception>
    public FunnelReport CreateReport(FunnelDefinition funnel, IEnumerable<FunnelEvent> events)
    {
        ArgumentNullException.ThrowIfNull(funnel);
        ArgumentNullException.ThrowIfNull(events);
        return new Run(funnel, settings).Execute(events);
    }

    /// <summary>The mutable state of one report computation.</summary>
    private sealed class Run(FunnelDefinition funnel, FunnelReportSettings settings)
    {
        private readonly ImmutableArray<StepDefinition> steps = funnel.Steps;
        private readonly Currency currency = settings.Currency;
        private readonly Segment overall = new(funnel.Steps.Length);
        private readonly Dictionary<string, Segment> byChannel = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Segment> byCampaign = new(StringComparer.Ordinal);
        private readonly Dictionary<LifecycleStage, long> lifecycle = [];
        private readonly HashSet<OrderId> orders = [];
        private readonly HashSet<OrderId> refundedOrders = [];
        private readonly Dictionary<string, int> emailKeys = new(StringComparer.Ordinal);
        private readonly HashSet<long> sent = [], bounced = [], opened = [], clicked = [], unsubscribed = [], complained = [];
        private readonly Dictionary<string, int> linkKeys = new(StringComparer.Ordinal);
        private readonly HashSet<(long Message, int Link)> linkClicks = [];
        private readonly List<int> usedAtInstant = [];
        private readonly bool entryIsPage = funnel.Steps.Length > 0 && funnel.Steps[0].Trigger.EventType == EventTypes.PageViewed;
        private long entryViews, entryBounces, checkoutsStarted, checkoutsAbandoned, eventCount;
        private Instant? from, to;
        private readonly (string Key, IFunnelReportSectionBuilder Builder)[] sections =
            [.. settings.Sections.IsDefault ? [] : settings.Sections.DistinctBy(s => s.Key).Select(s => (s.Key, s.CreateBuilder(settings)))];

        public FunnelReport Execute(IEnumerable<FunnelEvent> events)
        {
            // Lead events are grouped by lead with a counting sort (stable, so arrival order breaks ties),
            // which avoids a list per lead; each lead's few events are then sorted by time.
            int expected = events.TryGetNonEnumeratedCount(out int count) ? count : 0;
            var leadIndex = new Dictionary<LeadId, int>();
            var entries = new List<Entry>(expected);
            var seen = new HashSet<EventId>(expected);
            List<IdentityLinked>? links = null;
            foreach (FunnelEvent e in events)
            {
                ArgumentNullException.ThrowIfNull(e, nameof(events));
                if (e.Id != default && !seen.Add(e.Id))
                {
                    continue;
                }

                eventCount++;
                from = from is { } f && f <= e.OccurredAt ? f : e.OccurredAt;
                to = to is { } t && t >= e.OccurredAt ? t : e.OccurredAt;
                foreach ((string _, IFunnelReportSectionBuilder section) in sections)
                {
                    section.Add(e);
                }

                switch (e)
                {
                    case LeadEvent lead:
                        if (lead is IdentityLinked link)
                        {
                            (links ??= []).Add(link);
                        }

                        if (!leadIndex.TryGetValue(lead.LeadId, out int index))
                        {
                            leadIndex[lead.LeadId] = index = leadIndex.Count;
                        }

                        entries.Add(new Entry(index, entries.Count, e));
                        break;
                    case AdSpendRecorded spend:
                        Money amount = InCurrency(spend.Amount, spend);
                        overall.AdSpend += amount.MinorUnits;
                        SegmentOf(byChannel, spend.Attribution.Channel).AdSpend += amount.MinorUnits;
                        SegmentOf(byCampaign, spend.Attribution.Campaign).AdSpend += amount.MinorUnits;
                        break;
                }
            }

            int leadCount = leadIndex.Count;
            if (links is not null)
            {
                leadCount = MergeAliases(leadIndex, entries, LeadAliases.From(links));
            }

            int[] starts = new int[leadCount + 1];
            foreach (Entry entry in entries)
            {
                starts[entry.Lead + 1]++;
            }

            for (int i = 1; i < starts.Length; i++)
            {
                starts[i] += starts[i - 1];
            }

            var grouped = new Entry[entries.Count];
            int[] next = (int[])starts.Clone();
            foreach (Entry entry in entries)
            {
                grouped[next[entry.Lead]++] = entry;
            }

            for (int lead = 0; lead < leadCount; lead++)
            {
                Span<Entry> group = grouped.AsSpan(starts[lead], starts[lead + 1] - starts[lead]);
                group.Sort(static (a, b) => a.Event.OccurredAt != b.Event.OccurredAt
                    ? a.Event.OccurredAt.CompareTo(b.Event.OccurredAt)
                    : a.Sequence.CompareTo(b.Sequence));
                AddLead(lead, group);
            }

            return new FunnelReport
            {
                Funnel = funnel,
                Currency = currency,
                From = from,
                To = to,
                EventCount = eventCount,
                Overall = overall.ToMetrics(null, funnel, currency),
                ByChannel = [.. byChannel.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value.ToMetrics(p.Key, funnel, currency))],
                ByCampaign = [.. byCampaign.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value.ToMetrics(p.Key, funnel, currency))],
                Lifecycle = Enum.GetValues<LifecycleStage>().ToImmutableDictionary(stage => stage, lifecycle.GetValueOrDefault),
                Email = EmailMetricsOf(),
                EntryPageViews = entryViews,
                EntryPageBounces = entryBounces,
                CheckoutsStarted = checkoutsStarted,
                CheckoutsAbandoned = checkoutsAbandoned,
                RefundedOrders = refundedOrders.Count(orders.Contains),
                CustomerLifetimeValue = settings.CustomerLifetimeValue.Estimate(
                    new CustomerHistory(new Money(overall.Revenue, currency), overall.Orders, overall.Customers)),
                Sections = sections.ToImmutableDictionary(s => s.Key, s => s.Builder.Build(), StringComparer.Ordinal),
            };
        }

        /// <summary>Renumbers the leads so that a linked visitor id shares its lead's number; returns the number of people.</summary>
        /// <remarks>Runs only when the stream holds links, so a stream without them pays nothing.</remarks>
        private static int MergeAliases(Dictionary<LeadId, int> leadIndex, List<Entry> entries, LeadAliases aliases)
        {
            var person = new Dictionary<LeadId, int>(leadIndex.Count);
            int[] renumbered = new int[leadIndex.Count];
            foreach ((LeadId id, int index) in leadIndex)
            {
                LeadId canonical = aliases.Resolve(id);
                if (!person.TryGetValue(canonical, out int merged))
                {
                    person[canonical] = merged = person.Count;
                }

                renumbered[index] = merged;
            }

            Span<Entry> span = CollectionsMarshal.AsSpan(entries);
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = span[i] with { Lead = renumbered[span[i].Lead] };
            }

            return person.Count;
        }

        private void AddLead(int lead, ReadOnlySpan<Entry> events)
        {
            int depth = OrderedDepth(events);
            string? channel = null, campaign = null;
            long leadOrders = 0, revenue = 0, refunds = 0;
            Instant? checkoutAt = null;
            bool orderedAfterCheckout = false;
            LifecycleStage stage = LifecycleStage.Visitor;

            for (int i = 0; i < events.Length; i++)
            {
                FunnelEvent e = events[i].Event;
                channel ??= e.Attribution.Channel;
                campaign ??= e.Attribution.Campaign;
                stage = settings.Lifecycle.Apply(stage, e);
                switch (e)
                {
                    case OrderPlaced order:
                        Money total = InCurrency(order.Total, order);
                        if (orders.Add(order.Order))
                        {
                            leadOrders++;
                            revenue = checked(revenue + total.MinorUnits);
                        }

                        orderedAfterCheckout |= checkoutAt is not null;
                        break;
                    case RefundIssued refund:
                        refunds = checked(refunds + InCurrency(refund.Amount, refund).MinorUnits);
                        refundedOrders.Add(refund.Order);
                        break;
                    case CheckoutStarted:
                        checkoutAt ??= e.OccurredAt;
                        break;
                    case EmailEvent email:
                        AddEmail(lead, email);
                        break;
                    case PageViewed when entryIsPage && steps[0].Trigger.Matches(e):
                        entryViews++;
                        bool engaged = i + 1 < events.Length && events[i + 1].Event.OccurredAt - e.OccurredAt <= settings.BounceWindow;
                        entryBounces += engaged ? 0 : 1;
                        break;
                }
            }

            if (checkoutAt is not null)
            {
                checkoutsStarted++;
                checkoutsAbandoned += orderedAfterCheckout ? 0 : 1;
            }

            lifecycle[stage] = lifecycle.GetValueOrDefault(stage) + 1;
            overall.AddLead(depth, leadOrders, revenue, refunds);
            SegmentOf(byChannel, channel).AddLead(depth, leadOrders, revenue, refunds);
            SegmentOf(byCampaign, campaign).AddLead(depth, leadOrders, revenue, refunds);
        }

        /// <summary>How many steps, from the first, the lead reached in order (greedy earliest match, which is optimal).</summary>
        private int OrderedDepth(ReadOnlySpan<Entry> events)
        {
            int start = 0;
            usedAtInstant.Clear();
            for (int k = 0; k < steps.Length; k++)
            {
                int found = -1;
                for (int i = start; i < events.Length; i++)
                {
                    if (!usedAtInstant.Contains(i) && steps[k].Trigger.Matches(events[i].Event))
                    {
                        found = i;
                        break;
                    }
                }

                if (found < 0)
                {
                    return k;
                }

                // The next step may use another event at the same instant, even one that arrived earlier.
                Instant at = events[found].Event.OccurredAt;
                int groupStart = found;
                while (groupStart > 0 && events[groupStart - 1].Event.OccurredAt == at)
                {
                    groupStart--;
                }

                if (usedAtInstant.Count > 0 && events[usedAtInstant[0]].Event.OccurredAt != at)
                {
                    usedAtInstant.Clear();
                }

                usedAtInstant.Add(found);
                start = groupStart;
            }

            return steps.Length;
        }

        private void AddEmail(int lead, EmailEvent email)
        {
            HashSet<long>? set = email switch
            {
                EmailSent => sent,
                EmailBounced => bounced,
                EmailOpened => opened,
                EmailClicked => clicked,
                EmailUnsubscribed => unsubscribed,
                EmailComplained => complained,
                _ => null,
            };
            if (set is null)
            {
                return;
            }

            // A message is (lead, email key), packed into one long for cheap hashing.
            if (!emailKeys.TryGetValue(email.Email, out int key))
            {
                emailKeys[email.Email] = key = emailKeys.Count;
            }

            long message = ((long)lead << 32) | (uint)key;
            set.Add(message);
            if (email is EmailClicked { Url: { } url })
            {
                if (!linkKeys.TryGetValue(url, out int link))
                {
                    linkKeys[url] = link = linkKeys.Count;
                }

                linkClicks.Add((message, link));
            }
        }

        private EmailMetrics EmailMetricsOf()
        {
            bool Delivered(long message) => sent.Contains(message) && !bounced.Contains(message);
            long opens = opened.Union(clicked).Count(Delivered);
            return new EmailMetrics(
                Sent: sent.Count,
                Bounced: bounced.Count(sent.Contains),
                UniqueOpens: opens,
                UniqueClicks: clicked.Count(Delivered),
                Unsubscribes: unsubscribed.Count(Delivered),
                Complaints: complained.Count(Delivered))
            {
                UniqueLinkClicks = linkClicks.Count(c => Delivered(c.Message)),
            };
        }

        private Money InCurrency(Money amount, FunnelEvent source) => settings.ToReportCurrency(amount, source);

        private Segment SegmentOf(Dictionary<string, Segment> segments, string? key)
        {
            key ??= NoSegment;
            if (!segments.TryGetValue(key, out Segment? segment))
            {
                segments[key] = segment = new Segment(steps.Length);
            }

            return segment;
        }
    }

    /// <summary>A lead event, with the index of its lead and its arrival order.</summary>
    private readonly record struct Entry(int Lead, int Sequence, FunnelEvent Event);

    /// <summary>Running totals of one segment (overall, one channel or one campaign).</summary>
    private sealed class Segment(int stepCount)
    {
        private readonly long[] reached = new long[stepCount];

        public long Orders { get; private set; }

        public long Customers { get; private set; }

        public long Revenue { get; private set; }

        public long Refunds { get; private set; }

        public long AdSpend { get; set; }

        public void AddLead(int depth, long orders, long revenue, long refunds)
        {
            for (int k = 0; k < depth; k++)
            {
                reached[k]++;
            }

            Orders += orders;
            Customers += orders > 0 ? 1 : 0;
            Revenue = checked(Revenue + revenue);
            Refunds = checked(Refunds + refunds);
        }

        public FunnelMetrics ToMetrics(string? name, FunnelDefinition funnel, Currency currency) =>
            FunnelMetrics.FromCounts(name, funnel, reached, Orders, Customers, new Money(Revenue, currency), new Money(Refunds, currency), new Money(AdSpend, currency));
    }
}
