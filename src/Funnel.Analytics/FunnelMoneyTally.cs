using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Kpis;
using NodaTime;

namespace Funnel.Analytics;

/// <summary>
/// Collects, for one range of leads of a funnel analysis, the net revenue per depth (and group) and every payment
/// with its time since the chain's start; <see cref="Merge"/> turns the ranges into <see cref="FunnelMoney"/> per step.
/// </summary>
internal sealed class FunnelMoneyTally
{
    private readonly AnalyticsEventStore store;
    private readonly bool[] refund;
    private readonly int width;
    private int cursor;

    /// <summary>Creates the tally for leads from <paramref name="fromLead"/> on, in increasing order.</summary>
    public FunnelMoneyTally(AnalyticsEventStore store, bool[] refundTerms, int steps, int groups, int fromLead)
    {
        this.store = store;
        refund = refundTerms;
        width = steps + 1;
        Revenue = new long[width];
        GroupRevenue = new long[groups * width];
        cursor = LowerBound(store.MoneyEvents, store.Offsets[fromLead]);
    }

    /// <summary>Gets the net revenue of the leads whose chain reached exactly each depth.</summary>
    public long[] Revenue { get; }

    /// <summary>Gets <see cref="Revenue"/> per group: index <c>group × (steps + 1) + depth</c>.</summary>
    public long[] GroupRevenue { get; }

    /// <summary>Gets every counted payment (refunds negative) with its lead's depth and group.</summary>
    public List<Payment> Payments { get; } = [];

    /// <summary>Adds the orders and refunds of one lead, from its chain's start on; leads must come in increasing order.</summary>
    /// <param name="begin">The lead's first event.</param>
    /// <param name="end">One past the lead's last event.</param>
    /// <param name="depth">The steps its chain reached (at least 1).</param>
    /// <param name="startTicks">When its chain started.</param>
    /// <param name="group">Its breakdown group, or -1.</param>
    public void Add(int begin, int end, int depth, long startTicks, int group)
    {
        int[] positions = store.MoneyEvents;
        while (cursor < positions.Length && positions[cursor] < begin)
        {
            cursor++;
        }

        for (; cursor < positions.Length && positions[cursor] < end; cursor++)
        {
            int i = positions[cursor];
            long at = store.Times[i];
            if (at < startTicks)
            {
                continue;
            }

            long amount = refund[store.Terms[i]] ? -store.MoneyAmounts[cursor] : store.MoneyAmounts[cursor];
            Record(amount, at - startTicks, depth, group);
        }
    }

    /// <summary>
    /// Adds the orders and refunds among a lead's events merged from base positions and appends (an incremental
    /// store's lead with appended events), from its chain's start on; such leads may come in any order.
    /// </summary>
    /// <param name="times">The merged events' ticks.</param>
    /// <param name="terms">Their term codes.</param>
    /// <param name="sources">Per event, its base position (≥ 0) or the complement of its append index.</param>
    /// <param name="length">The number of merged events.</param>
    /// <param name="depth">The steps its chain reached (at least 1).</param>
    /// <param name="startTicks">When its chain started.</param>
    /// <param name="group">Its breakdown group, or -1.</param>
    /// <param name="money">The terms that can carry an amount, and the amount of each appended event that has one.</param>
    public void AddMerged(long[] times, int[] terms, int[] sources, int length, int depth, long startTicks, int group, AppendedMoney money)
    {
        for (int j = 0; j < length; j++)
        {
            long at = times[j];
            if (!money.Terms[terms[j]] || at < startTicks)
            {
                continue;
            }

            int source = sources[j];
            long amount;
            if (source >= 0)
            {
                int k = Array.BinarySearch(store.MoneyEvents, source);
                if (k < 0)
                {
                    continue;
                }

                amount = store.MoneyAmounts[k];
            }
            else if (!money.Amounts.TryGetValue(~source, out amount))
            {
                continue;
            }

            Record(refund[terms[j]] ? -amount : amount, at - startTicks, depth, group);
        }
    }

    private void Record(long amount, long offset, int depth, int group)
    {
        Revenue[depth] += amount;
        if (group >= 0)
        {
            GroupRevenue[(group * width) + depth] += amount;
        }

        Payments.Add(new Payment(offset, amount, depth, group));
    }

    /// <summary>Creates a tally when the query asks for money.</summary>
    public static FunnelMoneyTally? For(AnalyticsEventStore store, FunnelQuery query, bool[]? refundTerms, int groups, int fromLead) =>
        query.IncludeMoney ? new FunnelMoneyTally(store, refundTerms!, query.Funnel.Steps.Length, groups, fromLead) : null;

    /// <summary>The refund terms a tally needs, or <see langword="null"/> when the query asks for no money.</summary>
    public static bool[]? RefundTerms(AnalyticsEventStore store, FunnelQuery query) =>
        query.IncludeMoney ? store.TermsOfType(EventTypes.RefundIssued) : null;

    /// <summary>Combines the ranges' tallies into the money per step overall and per group.</summary>
    /// <param name="store">The store analysed.</param>
    /// <param name="tallies">One tally per range.</param>
    /// <param name="reached">The leads who reached each step overall.</param>
    /// <param name="groupReached">The leads who reached each step, per group.</param>
    /// <param name="spendByGroup">Whether groups are channels, so spend can be divided among them.</param>
    /// <returns>The money per step overall, and per group.</returns>
    public static (ImmutableArray<FunnelMoney> Overall, ImmutableArray<FunnelMoney>[] Groups) Merge(
        AnalyticsEventStore store, IReadOnlyList<FunnelMoneyTally> tallies, long[] reached, long[][] groupReached, bool spendByGroup)
    {
        int steps = reached.Length;
        int width = steps + 1;
        var revenue = new long[width];
        var groupRevenue = new long[groupReached.Length * width];
        var payments = new List<Payment>();
        foreach (FunnelMoneyTally tally in tallies)
        {
            Add(revenue, tally.Revenue);
            Add(groupRevenue, tally.GroupRevenue);
            payments.AddRange(tally.Payments);
        }

        Payment[] byTime = [.. payments];
        Array.Sort(byTime, static (a, b) => a.Offset.CompareTo(b.Offset));
        ImmutableArray<FunnelMoney> overall = Steps(store.Currency, revenue, 0, reached, byTime, store.SpendAmounts.Sum());

        var groups = new ImmutableArray<FunnelMoney>[groupReached.Length];
        if (groups.Length > 0)
        {
            long[] spend = new long[groups.Length];
            if (spendByGroup)
            {
                for (int s = 0; s < store.SpendAmounts.Length; s++)
                {
                    spend[store.SpendChannels[s]] += store.SpendAmounts[s];
                }
            }

            ILookup<int, Payment> byGroup = byTime.ToLookup(p => p.Group);
            for (int g = 0; g < groups.Length; g++)
            {
                groups[g] = Steps(store.Currency, groupRevenue, g * width, groupReached[g], [.. byGroup[g]], spendByGroup ? spend[g] : null);
            }
        }

        return (overall, groups);
    }

    private static ImmutableArray<FunnelMoney> Steps(Currency currency, long[] revenueByDepth, int offset, long[] reached, Payment[] byTime, long? spend)
    {
        int steps = reached.Length;
        var result = ImmutableArray.CreateBuilder<FunnelMoney>(steps);
        long revenue = 0;
        for (int d = 1; d <= steps; d++)
        {
            revenue += revenueByDepth[offset + d];
        }

        for (int k = 0; k < steps; k++)
        {
            Money? adSpend = spend is long s ? Money.FromMinorUnits(s, currency) : null;
            result.Add(new FunnelMoney
            {
                Revenue = Money.FromMinorUnits(revenue, currency),
                AdSpend = adSpend,
                AcquisitionCost = adSpend is { } a ? Kpi.CustomerAcquisitionCost(a, reached[k]) : null,
                PaybackPeriod = spend is long cost ? PaybackCurve.Find(byTime.Where(p => p.Depth > k).Select(p => (p.Offset, p.Amount)), cost) : null,
            });

            revenue -= revenueByDepth[offset + k + 1];
        }

        return result.MoveToImmutable();
    }

    private static void Add(long[] into, long[] values)
    {
        for (int i = 0; i < into.Length; i++)
        {
            into[i] += values[i];
        }
    }

    private static int LowerBound(int[] sorted, int value)
    {
        int index = Array.BinarySearch(sorted, value);
        if (index < 0)
        {
            return ~index;
        }

        while (index > 0 && sorted[index - 1] == value)
        {
            index--;
        }

        return index;
    }

    /// <summary>What <see cref="AddMerged"/> needs of an incremental store's money.</summary>
    /// <param name="Terms">The terms of orders and refunds, the only events that carry an amount.</param>
    /// <param name="Amounts">The amount of each appended order or refund, by append index.</param>
    internal sealed record AppendedMoney(bool[] Terms, Dictionary<int, long> Amounts);

    /// <summary>A payment counted in the funnel's money.</summary>
    /// <param name="Offset">Ticks since the lead's chain started.</param>
    /// <param name="Amount">Minor units; refunds negative.</param>
    /// <param name="Depth">The lead's depth.</param>
    /// <param name="Group">The lead's group, or -1.</param>
    internal readonly record struct Payment(long Offset, long Amount, int Depth, int Group);
}
