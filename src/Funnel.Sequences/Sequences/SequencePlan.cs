using System.Collections.Frozen;
using System.Collections.Immutable;

namespace Funnel.Sequences;

/// <summary>A sequence's step tree laid out flat for the dispatcher: every step (branches' included) in depth-first order, with where each one goes next.</summary>
/// <remarks>
/// An outbox entry's <see cref="OutboxEntry.StepIndex"/> is an index into <see cref="Steps"/>. For
/// <c>[a, b(if: then [c, d], else [e]), f]</c> the order is <c>a b c d e f</c>: after <c>a</c> comes <c>b</c>; the branch
/// <c>b</c> goes to <c>c</c> or <c>e</c>; after <c>d</c> and <c>e</c> comes <c>f</c>; after <c>f</c>, the end (-1).
/// </remarks>
internal sealed class SequencePlan
{
    private readonly int[] next;
    private readonly int[] then;
    private readonly int[] otherwise;
    private readonly FrozenDictionary<string, int> byKey;
    private readonly Segments.SegmentEvaluator?[] conditions;

    private SequencePlan(SequenceStep[] steps, int[] next, int[] then, int[] otherwise)
    {
        Steps = [.. steps];
        this.next = next;
        this.then = then;
        this.otherwise = otherwise;
        Dictionary<string, int> keys = new(steps.Length, StringComparer.Ordinal);
        for (int i = 0; i < steps.Length; i++)
        {
            keys.TryAdd(steps[i].Key, i);
        }

        byKey = keys.ToFrozenDictionary(StringComparer.Ordinal);
        // A branch's rule is checked once, when the plan is laid out, not on every evaluation.
        conditions = [.. steps.Select(static s => s.If is { } rule ? new Segments.SegmentEvaluator(rule) : null)];
    }

    /// <summary>Gets every step, depth first.</summary>
    public ImmutableArray<SequenceStep> Steps { get; }

    /// <summary>Lays out a definition's steps (assumed valid).</summary>
    public static SequencePlan Of(SequenceDefinition definition)
    {
        int count = SizeOf(definition.Steps);
        SequenceStep[] steps = new SequenceStep[count];
        int[] next = new int[count];
        int[] then = new int[count];
        int[] otherwise = new int[count];
        Link(definition.Steps, 0, -1);
        return new SequencePlan(steps, next, then, otherwise);

        // Lays out a list from index `start`; its last step continues at `after`.
        void Link(ImmutableArray<SequenceStep> list, int start, int after)
        {
            int at = start;
            for (int i = 0; i < list.Length; i++)
            {
                SequenceStep step = list[i];
                int size = SizeOf(step);
                int successor = i + 1 < list.Length ? at + size : after;
                steps[at] = step;
                next[at] = successor;
                then[at] = otherwise[at] = successor;
                if (step.IsBranch)
                {
                    int thenStart = at + 1;
                    int elseStart = thenStart + SizeOf(step.Then);
                    then[at] = step.Then.IsDefaultOrEmpty ? successor : thenStart;
                    otherwise[at] = step.Else.IsDefaultOrEmpty ? successor : elseStart;
                    Link(step.Then.IsDefault ? [] : step.Then, thenStart, successor);
                    Link(step.Else.IsDefault ? [] : step.Else, elseStart, successor);
                }

                at += size;
            }
        }
    }

    /// <summary>Counts the steps of a list, branches' paths included.</summary>
    internal static int SizeOf(ImmutableArray<SequenceStep> list)
    {
        int n = 0;
        foreach (SequenceStep step in list.IsDefault ? [] : list)
        {
            n += SizeOf(step);
        }

        return n;
    }

    private static int SizeOf(SequenceStep step) => 1 + (step.IsBranch ? SizeOf(step.Then) + SizeOf(step.Else) : 0);

    /// <summary>Returns the index of the step with a key, or -1.</summary>
    public int IndexOf(ReadOnlySpan<char> key) => byKey.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(key, out int index) ? index : -1;

    /// <summary>Returns the evaluator of a branch step's <see cref="SequenceStep.If"/>, or <see langword="null"/> when it has none.</summary>
    public Segments.SegmentEvaluator? ConditionOf(int index) => conditions[index];

    /// <summary>Returns the index of the step that runs after a step (for a branch, the first step of the path taken, <paramref name="then"/> or else); -1 at the end.</summary>
    public int Next(int index, bool? then = null) =>
        Steps[index].IsBranch ? (then == true ? this.then[index] : otherwise[index]) : next[index];
}
