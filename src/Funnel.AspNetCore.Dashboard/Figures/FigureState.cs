using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Leads;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Figures;

/// <summary>The dashboard's figures, kept up to date one logged event at a time, in log order.</summary>
/// <remarks>
/// <para>
/// Each lead id keeps what its person's figures need (first seen, first opt-in, first-touch channel and campaign, the
/// events that match a funnel step, orders, revenue, refunds and email flags). When an event arrives, the person's
/// contribution to the day it was first seen is taken out and put back recomputed, so the per-day totals are always
/// those of <see cref="FunnelReporter"/> over each cohort: the people first seen that day, with all their events.
/// Events that are no person's (ad spend) and the per-type counts go to the day they happened.
/// </para>
/// <para>Not thread-safe: <see cref="DashboardFigures"/> serialises access.</para>
/// </remarks>
internal sealed class FigureState
{
    private const string NoSegment = "(none)";
    private const int LatestOrdersKept = 1_000;
    private readonly FunnelDefinition? _funnel;
    private readonly FunnelReportSettings _settings;
    private readonly DateTimeZone _zone;
    private readonly int _steps;
    private readonly Dictionary<LeadId, LeadFigures> _leads = [];
    private readonly Dictionary<LeadId, LeadId> _parent = [];
    private readonly Dictionary<LeadId, List<IdentityLinked>> _linksById = [];
    private readonly HashSet<OrderId> _orders = [];
    private readonly Dictionary<string, int> _emailKeys = new(StringComparer.Ordinal);
    private readonly List<long[]> _keyCounts = [];
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<LocalDate, DayFigures> _days = [];
    private readonly Dictionary<(string, string), (long Then, long Else)> _paths = [];
    private readonly Dictionary<string, long> _enrolled = new(StringComparer.Ordinal);
    private readonly List<OrderId> _latestOrders = [];
    private readonly IFunnelReportSectionBuilder _payments;
    private Currency? _seriesCurrency;
    private IdentityLinked? _lastLink;

    public FigureState(FunnelDefinition? funnel, FunnelReportSettings settings, DateTimeZone zone)
    {
        _funnel = funnel;
        _settings = settings;
        _zone = zone;
        _steps = funnel?.Steps.Length ?? 0;
        _payments = PaymentMetrics.ReportSection.CreateBuilder(settings);
    }

    /// <summary>Gets the number of events applied.</summary>
    public long Events { get; private set; }

    /// <summary>Gets why the overview's report cannot be shown (an amount the report currency cannot take), if so.</summary>
    public string? ReportError { get; private set; }

    /// <summary>Gets why the time series cannot be shown (amounts in more than one currency), if so.</summary>
    public string? SeriesError { get; private set; }

    /// <summary>Gets why the payment figures cannot be shown, if so.</summary>
    public string? PaymentsError { get; private set; }

    public Currency SeriesCurrency => _seriesCurrency ?? _settings.Currency;

    public void Apply(LoggedEvent logged)
    {
        FunnelEvent e = logged.Event;
        Events++;
        DayFigures day = Day(e.OccurredAt.InZone(_zone).Date);
        day.Events++;
        day.Types[e.EventType] = day.Types.GetValueOrDefault(e.EventType) + 1;
        ApplyPayments(e);
        switch (e)
        {
            case AdSpendRecorded spend:
                SeriesMoney(spend.Amount);
                if (ReportAmount(spend.Amount, spend) is { } amount)
                {
                    day.Overall.AddSpend(amount);
                    Segment(day.ByChannel, spend.Attribution.Channel).AddSpend(amount);
                    Segment(day.ByCampaign, spend.Attribution.Campaign).AddSpend(amount);
                }

                break;
            case LeadEvent lead when lead.LeadId.Value != Guid.Empty:
                ApplyLead(lead, logged.Position, day);
                break;
        }
    }

    private void ApplyLead(LeadEvent e, long position, DayFigures day)
    {
        switch (e)
        {
            case OrderPlaced order:
                SeriesMoney(order.Total);
                day.SeriesOrders++;
                day.SeriesRevenue = checked(day.SeriesRevenue + order.Total.MinorUnits);
                _latestOrders.Remove(order.Order);
                _latestOrders.Add(order.Order);
                if (_latestOrders.Count > LatestOrdersKept)
                {
                    _latestOrders.RemoveAt(0);
                }

                break;
            case RefundIssued refund:
                SeriesMoney(refund.Amount);
                break;
            case SequenceBranched branched:
                (long then, long otherwise) = _paths.GetValueOrDefault((branched.Sequence, branched.Step));
                _paths[(branched.Sequence, branched.Step)] = branched.Path == SequenceBranched.ThenPath ? (then + 1, otherwise) : (then, otherwise + 1);
                break;
            case SequenceEnrolled enrolled:
                _enrolled[enrolled.Sequence] = _enrolled.GetValueOrDefault(enrolled.Sequence) + 1;
                break;
        }

        if (!_leads.TryGetValue(e.LeadId, out LeadFigures? lead))
        {
            _leads[e.LeadId] = lead = new LeadFigures();
            if (_parent.Count > 0 && Root(e.LeadId) is var root && root != e.LeadId && _leads.TryGetValue(root, out LeadFigures? owner))
            {
                // Linked before its first event.
                lead.Root = owner;
                (owner.Members ??= []).Add(lead);
            }
        }

        LeadFigures person = lead.Person;
        Contribution? before = person.Current;
        Update(lead, e, position);
        Replace(person, before, Compute(person));
        if (e is IdentityLinked link)
        {
            Link(link);
        }
    }

    private void Update(LeadFigures lead, LeadEvent e, long position)
    {
        Instant at = e.OccurredAt;
        lead.First = at < lead.First ? at : lead.First;
        if (e is OptedIn && (lead.FirstOptIn is not { } optIn || at < optIn))
        {
            lead.FirstOptIn = at;
        }

        if (e.Attribution.Channel is { } channel && Earlier(at, position, lead.Channel))
        {
            lead.Channel = (at, position, Name(channel));
        }

        if (e.Attribution.Campaign is { } campaign && Earlier(at, position, lead.Campaign))
        {
            lead.Campaign = (at, position, Name(campaign));
        }

        if (_funnel is not null)
        {
            int mask = 0;
            for (int k = 0; k < _steps; k++)
            {
                mask |= _funnel.Steps[k].Trigger.Matches(e) ? 1 << k : 0;
            }

            if (mask != 0)
            {
                lead.AddHit(new StepHit(at, position, mask));
            }
        }

        switch (e)
        {
            case OrderPlaced order when _orders.Add(order.Order):
                if (ReportAmount(order.Total, order) is { } total)
                {
                    lead.Orders++;
                    lead.Revenue = checked(lead.Revenue + total);
                }

                break;
            case RefundIssued refund:
                if (ReportAmount(refund.Amount, refund) is { } refunded)
                {
                    lead.Refunds = checked(lead.Refunds + refunded);
                }

                break;
            case EmailEvent email:
                MessageFlags flag = email switch
                {
                    EmailSent => MessageFlags.Sent,
                    EmailBounced => MessageFlags.Bounced,
                    EmailOpened => MessageFlags.Opened,
                    EmailClicked => MessageFlags.Clicked,
                    EmailUnsubscribed => MessageFlags.Unsubscribed,
                    EmailComplained => MessageFlags.Complained,
                    EmailFailed { Permanent: true } => MessageFlags.FailedPermanently,
                    EmailSuppressed => MessageFlags.Suppressed,
                    EmailSkipped => MessageFlags.Skipped,
                    _ => MessageFlags.None,
                };
                if (flag != MessageFlags.None)
                {
                    int key = KeyOf(email.Email);
                    (MessageFlags old, MessageFlags now) = lead.Flag(key, flag);
                    long[] counts = _keyCounts[key];
                    Count(counts, old, -1);
                    Count(counts, now, +1);
                }

                break;
        }
    }

    private static bool Earlier(Instant at, long position, (Instant At, long Position, string? Value) current) =>
        at < current.At || (at == current.At && position < current.Position);

    /// <summary>Counts a message into a key's figures as <see cref="BroadcastMetrics.Compute"/> does.</summary>
    private static void Count(long[] counts, MessageFlags f, int sign)
    {
        if (f == MessageFlags.None)
        {
            return;
        }

        bool sent = f.HasFlag(MessageFlags.Sent);
        bool bounced = sent && f.HasFlag(MessageFlags.Bounced);
        bool opened = sent && !f.HasFlag(MessageFlags.Bounced) && (f & (MessageFlags.Opened | MessageFlags.Clicked)) != 0;
        counts[0] += sent ? sign : 0;
        counts[1] += bounced ? sign : 0;
        counts[2] += opened ? sign : 0;
        counts[3] += opened && f.HasFlag(MessageFlags.Clicked) ? sign : 0;
        counts[4] += sent && f.HasFlag(MessageFlags.Unsubscribed) ? sign : 0;
        counts[5] += sent && f.HasFlag(MessageFlags.Complained) ? sign : 0;
        counts[6] += f.HasFlag(MessageFlags.FailedPermanently) ? sign : 0;
        counts[7] += f.HasFlag(MessageFlags.Suppressed) ? sign : 0;
        counts[8] += f.HasFlag(MessageFlags.Skipped) ? sign : 0;
    }

    /// <summary>Links a visitor id to a lead as <see cref="LeadAliases.From"/> does over the links so far.</summary>
    private void Link(IdentityLinked link)
    {
        bool inOrder = _lastLink is null || LinkOrder.Instance.Compare(_lastLink, link) <= 0;
        _lastLink = inOrder ? link : _lastLink;
        (CollectionsMarshal.GetValueRefOrAddDefault(_linksById, link.VisitorId, out _) ??= []).Add(link);
        (CollectionsMarshal.GetValueRefOrAddDefault(_linksById, link.LeadId, out _) ??= []).Add(link);
        if (!inOrder)
        {
            Regroup(link);
            return;
        }

        LeadId visitor = link.VisitorId, lead = link.LeadId;
        if (visitor == lead || _parent.ContainsKey(visitor) || Root(lead) == visitor)
        {
            return;
        }

        _parent[visitor] = lead;
        if (!_leads.TryGetValue(visitor, out LeadFigures? merged))
        {
            _leads[visitor] = merged = new LeadFigures();
        }

        LeadFigures into = _leads[lead].Person;
        Replace(merged, merged.Current, null);
        Contribution? before = into.Current;
        foreach (LeadFigures member in (IEnumerable<LeadFigures>)[merged, .. merged.Members ?? []])
        {
            member.Root = into;
            (into.Members ??= []).Add(member);
        }

        merged.Members = null;
        Replace(into, before, Compute(into));
    }

    private LeadId Root(LeadId id)
    {
        while (_parent.TryGetValue(id, out LeadId next))
        {
            id = next;
        }

        return id;
    }

    /// <summary>
    /// Regroups the lead ids linked, directly or not, to a link that arrived out of time order: <see cref="LeadAliases.From"/>
    /// (a visitor belongs to the lead of its first link, without cycles) over the links of that group only, which
    /// decide its persons alone.
    /// </summary>
    private void Regroup(IdentityLinked link)
    {
        var ids = new HashSet<LeadId> { link.VisitorId, link.LeadId };
        var links = new HashSet<IdentityLinked>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<LeadId>(ids);
        while (pending.TryPop(out LeadId id))
        {
            foreach (IdentityLinked l in _linksById.GetValueOrDefault(id) ?? [])
            {
                if (links.Add(l))
                {
                    foreach (LeadId end in (ReadOnlySpan<LeadId>)[l.VisitorId, l.LeadId])
                    {
                        if (ids.Add(end))
                        {
                            pending.Push(end);
                        }
                    }
                }
            }
        }

        // The group's links decide its persons alone: each id's lead, as the reporter resolves it.
        LeadAliases aliases = LeadAliases.From(links);

        foreach (LeadId id in ids)
        {
            if (_leads.TryGetValue(id, out LeadFigures? lead) && lead.Root is null)
            {
                Replace(lead, lead.Current, null);
            }
        }

        foreach (LeadId id in ids)
        {
            _parent.Remove(id);
            if (_leads.TryGetValue(id, out LeadFigures? lead))
            {
                lead.Root = null;
                lead.Members = null;
            }
        }

        foreach (LeadId id in ids)
        {
            if (aliases.Resolve(id) is var lead && lead != id)
            {
                _parent[id] = lead;
            }
        }

        foreach (LeadId id in ids)
        {
            LeadId root = Root(id);
            if (root != id && _leads.TryGetValue(id, out LeadFigures? lead) && _leads.TryGetValue(root, out LeadFigures? person))
            {
                lead.Root = person;
                (person.Members ??= []).Add(lead);
            }
        }

        foreach (LeadId id in ids)
        {
            if (_leads.TryGetValue(id, out LeadFigures? lead) && lead.Root is null)
            {
                Replace(lead, null, Compute(lead));
            }
        }
    }

    /// <summary>Computes a person's contribution from its lead ids, as <see cref="FunnelReporter"/> computes a lead's.</summary>
    private Contribution? Compute(LeadFigures person)
    {
        Instant first = person.First;
        Instant? optIn = person.FirstOptIn;
        var channel = person.Channel;
        var campaign = person.Campaign;
        long orders = person.Orders, revenue = person.Revenue, refunds = person.Refunds;
        List<StepHit>? hits = person.Hits;
        Dictionary<int, MessageFlags>? merged = null;
        if (person.Members is { Count: > 0 } members)
        {
            hits = [.. person.Hits ?? []];
            merged = [];
            foreach (LeadFigures m in (IEnumerable<LeadFigures>)[person, .. members])
            {
                first = m.First < first ? m.First : first;
                optIn = m.FirstOptIn is { } o && (optIn is null || o < optIn) ? o : optIn;
                channel = m.Channel.Value is not null && Earlier(m.Channel.At, m.Channel.Position, channel) ? m.Channel : channel;
                campaign = m.Campaign.Value is not null && Earlier(m.Campaign.At, m.Campaign.Position, campaign) ? m.Campaign : campaign;
                foreach ((int key, MessageFlags flags) in m.Messages ?? [])
                {
                    merged[key] = merged.GetValueOrDefault(key) | flags;
                }

                if (m != person)
                {
                    orders += m.Orders;
                    revenue = checked(revenue + m.Revenue);
                    refunds = checked(refunds + m.Refunds);
                    hits.AddRange(m.Hits ?? []);
                }
            }

            hits.Sort(static (a, b) => a.At != b.At ? a.At.CompareTo(b.At) : a.Position.CompareTo(b.Position));
        }

        if (first == Instant.MaxValue)
        {
            return null;
        }

        EmailCounts email = default;
        if (merged is not null)
        {
            foreach (MessageFlags flags in merged.Values)
            {
                email += EmailCounts.Of(flags);
            }
        }
        else if (person.Messages is { } messages)
        {
            foreach ((int _, MessageFlags flags) in messages)
            {
                email += EmailCounts.Of(flags);
            }
        }

        return new Contribution(first.InZone(_zone).Date, optIn?.InZone(_zone).Date, channel.Value, campaign.Value,
            hits is null ? 0 : Depth(hits), orders, revenue, refunds, email);
    }

    /// <summary>How many steps, from the first, the events reach in order: <see cref="FunnelReporter"/>'s greedy earliest match.</summary>
    private int Depth(List<StepHit> events)
    {
        int start = 0;
        List<int> usedAtInstant = [];
        for (int k = 0; k < _steps; k++)
        {
            int found = -1;
            for (int i = start; i < events.Count; i++)
            {
                if (!usedAtInstant.Contains(i) && (events[i].Steps & (1 << k)) != 0)
                {
                    found = i;
                    break;
                }
            }

            if (found < 0)
            {
                return k;
            }

            Instant at = events[found].At;
            int groupStart = found;
            while (groupStart > 0 && events[groupStart - 1].At == at)
            {
                groupStart--;
            }

            if (usedAtInstant.Count > 0 && events[usedAtInstant[0]].At != at)
            {
                usedAtInstant.Clear();
            }

            usedAtInstant.Add(found);
            start = groupStart;
        }

        return _steps;
    }

    private void Replace(LeadFigures person, Contribution? before, Contribution? after)
    {
        if (before == after)
        {
            return;
        }

        if (before is { } b)
        {
            Add(b, -1);
        }

        if (after is { } a)
        {
            Add(a, +1);
        }

        person.Current = after;
    }

    private void Add(in Contribution c, int sign)
    {
        DayFigures day = Day(c.Day);
        day.Overall.Add(c, sign);
        Segment(day.ByChannel, c.Channel).Add(c, sign);
        Segment(day.ByCampaign, c.Campaign).Add(c, sign);
        day.Email += c.Email.Times(sign);
        day.NewVisitors += sign;
        if (c.OptInDay is { } optIn)
        {
            Day(optIn).NewLeads += sign;
        }
    }

    private DayFigures Day(LocalDate date)
    {
        if (!_days.TryGetValue(date, out DayFigures? day))
        {
            _days[date] = day = new DayFigures(_steps);
        }

        return day;
    }

    private SegmentTotals Segment(Dictionary<string, SegmentTotals> segments, string? key)
    {
        key ??= NoSegment;
        if (!segments.TryGetValue(key, out SegmentTotals? segment))
        {
            segments[Name(key)] = segment = new SegmentTotals(_steps);
        }

        return segment;
    }

    private string Name(string value)
    {
        if (!_names.TryGetValue(value, out string? name))
        {
            _names[value] = name = value;
        }

        return name;
    }

    private int KeyOf(string email)
    {
        if (!_emailKeys.TryGetValue(email, out int key))
        {
            _emailKeys[Name(email)] = key = _emailKeys.Count;
            _keyCounts.Add(new long[9]);
        }

        return key;
    }

    private long? ReportAmount(Money amount, FunnelEvent source)
    {
        try
        {
            return _settings.ToReportCurrency(amount, source).MinorUnits;
        }
        catch (InvalidOperationException e)
        {
            ReportError ??= e.Message;
            return null;
        }
    }

    private void SeriesMoney(Money amount)
    {
        _seriesCurrency ??= amount.Currency;
        if (amount.Currency != _seriesCurrency)
        {
            SeriesError ??= $"All amounts in a store must be in one currency: found {amount.Currency} after {_seriesCurrency}.";
        }
    }

    private void ApplyPayments(FunnelEvent e)
    {
        try
        {
            _payments.Add(e);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OverflowException)
        {
            PaymentsError ??= ex.Message;
        }
    }

    /// <summary>The payment figures: <see cref="PaymentMetrics.ReportSection"/>'s builder, fed every event once.</summary>
    public PaymentMetrics Payments() => (PaymentMetrics)_payments.Build();

    /// <summary>The orders placed last, newest first, each once.</summary>
    public OrderId[] LatestOrders(int count) => [.. Enumerable.Reverse(_latestOrders).Take(count)];

    /// <summary>An email key's figures, as <see cref="BroadcastMetrics.Compute"/> gives them over the whole log.</summary>
    public BroadcastMetrics EmailKey(string key)
    {
        long[] c = _emailKeys.TryGetValue(key, out int k) ? _keyCounts[k] : new long[9];
        return new BroadcastMetrics(key, new EmailMetrics(c[0], c[1], c[2], c[3], c[4], c[5]), c[6], c[7], c[8]);
    }

    public (long Then, long Else) Paths(string sequence, string step) => _paths.GetValueOrDefault((sequence, step));

    public long Enrolled(string sequence) => _enrolled.GetValueOrDefault(sequence);

    /// <summary>The overview's figures for a range of days: the people first seen in it, and the events that happened in it.</summary>
    public OverviewFigures Overview(LocalDate from, LocalDate to)
    {
        var overall = new SegmentTotals(_steps);
        var byChannel = new Dictionary<string, SegmentTotals>(StringComparer.Ordinal);
        var byCampaign = new Dictionary<string, SegmentTotals>(StringComparer.Ordinal);
        var types = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var series = ImmutableArray.CreateBuilder<(LocalDate Day, long Visitors, long Leads, long Orders, long Revenue)>();
        EmailCounts email = default;
        long events = 0;
        for (LocalDate date = from; date <= to; date = date.PlusDays(1))
        {
            if (!_days.TryGetValue(date, out DayFigures? day))
            {
                series.Add((date, 0, 0, 0, 0));
                continue;
            }

            series.Add((date, day.NewVisitors, day.NewLeads, day.SeriesOrders, day.SeriesRevenue));
            overall.AddAll(day.Overall);
            Merge(byChannel, day.ByChannel);
            Merge(byCampaign, day.ByCampaign);
            email += day.Email;
            events += day.Events;
            foreach ((string type, long count) in day.Types)
            {
                types[type] = types.GetValueOrDefault(type) + count;
            }
        }

        FunnelReport? report = null;
        if (_funnel is not null && ReportError is null)
        {
            Currency currency = _settings.Currency;
            FunnelMetrics metrics = overall.ToMetrics(null, _funnel, currency);
            report = new FunnelReport
            {
                Funnel = _funnel,
                Currency = currency,
                EventCount = events,
                Overall = metrics,
                ByChannel = Listed(byChannel, currency),
                ByCampaign = Listed(byCampaign, currency),
                Lifecycle = ImmutableDictionary<LifecycleStage, long>.Empty,
                Email = email.ToMetrics(),
                EntryPageViews = 0,
                EntryPageBounces = 0,
                CheckoutsStarted = 0,
                CheckoutsAbandoned = 0,
                RefundedOrders = 0,
                CustomerLifetimeValue = _settings.CustomerLifetimeValue.Estimate(
                    new CustomerHistory(metrics.Revenue, metrics.Orders, metrics.Customers)),
            };
        }

        return new OverviewFigures(report, events, [.. types.Select(t => (t.Key, t.Value))], series.ToImmutable());
    }

    private ImmutableArray<FunnelMetrics> Listed(Dictionary<string, SegmentTotals> segments, Currency currency) =>
        [.. segments.Where(s => s.Value.IsListed).OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Value.ToMetrics(s.Key, _funnel!, currency))];

    private void Merge(Dictionary<string, SegmentTotals> into, Dictionary<string, SegmentTotals> from)
    {
        foreach ((string key, SegmentTotals segment) in from)
        {
            if (!into.TryGetValue(key, out SegmentTotals? sum))
            {
                into[key] = sum = new SegmentTotals(_steps);
            }

            sum.AddAll(segment);
        }
    }
}

/// <summary>Orders identity links as <see cref="LeadAliases.From"/> does: by time, then visitor, then lead.</summary>
internal sealed class LinkOrder : IComparer<IdentityLinked>
{
    public static readonly LinkOrder Instance = new();

    public int Compare(IdentityLinked? a, IdentityLinked? b)
    {
        int c = a!.OccurredAt.CompareTo(b!.OccurredAt);
        c = c != 0 ? c : a.VisitorId.Value.CompareTo(b.VisitorId.Value);
        return c != 0 ? c : a.LeadId.Value.CompareTo(b.LeadId.Value);
    }
}

/// <summary>The overview's figures for a range of days.</summary>
/// <param name="Report">
/// The funnel report over the people first seen in the range (each with all its events) and the ad spend of the range,
/// or <see langword="null"/> when no funnel is set or the report cannot be computed. Only the parts the overview shows
/// are filled: lifecycle, landing-page and checkout figures are not kept.
/// </param>
/// <param name="Events">The events that happened in the range.</param>
/// <param name="Types">Those events' counts by type, ordered by type.</param>
/// <param name="Series">Each day's new visitors, new leads, orders and revenue (minor units), as <c>KpiTimeSeries</c> gives them.</param>
internal sealed record OverviewFigures(
    FunnelReport? Report,
    long Events,
    ImmutableArray<(string Type, long Count)> Types,
    ImmutableArray<(LocalDate Day, long Visitors, long Leads, long Orders, long Revenue)> Series);
