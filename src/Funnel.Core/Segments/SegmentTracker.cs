using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Segments;

/// <summary>The result of a tracked segment evaluation: the members and who entered or left since the previous one.</summary>
/// <param name="Membership">The members now.</param>
/// <param name="Events">A <see cref="SegmentEntered"/> per new member and a <see cref="SegmentLeft"/> per former member, at the evaluation instant.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SegmentChanges(SegmentMembership Membership, ImmutableArray<LeadEvent> Events);

/// <summary>Evaluates a segment again and again and reports who entered and who left it since the last evaluation.</summary>
/// <remarks>
/// The first evaluation reports every member as entered (pass a baseline to the constructor to avoid that).
/// Leads are compared by <see cref="LeadId"/>, so the populations of successive evaluations may be rebuilt; a
/// lead missing from the new population counts as having left.
/// </remarks>
/// <threadsafety>Instances are safe to use from many threads at once; evaluations are serialised.</threadsafety>
public sealed class SegmentTracker
{
    private readonly SegmentEvaluator _evaluator;
    private readonly Lock _gate = new();
    private HashSet<LeadId> _previous;

    /// <summary>Initializes a tracker for a segment.</summary>
    /// <param name="segment">The segment.</param>
    /// <param name="baseline">The members at the previous evaluation (for example loaded from storage), or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentNullException"><paramref name="segment"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The segment key is invalid.</exception>
    /// <exception cref="SegmentRuleException">The segment rule is invalid.</exception>
    public SegmentTracker(SegmentDefinition segment, IEnumerable<LeadId>? baseline = null)
    {
        ArgumentNullException.ThrowIfNull(segment);
        if (!Funnel.Key.IsValid(segment.Key))
        {
            throw new ArgumentException($"'{segment.Key}' is not a valid segment key.", nameof(segment));
        }

        Segment = segment;
        _evaluator = new SegmentEvaluator(segment.Rule);
        _previous = baseline is null ? [] : [.. baseline];
    }

    /// <summary>Gets the segment.</summary>
    public SegmentDefinition Segment { get; }

    /// <summary>Evaluates the segment and returns the members and the enter and leave events.</summary>
    /// <param name="population">The population.</param>
    /// <param name="now">The evaluation instant.</param>
    /// <returns>The members and the events.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="population"/> is <see langword="null"/>.</exception>
    public SegmentChanges Evaluate(LeadPopulation population, Instant now)
    {
        SegmentMembership membership = _evaluator.Evaluate(population, now);
        lock (_gate)
        {
            HashSet<LeadId> current = new(membership.Count);
            ImmutableArray<LeadEvent>.Builder events = ImmutableArray.CreateBuilder<LeadEvent>();
            foreach (LeadId id in membership.Members)
            {
                current.Add(id);
                if (!_previous.Contains(id))
                {
                    events.Add(new SegmentEntered { LeadId = id, OccurredAt = now, Segment = Segment.Key });
                }
            }

            foreach (LeadId id in _previous)
            {
                if (!current.Contains(id))
                {
                    events.Add(new SegmentLeft { LeadId = id, OccurredAt = now, Segment = Segment.Key });
                }
            }

            _previous = current;
            return new SegmentChanges(membership, events.ToImmutable());
        }
    }
}
