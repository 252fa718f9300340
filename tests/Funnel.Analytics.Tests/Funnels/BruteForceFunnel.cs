namespace Funnel.Analytics.Tests.Funnels;

/// <summary>
/// The reference implementation of the ordered funnel semantics: every start point × every chain of distinct events,
/// written for clarity, not speed. Event types: 0 … n−1 are the steps, n is the exclusion, anything above is unrelated.
/// </summary>
internal static class BruteForceFunnel
{
    public readonly record struct Ev(long Time, int Type);

    /// <summary>Returns the depth, the time of the chosen start, and the earliest end time of a longest chain from it.</summary>
    public static (int Depth, long Start, long End) Evaluate(IReadOnlyList<Ev> events, int n, long window, bool strict, bool exclusions)
    {
        int bestDepth = 0;
        long bestStart = 0;
        long bestEnd = 0;
        for (int s = 0; s < events.Count; s++)
        {
            if (events[s].Type != 0)
            {
                continue;
            }

            var used = new bool[events.Count];
            used[s] = true;
            (int depth, long end) = Extend(events, n, window, strict, exclusions, events[s].Time, events[s].Time, 1, used);
            long start = events[s].Time;

            // Longest chain wins; among equals, the latest start wins (and then the earliest end).
            if (depth > bestDepth || (depth == bestDepth && depth > 0 && (start > bestStart || (start == bestStart && end < bestEnd))))
            {
                (bestDepth, bestStart, bestEnd) = (depth, start, end);
            }
        }

        return (bestDepth, bestStart, bestEnd);
    }

    private static (int Depth, long End) Extend(IReadOnlyList<Ev> events, int n, long window, bool strict, bool exclusions, long t0, long last, int k, bool[] used)
    {
        (int Depth, long End) best = (k, last);
        if (k == n)
        {
            return best;
        }

        for (int j = 0; j < events.Count; j++)
        {
            Ev e = events[j];
            if (used[j] || e.Type != k || e.Time < last || e.Time > t0 + window)
            {
                continue;
            }

            if (exclusions && events.Any(x => x.Type == n && x.Time > t0 && x.Time < e.Time))
            {
                continue;
            }

            if (strict && events.Any(x => x.Type < n && x.Time > last && x.Time < e.Time))
            {
                continue;
            }

            used[j] = true;
            (int Depth, long End) candidate = Extend(events, n, window, strict, exclusions, t0, e.Time, k + 1, used);
            used[j] = false;
            if (candidate.Depth > best.Depth || (candidate.Depth == best.Depth && candidate.End < best.End))
            {
                best = candidate;
            }
        }

        return best;
    }
}
