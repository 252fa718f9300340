using System.Collections.Immutable;
using System.Globalization;
using FluentValidation;
using Funnel.Events;
using NodaTime;

namespace Funnel.Analytics;

/// <summary>Runs ordered funnel analyses over an <see cref="AnalyticsEventStore"/>.</summary>
/// <remarks>
/// The analysis is a tight loop over the store's arrays: no allocation per lead, and leads are split into ranges
/// analysed in parallel (see <see cref="FunnelQuery.MaxDegreeOfParallelism"/>). The semantics are those of
/// <see cref="FunnelQuery"/>.
/// </remarks>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static partial class FunnelAnalyzer
{
    private const ulong ExclusionBit = 1UL << 32;
    private const ulong StepBits = 0xFFFF_FFFFUL;

    /// <summary>The deadline of no chain in <see cref="SweepUpToFourSteps"/>: −2⁶², below every instant's ticks.</summary>
    private const long NoChain = -(1L << 62);
    private static readonly FunnelQueryValidator Validator = new();

    /// <summary>Analyses an ordered funnel.</summary>
    /// <param name="store">The events.</param>
    /// <param name="query">The question.</param>
    /// <param name="cancellationToken">Stops the analysis between lead ranges.</param>
    /// <returns>The counts per step, and the breakdown, times to convert and drop-offs when asked for.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The query is invalid; the message names the property.</exception>
    /// <exception cref="ArgumentException">The breakdown names a property the store did not capture.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static FunnelAnalysis Analyze(AnalyticsEventStore store, FunnelQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(query);
        Validator.ValidateAndThrow(query);

        int n = query.Funnel.Steps.Length;
        ulong[] termMask = BuildMasks(store, query);
        long window = query.Window.BclCompatibleTicks;
        var groups = Grouping.Create(store, query.Breakdown);
        int leadCount = store.LeadCount;
        int threads = query.MaxDegreeOfParallelism ?? Environment.ProcessorCount;
        int chunkCount = leadCount == 0 ? 0 : Math.Min(leadCount, Math.Max(1, threads * 8));
        var chunks = new ChunkResult[chunkCount];
        var context = new Context(store, termMask, n, window, ChooseEngine(query, termMask), !query.Exclusions.IsDefaultOrEmpty, groups, query.IncludeTimeToConvert, query.IncludeDropOffs, query, FunnelMoneyTally.RefundTerms(store, query));
        if (CountsOnly(context) && System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            context = context with { VectorSelects = VectorSelects(termMask) };
        }

        void Run(int c)
        {
            int from = (int)((long)leadCount * c / chunkCount);
            int to = (int)((long)leadCount * (c + 1) / chunkCount);
            chunks[c] = AnalyzeRange(context, from, to);
        }

        RunChunks(chunkCount, threads, Run, cancellationToken);

        return Merge(query, chunks, new MergeSource(store.LeadCount, store.EventCount, store.LeadAt, groups.Count, groups.Name, store));
    }

    /// <summary>Runs the lead ranges, in parallel unless one thread or one range; cancellation is checked between ranges.</summary>
    private static void RunChunks(int chunkCount, int threads, Action<int> run, CancellationToken cancellationToken)
    {
        if (threads <= 1 || chunkCount <= 1)
        {
            for (int c = 0; c < chunkCount; c++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                run(c);
            }
        }
        else
        {
            Parallel.For(0, chunkCount, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken }, run);
        }
    }

    /// <summary>How a lead is evaluated: all three give the same answers where they apply (the tests check each against a brute force).</summary>
    internal enum Engine
    {
        /// <summary>One forward pass; needs non-strict order and no event matching two steps.</summary>
        Sweep,

        /// <summary>A greedy chain from every start.</summary>
        Scan,

        /// <summary>An exhaustive search from every start, for strict order.</summary>
        Strict,
    }

    internal static Engine ChooseEngine(FunnelQuery query, ulong[] termMask)
    {
        if (query.StrictOrder)
        {
            return Engine.Strict;
        }

        foreach (ulong m in termMask)
        {
            if (System.Numerics.BitOperations.PopCount(m & StepBits) > 1)
            {
                return Engine.Scan;
            }
        }

        return Engine.Sweep;
    }

    /// <summary>Evaluates every lead on its own: depth, and the ticks of its chain's first and last events (for tests).</summary>
    internal static (int Depth, long StartTicks, long EndTicks)[] EvaluateLeads(AnalyticsEventStore store, FunnelQuery query, Engine? engine = null)
    {
        Validator.ValidateAndThrow(query);
        int n = query.Funnel.Steps.Length;
        ulong[] termMask = BuildMasks(store, query);
        var result = new (int, long, long)[store.LeadCount];
        var picks = new int[n];
        var scratch = new int[n];
        var state = new long[n + 2];
        for (int lead = 0; lead < store.LeadCount; lead++)
        {
            int depth = EvaluateLead(store.Times, store.Terms, termMask, store.Offsets[lead], store.Offsets[lead + 1], n, query.Window.BclCompatibleTicks, engine ?? ChooseEngine(query, termMask), !query.Exclusions.IsDefaultOrEmpty, needPicks: true, picks, scratch, state);
            result[lead] = depth == 0 ? (0, 0, 0) : (depth, store.Times[picks[0]], store.Times[picks[depth - 1]]);
        }

        return result;
    }

    private static ulong[] BuildMasks(AnalyticsEventStore store, FunnelQuery query)
    {
        var masks = new ulong[store.TermTypes.Length];
        for (int k = 0; k < query.Funnel.Steps.Length; k++)
        {
            bool[] matches = store.TermsMatching(query.Funnel.Steps[k].Trigger);
            for (int t = 0; t < masks.Length; t++)
            {
                if (matches[t])
                {
                    masks[t] |= 1UL << k;
                }
            }
        }

        if (!query.Exclusions.IsDefaultOrEmpty)
        {
            foreach (Funnel.Definitions.EventMatch exclusion in query.Exclusions)
            {
                bool[] matches = store.TermsMatching(exclusion);
                for (int t = 0; t < masks.Length; t++)
                {
                    if (matches[t])
                    {
                        masks[t] |= ExclusionBit;
                    }
                }
            }
        }

        return masks;
    }

    private static ChunkResult AnalyzeRange(Context ctx, int fromLead, int toLead)
    {
        int n = ctx.Steps;
        var result = new ChunkResult(n, ctx.Groups.Count, ctx.TimeToConvert, ctx.DropOffs)
        {
            Money = FunnelMoneyTally.For(ctx.Store, ctx.Query, ctx.RefundTerms, ctx.Groups.Count, fromLead),
        };
        Span<int> picks = stackalloc int[n];
        Span<int> scratch = stackalloc int[n];
        Span<long> state = stackalloc long[n + 2];
        if (CountsOnly(ctx))
        {
            CountRange(ctx, fromLead, toLead, result.Histogram, state);
            return result;
        }

        long[] times = ctx.Store.Times;
        int[] terms = ctx.Store.Terms;
        int[] offsets = ctx.Store.Offsets;
        long[] histogram = result.Histogram;
        for (int lead = fromLead; lead < toLead; lead = unchecked(lead + 1))
        {
            int b = offsets[lead];
            int e = offsets[lead + 1];
            int depth = EvaluateLead(times, terms, ctx.TermMask, b, e, n, ctx.Window, ctx.Engine, ctx.HasExclusions, ctx.NeedPicks, picks, scratch, state);
            unchecked
            {
                histogram[depth]++;
            }

            if (depth == 0)
            {
                continue;
            }

            int g = -1;
            if (ctx.Groups.Count > 0)
            {
                g = ctx.Groups.GroupOf(lead, b, e, picks[0]);
                result.GroupHistogram[(g * (n + 1)) + depth]++;
            }

            result.Money?.Add(b, e, depth, times[picks[0]], g);

            result.AddChain(times, picks, depth, n, lead);
        }

        return result;
    }

    /// <summary>Returns the depth of the lead's best chain and, when asked, fills <paramref name="picks"/> with its events.</summary>
    internal static int EvaluateLead(long[] times, int[] terms, ulong[] termMask, int b, int e, int n, long window, Engine engine, bool hasExclusions, bool needPicks, Span<int> picks, Span<int> scratch, Span<long> state)
    {
        if (engine == Engine.Sweep)
        {
            int depth;
            long start;
            if (hasExclusions)
            {
                depth = Sweep(times, terms, termMask, b, e, n, window, hasExclusions, state, out start);
            }
            else
            {
                StepCodeTable codes = StepCodes(termMask);
                depth = -1;
                start = 0;
                if (n <= 4)
                {
                    depth = SweepUpToFourSteps(times, terms, codes.Selects, b, e, window, out start);
                }

                if (depth < 0)
                {
                    depth = SweepWithoutExclusions(times, terms, codes.Codes, b, e, n, window, state, out start);
                }
            }

            if (depth > 0 && needPicks)
            {
                // The latest step-0 event at the winning start instant, then the greedy chain from it.
                int s = e - 1;
                while (times[s] != start || (termMask[terms[s]] & 1UL) == 0)
                {
                    s--;
                }

                Chain(times, terms, termMask, b, s, e, n, window, hasExclusions, picks);
            }

            return depth;
        }

        int best = 0;
        for (int s = e - 1; s >= b; s--)
        {
            if ((termMask[terms[s]] & 1UL) == 0)
            {
                continue;
            }

            int depth = engine == Engine.Strict
                ? StrictChain(times, terms, termMask, b, s, e, n, window, hasExclusions, scratch)
                : Chain(times, terms, termMask, b, s, e, n, window, hasExclusions, scratch);
            if (depth > best)
            {
                best = depth;
                scratch[..depth].CopyTo(picks);
                if (best == n)
                {
                    break;
                }
            }
        }

        return best;
    }

    /// <summary>
    /// One forward pass over the lead's events, keeping per step the latest start whose chain has reached it (a later
    /// start leaves more of the window, so it dominates). Events at one instant are applied in step order, exclusions
    /// last. Exact when no event matches two steps and order is not strict; then it is O(events) per lead.
    /// </summary>
    private static int Sweep(long[] times, int[] terms, ulong[] termMask, int b, int e, int n, long window, bool hasExclusions, Span<long> scratchState, out long bestStart)
    {
        unchecked
        {
            ReadOnlySpan<long> t = times.AsSpan(b, e - b);
            ReadOnlySpan<int> term = terms.AsSpan(b, e - b);
            Span<long> state = scratchState[..n];
            state.Fill(long.MinValue);
            int bestDepth = 0;
            bestStart = 0;
            int i = 0;
            int length = t.Length;
            while (i < length)
            {
                long now = t[i];
                ulong m = termMask[term[i]];
                if (i + 1 < length && t[i + 1] == now)
                {
                    // A group of events at one instant: apply them in step order.
                    int end = i + 1;
                    ulong all = m;
                    while (end < length && t[end] == now)
                    {
                        all |= termMask[term[end]];
                        end++;
                    }

                    for (int k = 0; k < n; k++)
                    {
                        ulong bit = 1UL << k;
                        if ((all & bit) == 0)
                        {
                            continue;
                        }

                        for (int j = i; j < end; j++)
                        {
                            if ((termMask[term[j]] & bit) != 0)
                            {
                                Step(state, k, now, window, ref bestDepth, ref bestStart);
                            }
                        }
                    }

                    if (hasExclusions && (all & ExclusionBit) != 0)
                    {
                        Exclude(state, now);
                    }

                    i = end;
                    continue;
                }

                ulong steps = m & StepBits;
                if (steps != 0)
                {
                    Step(state, System.Numerics.BitOperations.TrailingZeroCount(steps), now, window, ref bestDepth, ref bestStart);
                }

                if (hasExclusions && (m & ExclusionBit) != 0)
                {
                    Exclude(state, now);
                }

                i++;
            }

            return bestDepth;
        }
    }

    /// <summary>Per term, the only step it matches, as a code and as selects; cached per mask array.</summary>
    private static StepCodeTable StepCodes(ulong[] termMask)
    {
        if (LastCodes is { } cached && ReferenceEquals(cached.Mask, termMask))
        {
            return cached;
        }

        var codes = new byte[termMask.Length];
        var selects = new StepSelects[termMask.Length];
        for (int t = 0; t < termMask.Length; t++)
        {
            ulong steps = termMask[t] & StepBits;
            codes[t] = steps == 0 ? (byte)0 : (byte)(System.Numerics.BitOperations.TrailingZeroCount(steps) + 1);
            byte c = codes[t];
            selects[t] = new StepSelects(Select(c == 1), Select(c == 2), Select(c == 3), Select(c == 4));
        }

        LastCodes = new StepCodeTable(termMask, codes, selects);
        return LastCodes;

        static long Select(bool matches) => matches ? -1L : 0L;
    }

    /// <summary>
    /// <see cref="SweepWithoutExclusions"/> for at most four steps, without a branch per event: the state lives in four
    /// locals and every event updates each of them through an all-ones or all-zero mask, since the step an event
    /// matches is as good as random and a mispredicted branch costs more than the whole update. Returns −1 when two
    /// events share an instant, which this order of application cannot handle; the caller then sweeps the general way.
    /// </summary>
    /// <remarks>
    /// <c>d<sub>k</sub></c> is the deadline of the latest start whose chain has reached step <c>k</c>: that start plus
    /// the window plus one tick, so an event at <c>now</c> may extend the chain when <c>now − d<sub>k</sub></c> is
    /// negative. No chain is <see cref="NoChain"/>, below every <see cref="Instant"/>'s ticks (±3.8 × 10¹⁸), so that
    /// test fails for it; with the window at most <see cref="FunnelQueryValidator.MaxWindow"/> no difference overflows.
    /// </remarks>
    private static int SweepUpToFourSteps(long[] times, int[] terms, StepSelects[] selects, int b, int e, long window, out long bestStart)
    {
        unchecked
        {
            ReadOnlySpan<long> t = times.AsSpan(b, e - b);
            ReadOnlySpan<int> term = terms.AsSpan(b, t.Length);
            long w1 = window + 1;
            long d1 = NoChain;
            long d2 = NoChain;
            long d3 = NoChain;
            long d4 = NoChain;

            // Times are in order, so now − previous − 1 (now + ~previous) is negative only for a tie.
            long notPrevious = t.IsEmpty ? 0 : ~(t[0] - 1);
            long ties = 0;
            for (int i = 0; i < t.Length; i++)
            {
                long now = t[i];
                ties |= now + notPrevious;
                notPrevious = ~now;
                StepSelects step = selects[term[i]];
                long to4 = step.Fourth & ((now - d3) >> 63);
                long to3 = step.Third & ((now - d2) >> 63);
                long to2 = step.Second & ((now - d1) >> 63);
                d4 += (d3 - d4) & to4;
                d3 += (d2 - d3) & to3;
                d2 += (d1 - d2) & to2;
                d1 += (now + w1 - d1) & step.First;
            }

            if (ties < 0)
            {
                bestStart = 0;
                return -1;
            }

            // A step is reached only after the one before it, so the set slots are a prefix.
            int depth = (d1 != NoChain ? 1 : 0) + (d2 != NoChain ? 1 : 0)
                + (d3 != NoChain ? 1 : 0) + (d4 != NoChain ? 1 : 0);
            long deepest = d1;
            deepest = d2 != NoChain ? d2 : deepest;
            deepest = d3 != NoChain ? d3 : deepest;
            deepest = d4 != NoChain ? d4 : deepest;
            bestStart = depth == 0 ? 0 : deepest - w1;
            return depth;
        }
    }

    /// <summary>
    /// The sweep without exclusions, with few branches: <c>state[c + 1]</c> holds the latest start whose chain reached
    /// step <c>c − 1</c>; slot 1 absorbs the writes of events that match no step. Starts only move later, so at the
    /// end the deepest set slot gives the depth and its value the latest start that reached it.
    /// </summary>
    private static int SweepWithoutExclusions(long[] times, int[] terms, byte[] codes, int b, int e, int n, long window, Span<long> scratchState, out long bestStart)
    {
        unchecked
        {
            ReadOnlySpan<long> t = times.AsSpan(b, e - b);
            ReadOnlySpan<int> term = terms.AsSpan(b, e - b);
            Span<long> st = scratchState[..(n + 2)];
            st.Fill(long.MinValue);
            int length = t.Length;
            int i = 0;
            while (i < length)
            {
                long now = t[i];
                if (i + 1 < length && t[i + 1] == now)
                {
                    // A group of events at one instant: apply them in step order.
                    int end = i + 1;
                    while (end < length && t[end] == now)
                    {
                        end++;
                    }

                    for (int c = 1; c <= n; c++)
                    {
                        for (int j = i; j < end; j++)
                        {
                            if (codes[term[j]] == c)
                            {
                                long from = c == 1 ? now : st[c];
                                if (from != long.MinValue && now - from <= window)
                                {
                                    st[c + 1] = from;
                                }
                            }
                        }
                    }

                    i = end;
                    continue;
                }

                int code = codes[term[i]];
                long candidate = code == 1 ? now : st[code];
                bool valid = code != 0 & candidate != long.MinValue & now - candidate <= window;
                st[code + 1] = valid ? candidate : st[code + 1];
                i++;
            }

            int depth = n;
            while (depth > 0 && st[depth + 1] == long.MinValue)
            {
                depth--;
            }

            bestStart = depth == 0 ? 0 : st[depth + 1];
            return depth;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Step(Span<long> state, int k, long t, long window, ref int bestDepth, ref long bestStart)
    {
        unchecked
        {
            long start;
            if (k == 0)
            {
                start = t;
            }
            else
            {
                start = state[k - 1];
                if (start == long.MinValue || t - start > window)
                {
                    return;
                }
            }

            state[k] = start;
            if (k + 1 > bestDepth || (k + 1 == bestDepth && start > bestStart))
            {
                bestDepth = k + 1;
                bestStart = start;
            }
        }
    }

    private static void Exclude(Span<long> state, long t)
    {
        for (int k = 0; k < state.Length; k++)
        {
            if (state[k] < t)
            {
                state[k] = long.MinValue;
            }
        }
    }

    /// <summary>The greedy chain from a start: each step takes the earliest matching event, which is optimal without strict order.</summary>
    private static int Chain(long[] times, int[] terms, ulong[] termMask, int b, int s, int e, int n, long window, bool hasExclusions, Span<int> chain)
    {
        long t0 = times[s];
        long limit = unchecked(t0 > long.MaxValue - window ? long.MaxValue : t0 + window);
        chain[0] = s;
        int k = 1;
        int cur = s;
        long tcur = t0;
        while (k < n)
        {
            int g = cur;
            while (g > b && times[g - 1] == tcur)
            {
                g--;
            }

            long stepLimit = limit;
            ulong bit = 1UL << k;
            int found = -1;
            for (int j = g; j < e; j++)
            {
                long tj = times[j];
                if (tj > stepLimit)
                {
                    break;
                }

                ulong m = termMask[terms[j]];
                if (m == 0 || (tj == tcur && IsPicked(chain, k, j)))
                {
                    continue;
                }

                if ((m & bit) != 0)
                {
                    found = j;
                    break;
                }

                if (hasExclusions && (m & ExclusionBit) != 0 && tj > t0)
                {
                    limit = Math.Min(limit, tj);
                    stepLimit = Math.Min(stepLimit, tj);
                }

            }

            if (found < 0)
            {
                break;
            }

            chain[k++] = found;
            cur = found;
            tcur = times[found];
        }

        return k;
    }

    /// <summary>
    /// The best chain from a start under strict order. Greedy is not optimal here (taking a later event of a step can
    /// keep it from standing between two steps), so this searches every candidate a step can take before the next
    /// other funnel event, keeping the longest chain and, among those, the earliest end.
    /// </summary>
    private static int StrictChain(long[] times, int[] terms, ulong[] termMask, int b, int s, int e, int n, long window, bool hasExclusions, Span<int> best)
    {
        long t0 = times[s];
        long limit = unchecked(t0 > long.MaxValue - window ? long.MaxValue : t0 + window);
        Span<int> chain = stackalloc int[n];
        chain[0] = s;
        int bestDepth = 0;
        long bestEnd = long.MaxValue;
        StrictExtend(times, terms, termMask, b, e, n, t0, limit, hasExclusions, chain, 1, best, ref bestDepth, ref bestEnd);
        return bestDepth;
    }

    private static void StrictExtend(long[] times, int[] terms, ulong[] termMask, int b, int e, int n, long t0, long limit, bool hasExclusions, Span<int> chain, int k, Span<int> best, ref int bestDepth, ref long bestEnd)
    {
        int cur = chain[k - 1];
        long tcur = times[cur];
        if (k > bestDepth || (k == bestDepth && tcur < bestEnd))
        {
            bestDepth = k;
            bestEnd = tcur;
            chain[..k].CopyTo(best);
        }

        if (k == n)
        {
            return;
        }

        int g = cur;
        while (g > b && times[g - 1] == tcur)
        {
            g--;
        }

        long stepLimit = limit;
        ulong bit = 1UL << k;
        for (int j = g; j < e; j++)
        {
            long tj = times[j];
            if (tj > stepLimit)
            {
                break;
            }

            ulong m = termMask[terms[j]];
            if (m == 0 || (tj == tcur && IsPicked(chain, k, j)))
            {
                continue;
            }

            if ((m & bit) != 0)
            {
                chain[k] = j;
                StrictExtend(times, terms, termMask, b, e, n, t0, limit, hasExclusions, chain, k + 1, best, ref bestDepth, ref bestEnd);
            }
            else if (hasExclusions && (m & ExclusionBit) != 0 && tj > t0)
            {
                limit = Math.Min(limit, tj);
                stepLimit = Math.Min(stepLimit, tj);
            }

            // Any funnel event after the current one, taken or not, stands between it and anything later.
            if ((m & StepBits) != 0 && tj > tcur)
            {
                stepLimit = Math.Min(stepLimit, tj);
            }
        }
    }

    private static bool IsPicked(Span<int> chain, int count, int index)
    {
        for (int i = 0; i < count; i++)
        {
            if (chain[i] == index)
            {
                return true;
            }
        }

        return false;
    }

    private static FunnelAnalysis Merge(FunnelQuery query, ChunkResult[] chunks, MergeSource source)
    {
        int n = query.Funnel.Steps.Length;
        var histogram = new long[n + 1];
        var groupHistogram = new long[source.GroupCount * (n + 1)];
        foreach (ChunkResult c in chunks)
        {
            for (int d = 0; d <= n; d++)
            {
                histogram[d] += c.Histogram[d];
            }

            for (int i = 0; i < groupHistogram.Length; i++)
            {
                groupHistogram[i] += c.GroupHistogram[i];
            }
        }

        long[] reached = Cumulate(histogram, 0, n);
        long[][] groupReached = [.. Enumerable.Range(0, source.GroupCount).Select(g => Cumulate(groupHistogram, g * (n + 1), n))];
        (ImmutableArray<FunnelMoney> Overall, ImmutableArray<FunnelMoney>[] Groups)? money = query.IncludeMoney
            ? FunnelMoneyTally.Merge(source.MoneyStore!, [.. chunks.Select(c => c.Money!)], reached, groupReached, query.Breakdown?.Kind == FunnelBreakdownKind.Channel)
            : null;
        var steps = ImmutableArray.CreateBuilder<FunnelStepAnalysis>(n);
        for (int k = 0; k < n; k++)
        {
            Duration? median = null;
            Duration? p90 = null;
            if (query.IncludeTimeToConvert && k > 0)
            {
                long[] all = [.. chunks.SelectMany(c => c.TimeToConvert![k])];
                if (all.Length > 0)
                {
                    Array.Sort(all);
                    median = Duration.FromTicks(NearestRank(all, 0.5));
                    p90 = Duration.FromTicks(NearestRank(all, 0.9));
                }
            }

            ImmutableArray<LeadId> dropped = query.IncludeDropOffs && k < n - 1
                ? [.. chunks.SelectMany(c => c.DropOffs![k]).Select(source.LeadAt)]
                : [];
            steps.Add(new FunnelStepAnalysis
            {
                Step = query.Funnel.Steps[k],
                Reached = reached[k],
                FromPrevious = k == 0 ? Ratio.Of(reached[0], reached[0]) : Ratio.Of(reached[k], reached[k - 1]),
                FromStart = Ratio.Of(reached[k], reached[0]),
                MedianTimeToConvert = median,
                P90TimeToConvert = p90,
                DroppedOff = dropped,
                Money = money?.Overall[k],
            });
        }

        var rows = new List<FunnelBreakdownRow>();
        for (int g = 0; g < source.GroupCount; g++)
        {
            if (groupReached[g][0] > 0)
            {
                rows.Add(new FunnelBreakdownRow(source.GroupName(g), [.. groupReached[g]]) { Money = money?.Groups[g] ?? [] });
            }
        }

        return new FunnelAnalysis
        {
            Funnel = query.Funnel,
            Window = query.Window,
            Leads = source.Leads,
            Events = source.Events,
            Steps = steps.MoveToImmutable(),
            Breakdown = [.. rows.OrderByDescending(r => r.Reached[0]).ThenBy(r => r.Value, StringComparer.Ordinal)],
        };
    }

    private static long[] Cumulate(long[] histogram, int offset, int n)
    {
        var reached = new long[n];
        long running = 0;
        for (int d = n; d >= 1; d--)
        {
            running += histogram[offset + d];
            reached[d - 1] = running;
        }

        return reached;
    }

    private static long NearestRank(long[] sorted, double quantile)
    {
        int rank = (int)Math.Ceiling(quantile * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    [ThreadStatic]
    private static StepCodeTable? LastCodes;

    /// <summary>Per term: <see cref="Codes"/> is 1 + the index of the only step it matches, or 0.</summary>
    private sealed record StepCodeTable(ulong[] Mask, byte[] Codes, StepSelects[] Selects);

    /// <summary>Per step, all ones when the term matches it, else zero.</summary>
    private readonly record struct StepSelects(long First, long Second, long Third, long Fourth);

    /// <summary>What <see cref="Merge"/> needs of the store analysed.</summary>
    /// <param name="Leads">The leads in the store.</param>
    /// <param name="Events">The events in the store.</param>
    /// <param name="LeadAt">The lead at an index, for drop-offs.</param>
    /// <param name="GroupCount">The breakdown's groups.</param>
    /// <param name="GroupName">A group's value.</param>
    /// <param name="MoneyStore">The store whose money the chunks tallied, when the query asks for money.</param>
    private sealed record MergeSource(long Leads, long Events, Func<int, LeadId> LeadAt, int GroupCount, Func<int, string?> GroupName, AnalyticsEventStore? MoneyStore);

    private sealed record Context(AnalyticsEventStore Store, ulong[] TermMask, int Steps, long Window, Engine Engine, bool HasExclusions, Grouping Groups, bool TimeToConvert, bool DropOffs, FunnelQuery Query, bool[]? RefundTerms)
    {
        public bool NeedPicks => TimeToConvert || Groups.Count > 0 || Query.IncludeMoney;

        /// <summary>Gets the per-term step selects of the AVX2 counting kernel, when it runs.</summary>
        public System.Runtime.Intrinsics.Vector256<long>[]? VectorSelects { get; init; }
    }

    private sealed class ChunkResult
    {
        public ChunkResult(int steps, int groups, bool timeToConvert, bool dropOffs)
        {
            Histogram = new long[steps + 1];
            GroupHistogram = new long[groups * (steps + 1)];
            if (timeToConvert)
            {
                TimeToConvert = [.. Enumerable.Range(0, steps).Select(_ => new List<long>())];
            }

            if (dropOffs)
            {
                DropOffs = [.. Enumerable.Range(0, steps).Select(_ => new List<int>())];
            }
        }

        public long[] Histogram { get; }

        public long[] GroupHistogram { get; }

        public List<long>[]? TimeToConvert { get; }

        public List<int>[]? DropOffs { get; }

        public FunnelMoneyTally? Money { get; init; }

        /// <summary>Adds a chain's times to convert and, when it stopped before the last step, its lead to the drop-offs.</summary>
        public void AddChain(long[] times, ReadOnlySpan<int> picks, int depth, int steps, int lead)
        {
            if (TimeToConvert is not null)
            {
                long start = times[picks[0]];
                for (int k = 1; k < depth; k++)
                {
                    TimeToConvert[k].Add(times[picks[k]] - start);
                }
            }

            if (DropOffs is not null && depth < steps)
            {
                DropOffs[depth - 1].Add(lead);
            }
        }
    }

    /// <summary>The code of the week (starting Monday in <paramref name="zone"/>) of an instant, numbering weeks as they are first seen.</summary>
    private static int WeekCode(long ticks, DateTimeZone zone, Dictionary<LocalDate, int> weeks, List<string?> names)
    {
        LocalDate date = Instant.FromUnixTimeTicks(ticks).InZone(zone).Date;
        LocalDate monday = date.PlusDays(-((int)date.DayOfWeek - 1));
        if (!weeks.TryGetValue(monday, out int code))
        {
            code = names.Count;
            weeks.Add(monday, code);
            names.Add(monday.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        }

        return code;
    }

    /// <summary>Maps a lead (and its chain's first event) to a breakdown group.</summary>
    private sealed class Grouping
    {
        private readonly int[]? eventCodes;
        private readonly int[]? leadCodes;
        private readonly string?[] names;

        private Grouping(int[]? eventCodes, int[]? leadCodes, string?[] names)
        {
            this.eventCodes = eventCodes;
            this.leadCodes = leadCodes;
            this.names = names;
        }

        public int Count => names.Length;

        public static Grouping Create(AnalyticsEventStore store, FunnelBreakdown? breakdown)
        {
            if (breakdown is null)
            {
                return new Grouping(null, null, []);
            }

            switch (breakdown.Kind)
            {
                case FunnelBreakdownKind.Channel:
                    return new Grouping(store.Dimensions[AnalyticsEventStore.ChannelDimension], null, store.DimensionValues[AnalyticsEventStore.ChannelDimension]);
                case FunnelBreakdownKind.Campaign:
                    return new Grouping(store.Dimensions[AnalyticsEventStore.CampaignDimension], null, store.DimensionValues[AnalyticsEventStore.CampaignDimension]);
                case FunnelBreakdownKind.Property:
                    int d = store.PropertyDimension(breakdown.Key!);
                    if (d < 0)
                    {
                        throw new ArgumentException($"Breakdown property '{breakdown.Key}' was not captured by the store; add it to AnalyticsStoreOptions.PropertyKeys.", nameof(breakdown));
                    }

                    return new Grouping(store.Dimensions[d], null, store.DimensionValues[d]);
                case FunnelBreakdownKind.Variant:
                    return ByVariant(store, breakdown.Key!);
                default:
                    return ByFirstTouchWeek(store, breakdown.Zone ?? DateTimeZone.Utc);
            }
        }

        public int GroupOf(int lead, int begin, int end, int startEvent) => eventCodes is not null ? eventCodes[startEvent] : leadCodes![lead];

        public string? Name(int group) => names[group];

        private static Grouping ByVariant(AnalyticsEventStore store, string experiment)
        {
            bool[] exposure = store.TermsMatching(new Funnel.Definitions.EventMatch(EventTypes.ExperimentExposed, experiment));
            int[] variants = store.Dimensions[AnalyticsEventStore.VariantDimension];
            var codes = new int[store.LeadCount];
            for (int lead = 0; lead < codes.Length; lead++)
            {
                for (int i = store.Offsets[lead]; i < store.Offsets[lead + 1]; i++)
                {
                    if (exposure[store.Terms[i]])
                    {
                        codes[lead] = variants[i];
                        break;
                    }
                }
            }

            return new Grouping(null, codes, store.DimensionValues[AnalyticsEventStore.VariantDimension]);
        }

        private static Grouping ByFirstTouchWeek(AnalyticsEventStore store, DateTimeZone zone)
        {
            var codes = new int[store.LeadCount];
            var weeks = new Dictionary<LocalDate, int>();
            var names = new List<string?>();
            for (int lead = 0; lead < codes.Length; lead++)
            {
                int first = store.Offsets[lead];
                if (first == store.Offsets[lead + 1])
                {
                    continue;
                }

                codes[lead] = WeekCode(store.Times[first], zone, weeks, names);
            }

            return new Grouping(null, codes, [.. names]);
        }
    }
}
