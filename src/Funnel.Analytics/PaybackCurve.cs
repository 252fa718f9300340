using NodaTime;

namespace Funnel.Analytics;

/// <summary>The payback period of a cohort: when its payments, counted from each member's start, cover its spend.</summary>
internal static class PaybackCurve
{
    /// <summary>Returns the smallest offset <c>t</c> at which the payments with an offset up to <c>t</c> add up to <paramref name="spend"/>.</summary>
    /// <param name="byOffset">The payments (refunds negative), in increasing offset: ticks since each member's start.</param>
    /// <param name="spend">The spend to pay back, in minor units.</param>
    /// <returns>The payback period, or <see langword="null"/> when there is no spend or the payments never reach it.</returns>
    public static Duration? Find(IEnumerable<(long Offset, long Amount)> byOffset, long spend)
    {
        if (spend <= 0)
        {
            return null;
        }

        // All payments at one offset count together, so the answer does not depend on the order of ties.
        long paid = 0;
        long? pending = null;
        foreach ((long offset, long amount) in byOffset)
        {
            if (pending is long previous && offset != previous && paid >= spend)
            {
                return Duration.FromTicks(previous);
            }

            paid += amount;
            pending = offset;
        }

        if (pending is long last && paid >= spend)
        {
            return Duration.FromTicks(last);
        }

        return null;
    }
}
