using System.Collections.Immutable;
using Funnel.Events;
using NodaTime;

namespace Funnel.Analytics;

/// <summary>How revenue is credited to the channels a buyer touched.</summary>
public enum AttributionModel
{
    /// <summary>All credit to the first touch.</summary>
    FirstTouch = 0,

    /// <summary>All credit to the last touch before the order.</summary>
    LastTouch = 1,

    /// <summary>Equal credit to every touch.</summary>
    Linear = 2,

    /// <summary>40 % to the first touch, 40 % to the last, 20 % spread evenly over the touches between (U-shaped).</summary>
    PositionBased = 3,
}

/// <summary>The revenue, order credit and ad spend of one channel under an attribution model.</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Revenue">The revenue credited, exact to the minor unit.</param>
/// <param name="Orders">The share of orders credited (fractional under linear and position-based models).</param>
/// <param name="AdSpend">The ad spend recorded for the channel.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ChannelAttribution(string Channel, Money Revenue, decimal Orders, Money AdSpend)
{
    /// <summary>Gets the credited revenue ÷ the channel's ad spend; not defined without spend.</summary>
    public Ratio ReturnOnAdSpend => Ratio.Of(Revenue, AdSpend);
}

/// <summary>Revenue attributed across channels.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record AttributionReport
{
    /// <summary>Gets the model used.</summary>
    public required AttributionModel Model { get; init; }

    /// <summary>Gets all order revenue in the store.</summary>
    public required Money Revenue { get; init; }

    /// <summary>Gets the revenue of orders with no touch that carries a channel.</summary>
    public required Money Unattributed { get; init; }

    /// <summary>Gets the channels, by credited revenue, largest first; channels with spend but no revenue are included.</summary>
    public required ImmutableArray<ChannelAttribution> Channels { get; init; }
}

/// <summary>Attributes order revenue to channels with first-touch, last-touch, linear or position-based models.</summary>
/// <remarks>
/// <para>
/// A touch is a lead event with a channel (<see cref="Attribution.Channel"/>) at or before the order, and, when a
/// lookback is given, not more than the lookback before it. Consecutive touches from the same channel count as one,
/// so twenty nurture emails do not outweigh the ad that brought the lead. Each order's total is split exactly
/// with <see cref="Money.Allocate(IReadOnlyList{long})"/>, so channel revenues add up to the attributed revenue.
/// Position-based with one touch gives it everything, with two touches 50/50.
/// </para>
/// </remarks>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class RevenueAttribution
{
    /// <summary>Gets the longest lookback accepted: 10,000 years, past which the tick arithmetic of the store would overflow.</summary>
    public static Duration MaxLookback { get; } = Duration.FromDays(3_652_425);

    /// <summary>Attributes the revenue of every order in the store.</summary>
    /// <param name="store">The events.</param>
    /// <param name="model">The attribution model.</param>
    /// <param name="lookback">How far before an order touches count; <see langword="null"/> for no limit.</param>
    /// <returns>The revenue per channel, with ROAS from recorded ad spend.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="store"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="model"/> is not defined, or <paramref name="lookback"/> is negative or longer than <see cref="MaxLookback"/>.</exception>
    public static AttributionReport Attribute(AnalyticsEventStore store, AttributionModel model, Duration? lookback = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (model is < AttributionModel.FirstTouch or > AttributionModel.PositionBased)
        {
            throw new ArgumentOutOfRangeException(nameof(model), model, "Unknown attribution model.");
        }

        if (lookback < Duration.Zero || lookback > MaxLookback)
        {
            throw new ArgumentOutOfRangeException(nameof(lookback), lookback, $"The lookback must be between zero and {MaxLookback.Days} days (10,000 years); pass null for no limit.");
        }

        Currency currency = store.Currency;
        bool[] isOrder = store.TermsOfType(EventTypes.OrderPlaced);
        int[] channels = store.Dimensions[AnalyticsEventStore.ChannelDimension];
        string?[] names = store.DimensionValues[AnalyticsEventStore.ChannelDimension];
        var revenue = new long[names.Length];
        var orders = new decimal[names.Length];
        long total = 0;
        long unattributed = 0;
        var touches = new List<int>();
        int[] moneyEvents = store.MoneyEvents;
        for (int m = 0; m < moneyEvents.Length; m++)
        {
            int orderIndex = moneyEvents[m];
            if (!isOrder[store.Terms[orderIndex]])
            {
                continue;
            }

            long amount = store.MoneyAmounts[m];
            total += amount;
            int lead = LeadOf(store.Offsets, orderIndex);
            long orderTime = store.Times[orderIndex];
            long earliest = lookback is null ? long.MinValue : orderTime - lookback.Value.BclCompatibleTicks;
            touches.Clear();
            for (int i = store.Offsets[lead]; i < store.Offsets[lead + 1] && store.Times[i] <= orderTime; i++)
            {
                int channel = channels[i];
                if (channel != 0 && store.Times[i] >= earliest && (touches.Count == 0 || touches[^1] != channel))
                {
                    touches.Add(channel);
                }
            }

            if (touches.Count == 0)
            {
                unattributed += amount;
                continue;
            }

            long[] weights = Weights(model, touches.Count);
            ImmutableArray<Money> parts = Money.FromMinorUnits(amount, currency).Allocate(weights);
            long weightSum = weights.Sum();
            for (int t = 0; t < touches.Count; t++)
            {
                revenue[touches[t]] += parts[t].MinorUnits;
                orders[touches[t]] += (decimal)weights[t] / weightSum;
            }
        }

        var spend = new long[names.Length];
        for (int s = 0; s < store.SpendAmounts.Length; s++)
        {
            spend[store.SpendChannels[s]] += store.SpendAmounts[s];
        }

        var rows = new List<ChannelAttribution>();
        for (int c = 1; c < names.Length; c++)
        {
            if (revenue[c] != 0 || spend[c] != 0 || orders[c] != 0)
            {
                rows.Add(new ChannelAttribution(names[c]!, Money.FromMinorUnits(revenue[c], currency), orders[c], Money.FromMinorUnits(spend[c], currency)));
            }
        }

        return new AttributionReport
        {
            Model = model,
            Revenue = Money.FromMinorUnits(total, currency),
            Unattributed = Money.FromMinorUnits(unattributed, currency),
            Channels = [.. rows.OrderByDescending(r => r.Revenue.MinorUnits).ThenBy(r => r.Channel, StringComparer.Ordinal)],
        };
    }

    internal static long[] Weights(AttributionModel model, int count)
    {
        var weights = new long[count];
        switch (model)
        {
            case AttributionModel.FirstTouch:
                weights[0] = 1;
                break;
            case AttributionModel.LastTouch:
                weights[^1] = 1;
                break;
            case AttributionModel.Linear:
                Array.Fill(weights, 1);
                break;
            default:
                if (count <= 2)
                {
                    Array.Fill(weights, 1);
                }
                else
                {
                    // 40 % each to the ends, 20 % shared by the count − 2 middle touches: in units of 1 / (100 (count − 2)).
                    Array.Fill(weights, 20);
                    weights[0] = 40L * (count - 2);
                    weights[^1] = 40L * (count - 2);
                }

                break;
        }

        return weights;
    }

    private static int LeadOf(int[] offsets, int eventIndex)
    {
        int i = Array.BinarySearch(offsets, eventIndex);
        if (i < 0)
        {
            return ~i - 1;
        }

        // Skip leads without events that share the offset.
        while (i + 1 < offsets.Length && offsets[i + 1] == eventIndex)
        {
            i++;
        }

        return i;
    }
}
