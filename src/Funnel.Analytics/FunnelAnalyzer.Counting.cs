using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Funnel.Analytics;

/// <content>
/// The counting kernel: a funnel of up to four steps without exclusions, strict order or per-chain output (no
/// breakdown, times to convert, drop-offs or money) only needs each lead's depth, so a whole range of leads is swept
/// in one loop, two leads at a time with AVX2 where the processor has it.
/// </content>
public static partial class FunnelAnalyzer
{
    /// <summary>Whether <see cref="CountRange"/> answers the query: it needs nothing but the depth histogram.</summary>
    private static bool CountsOnly(Context ctx) =>
        ctx.Engine == Engine.Sweep && !ctx.HasExclusions && ctx.Steps <= 4 && !ctx.NeedPicks && !ctx.DropOffs;

    /// <summary>
    /// Per term, the four step selects as one vector (all ones in lane <c>k</c> when the term matches step <c>k</c>),
    /// padded with zeros to a power of two so that a term code masked by <c>length − 1</c> is always in range.
    /// </summary>
    private static Vector256<long>[] VectorSelects(ulong[] termMask)
    {
        var table = new Vector256<long>[(int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, termMask.Length))];
        for (int t = 0; t < termMask.Length; t++)
        {
            ulong steps = termMask[t] & StepBits;
            int k = steps == 0 ? -1 : BitOperations.TrailingZeroCount(steps);
            table[t] = Vector256.Create(k == 0 ? -1L : 0, k == 1 ? -1L : 0, k == 2 ? -1L : 0, k == 3 ? -1L : 0);
        }

        return table;
    }

    /// <summary>The depth histogram of a counts-only query, by the AVX2 kernel or the scalar one (for tests).</summary>
    internal static long[] CountDepths(AnalyticsEventStore store, FunnelQuery query, bool vector)
    {
        ulong[] termMask = BuildMasks(store, query);
        var context = new Context(store, termMask, query.Funnel.Steps.Length, query.Window.BclCompatibleTicks, ChooseEngine(query, termMask), !query.Exclusions.IsDefaultOrEmpty, Grouping.Create(store, null), false, false, query, null)
        {
            VectorSelects = vector ? VectorSelects(termMask) : null,
        };
        if (!CountsOnly(context))
        {
            throw new ArgumentException("The query needs more than the depths.", nameof(query));
        }

        var histogram = new long[context.Steps + 1];
        CountRange(context, 0, store.LeadCount, histogram, new long[context.Steps + 2]);
        return histogram;
    }

    /// <summary>Adds the depth of every lead in <c>[fromLead, toLead)</c> to <paramref name="histogram"/>.</summary>
    private static void CountRange(Context ctx, int fromLead, int toLead, long[] histogram, Span<long> state)
    {
        AnalyticsEventStore store = ctx.Store;
        StepCodeTable codes = StepCodes(ctx.TermMask);
        if (Avx2.IsSupported && ctx.VectorSelects is { } selects)
        {
            CountRangeAvx2(store.Times, store.Terms, store.Offsets, selects, codes.Codes, fromLead, toLead, ctx.Steps, ctx.Window, histogram, state);
            return;
        }

        long[] times = store.Times;
        int[] terms = store.Terms;
        int[] offsets = store.Offsets;
        for (int lead = fromLead; lead < toLead; lead = unchecked(lead + 1))
        {
            int b = offsets[lead];
            int e = offsets[lead + 1];
            int depth = SweepUpToFourSteps(times, terms, codes.Selects, b, e, ctx.Window, out _);
            if (depth < 0)
            {
                depth = SweepWithoutExclusions(times, terms, codes.Codes, b, e, ctx.Steps, ctx.Window, state, out _);
            }

            unchecked
            {
                histogram[depth]++;
            }
        }
    }

    /// <summary>
    /// <see cref="SweepUpToFourSteps"/> with the four deadlines in one vector, two leads interleaved.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Lane <c>k</c> of <c>d</c> holds the deadline of step <c>k</c> (see <see cref="SweepUpToFourSteps"/>). For an
    /// event at <c>now</c>, <c>f</c> is <c>d</c> moved up one lane with <c>now + window + 1</c> in lane 0: the deadline
    /// a chain would carry into each step. A lane takes it when the event matches that step and <c>f &gt; now</c>
    /// (the chain of the step before is still within its window; always true in lane 0). The state depends on the
    /// previous event through the lane move, the compare and the blend, about eight cycles; sweeping two leads at
    /// once keeps the vector units busy in that time. A lead with two events at one instant is swept again the
    /// general way.
    /// </para>
    /// <para>
    /// The loop reads through pointers after checking each lead's range against the arrays, and masks every term code
    /// into the power-of-two select table, so a damaged store cannot make it read out of bounds.
    /// </para>
    /// </remarks>
    private static unsafe void CountRangeAvx2(long[] times, int[] terms, int[] offsets, Vector256<long>[] selects, byte[] codes, int fromLead, int toLead, int n, long window, long[] histogram, Span<long> state)
    {
        unchecked
        {
            if (terms.Length < times.Length || fromLead >= toLead)
            {
                if (fromLead < toLead)
                {
                    throw new InvalidOperationException("The store's term column is shorter than its time column.");
                }

                return;
            }

            Vector256<long> none = Vector256.Create(NoChain);
            Vector256<long> w1 = Vector256.Create(window + 1);
            int mask = selects.Length - 1;
            uint length = (uint)times.Length;
            fixed (long* timeBase = times)
            fixed (int* termBase = terms)
            fixed (Vector256<long>* select = selects)
            fixed (long* counts = histogram)
            {
                for (int lead = fromLead; lead < toLead; lead += 2)
                {
                    int b = offsets[lead];
                    int m = offsets[lead + 1];
                    int e = lead + 1 < toLead ? offsets[lead + 2] : m;
                    if ((uint)b > (uint)m || (uint)m > (uint)e || (uint)e > length)
                    {
                        throw new InvalidOperationException($"The store's offsets of lead {lead} are out of range.");
                    }

                    long* ta = timeBase + b;
                    long* tb = timeBase + m;
                    int* ra = termBase + b;
                    int* rb = termBase + m;
                    int la = m - b;
                    int lb = e - m;
                    int common = Math.Min(la, lb);
                    Vector256<long> da = none;
                    Vector256<long> db = none;

                    // Times are in order, so now − previous − 1 (now + ~previous) is negative only for a tie.
                    long tiesA = 0;
                    long tiesB = 0;
                    long notPreviousA = la == 0 ? 0 : ~(ta[0] - 1);
                    long notPreviousB = lb == 0 ? 0 : ~(tb[0] - 1);
                    int i = 0;
                    for (; i < common; i++)
                    {
                        long nowA = ta[i];
                        long nowB = tb[i];
                        tiesA |= nowA + notPreviousA;
                        notPreviousA = ~nowA;
                        tiesB |= nowB + notPreviousB;
                        notPreviousB = ~nowB;
                        Vector256<long> sa = select[ra[i] & mask];
                        Vector256<long> sb = select[rb[i] & mask];
                        Vector256<long> va = Avx2.BroadcastScalarToVector256(ta + i);
                        Vector256<long> vb = Avx2.BroadcastScalarToVector256(tb + i);
                        Vector256<long> fa = Avx2.Blend(Avx2.Permute4x64(da, 0b10_01_00_00).AsInt32(), (va + w1).AsInt32(), 0b11).AsInt64();
                        Vector256<long> fb = Avx2.Blend(Avx2.Permute4x64(db, 0b10_01_00_00).AsInt32(), (vb + w1).AsInt32(), 0b11).AsInt64();
                        da = Avx2.BlendVariable(da, fa, Avx2.CompareGreaterThan(fa, va) & sa);
                        db = Avx2.BlendVariable(db, fb, Avx2.CompareGreaterThan(fb, vb) & sb);
                    }

                    for (int j = i; j < la; j++)
                    {
                        long nowA = ta[j];
                        tiesA |= nowA + notPreviousA;
                        notPreviousA = ~nowA;
                        Vector256<long> sa = select[ra[j] & mask];
                        Vector256<long> va = Avx2.BroadcastScalarToVector256(ta + j);
                        Vector256<long> fa = Avx2.Blend(Avx2.Permute4x64(da, 0b10_01_00_00).AsInt32(), (va + w1).AsInt32(), 0b11).AsInt64();
                        da = Avx2.BlendVariable(da, fa, Avx2.CompareGreaterThan(fa, va) & sa);
                    }

                    for (int j = i; j < lb; j++)
                    {
                        long nowB = tb[j];
                        tiesB |= nowB + notPreviousB;
                        notPreviousB = ~nowB;
                        Vector256<long> sb = select[rb[j] & mask];
                        Vector256<long> vb = Avx2.BroadcastScalarToVector256(tb + j);
                        Vector256<long> fb = Avx2.Blend(Avx2.Permute4x64(db, 0b10_01_00_00).AsInt32(), (vb + w1).AsInt32(), 0b11).AsInt64();
                        db = Avx2.BlendVariable(db, fb, Avx2.CompareGreaterThan(fb, vb) & sb);
                    }

                    // A step is reached only after the one before it, so the set lanes are a prefix.
                    int depthA = tiesA < 0
                        ? SweepWithoutExclusions(times, terms, codes, b, m, n, window, state, out _)
                        : BitOperations.PopCount((uint)Avx.MoveMask(Avx2.CompareGreaterThan(da, none).AsDouble()));
                    counts[depthA]++;
                    if (lead + 1 < toLead)
                    {
                        int depthB = tiesB < 0
                            ? SweepWithoutExclusions(times, terms, codes, m, e, n, window, state, out _)
                            : BitOperations.PopCount((uint)Avx.MoveMask(Avx2.CompareGreaterThan(db, none).AsDouble()));
                        counts[depthB]++;
                    }
                }
            }
        }
    }
}
