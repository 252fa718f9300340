using System.Collections.Immutable;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Kpis;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Figures;

/// <summary>The email flags of one message (a lead and an email key), as the reports count them.</summary>
[Flags]
internal enum MessageFlags : ushort
{
    None = 0,
    Sent = 1,
    Bounced = 2,
    Opened = 4,
    Clicked = 8,
    Unsubscribed = 16,
    Complained = 32,
    FailedPermanently = 64,
    Suppressed = 128,
    Skipped = 256,
}

/// <summary>An event of a lead that matches at least one step of the funnel: when, where in the log, and which steps.</summary>
internal readonly record struct StepHit(Instant At, long Position, int Steps);

/// <summary>What one person (a lead and the visitor ids linked to it) adds to the figures of its first-seen day.</summary>
internal readonly record struct Contribution(
    LocalDate Day,
    LocalDate? OptInDay,
    string? Channel,
    string? Campaign,
    int Depth,
    long Orders,
    long Revenue,
    long Refunds,
    EmailCounts Email);

/// <summary>The funnel report's email counts of a set of messages.</summary>
internal readonly record struct EmailCounts(long Sent, long Bounced, long Opens, long Clicks, long Unsubscribes, long Complaints)
{
    /// <summary>Counts one message as <see cref="FunnelReporter"/> does: engagement only on delivered messages.</summary>
    public static EmailCounts Of(MessageFlags f)
    {
        bool sent = f.HasFlag(MessageFlags.Sent);
        bool delivered = sent && !f.HasFlag(MessageFlags.Bounced);
        return new EmailCounts(
            sent ? 1 : 0,
            sent && f.HasFlag(MessageFlags.Bounced) ? 1 : 0,
            delivered && (f & (MessageFlags.Opened | MessageFlags.Clicked)) != 0 ? 1 : 0,
            delivered && f.HasFlag(MessageFlags.Clicked) ? 1 : 0,
            delivered && f.HasFlag(MessageFlags.Unsubscribed) ? 1 : 0,
            delivered && f.HasFlag(MessageFlags.Complained) ? 1 : 0);
    }

    public static EmailCounts operator +(EmailCounts a, EmailCounts b) => new(
        a.Sent + b.Sent, a.Bounced + b.Bounced, a.Opens + b.Opens, a.Clicks + b.Clicks, a.Unsubscribes + b.Unsubscribes, a.Complaints + b.Complaints);

    public EmailCounts Times(int sign) => new(Sent * sign, Bounced * sign, Opens * sign, Clicks * sign, Unsubscribes * sign, Complaints * sign);

    public EmailMetrics ToMetrics() => new(Sent, Bounced, Opens, Clicks, Unsubscribes, Complaints);
}

/// <summary>What the figures keep of one lead id: enough to recompute its person's contribution when an event arrives.</summary>
internal sealed class LeadFigures
{
    public Instant First { get; set; } = Instant.MaxValue;

    public Instant? FirstOptIn { get; set; }

    public (Instant At, long Position, string? Value) Channel { get; set; } = (Instant.MaxValue, long.MaxValue, null);

    public (Instant At, long Position, string? Value) Campaign { get; set; } = (Instant.MaxValue, long.MaxValue, null);

    /// <summary>Gets the events that match a step, ordered by time and then log position.</summary>
    public List<StepHit>? Hits { get; set; }

    public long Orders { get; set; }

    public long Revenue { get; set; }

    public long Refunds { get; set; }

    /// <summary>Gets the flags of each email key this lead id received, by key number.</summary>
    public List<(int Key, MessageFlags Flags)>? Messages { get; set; }

    /// <summary>Gets the person this lead id belongs to: <see langword="null"/> when it is its own.</summary>
    public LeadFigures? Root { get; set; }

    /// <summary>Gets the other lead ids of this person (only on a root).</summary>
    public List<LeadFigures>? Members { get; set; }

    /// <summary>Gets what this person adds to the figures (only on a root that has events).</summary>
    public Contribution? Current { get; set; }

    public LeadFigures Person => Root ?? this;

    public void AddHit(StepHit hit)
    {
        Hits ??= new List<StepHit>(4);
        int i = Hits.Count;
        while (i > 0 && (Hits[i - 1].At > hit.At || (Hits[i - 1].At == hit.At && Hits[i - 1].Position > hit.Position)))
        {
            i--;
        }

        Hits.Insert(i, hit);
    }

    /// <summary>Sets a message's flag; returns the flags before and after.</summary>
    public (MessageFlags Before, MessageFlags After) Flag(int key, MessageFlags flag)
    {
        Messages ??= new List<(int, MessageFlags)>(2);
        for (int i = 0; i < Messages.Count; i++)
        {
            if (Messages[i].Key == key)
            {
                MessageFlags before = Messages[i].Flags;
                Messages[i] = (key, before | flag);
                return (before, before | flag);
            }
        }

        Messages.Add((key, flag));
        return (MessageFlags.None, flag);
    }
}

/// <summary>Running totals of one segment (overall, a channel or a campaign) of one day, as <see cref="FunnelReporter"/> keeps them.</summary>
internal sealed class SegmentTotals(int steps)
{
    public long People { get; private set; }

    public long[] Reached { get; } = new long[steps];

    public long Orders { get; private set; }

    public long Customers { get; private set; }

    public long Revenue { get; private set; }

    public long Refunds { get; private set; }

    public long AdSpend { get; private set; }

    public long SpendEvents { get; private set; }

    public bool IsListed => People != 0 || SpendEvents != 0;

    public void Add(in Contribution c, int sign)
    {
        People += sign;
        for (int k = 0; k < c.Depth; k++)
        {
            Reached[k] += sign;
        }

        Orders += sign * c.Orders;
        Customers += c.Orders > 0 ? sign : 0;
        Revenue = checked(Revenue + (sign * c.Revenue));
        Refunds = checked(Refunds + (sign * c.Refunds));
    }

    public void AddSpend(long amount)
    {
        AdSpend = checked(AdSpend + amount);
        SpendEvents++;
    }

    public void AddAll(SegmentTotals other)
    {
        People += other.People;
        for (int k = 0; k < Reached.Length; k++)
        {
            Reached[k] += other.Reached[k];
        }

        Orders += other.Orders;
        Customers += other.Customers;
        Revenue = checked(Revenue + other.Revenue);
        Refunds = checked(Refunds + other.Refunds);
        AdSpend = checked(AdSpend + other.AdSpend);
        SpendEvents += other.SpendEvents;
    }

    /// <summary>The segment's metrics, computed as <see cref="FunnelReporter"/> computes them.</summary>
    public FunnelMetrics ToMetrics(string? name, FunnelDefinition funnel, Currency currency) =>
        FunnelMetrics.FromCounts(name, funnel, Reached, Orders, Customers, new Money(Revenue, currency), new Money(Refunds, currency), new Money(AdSpend, currency));
}

/// <summary>The figures of one day in the site's time zone.</summary>
internal sealed class DayFigures(int steps)
{
    public SegmentTotals Overall { get; } = new(steps);

    public Dictionary<string, SegmentTotals> ByChannel { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, SegmentTotals> ByCampaign { get; } = new(StringComparer.Ordinal);

    public EmailCounts Email { get; set; }

    /// <summary>Gets or sets the people first seen this day (<c>KpiTimeSeries</c>' new visitors).</summary>
    public long NewVisitors { get; set; }

    /// <summary>Gets or sets the people whose first opt-in was this day.</summary>
    public long NewLeads { get; set; }

    /// <summary>Gets or sets the <c>order_placed</c> events of this day.</summary>
    public long SeriesOrders { get; set; }

    /// <summary>Gets or sets the totals of this day's <c>order_placed</c> events, in minor units.</summary>
    public long SeriesRevenue { get; set; }

    public long Events { get; set; }

    public Dictionary<string, long> Types { get; } = new(StringComparer.Ordinal);
}
