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
/// <para>The members live in an <see cref="ISegmentMembershipStore"/>, not in the tracker: the first evaluation
/// over an empty store reports every member as entered (seed the store with the previous members to avoid that).
/// Leads are compared by <see cref="LeadId"/>, so the populations of successive evaluations may be rebuilt; a
/// member missing from the new population counts as having left.</para>
/// <para>Each lead's change is a replace-if-version of its record, so of two concurrent evaluations only one reports a
/// lead entering (or leaving); entered leads are reported in membership order, then leavers by lead id.</para>
/// </remarks>
/// <threadsafety>Instances are safe to use from many threads at once when the store is.</threadsafety>
public sealed class SegmentTracker
{
    private const int Page = 500;

    private readonly SegmentEvaluator _evaluator;
    private readonly ISegmentMembershipStore _store;

    /// <summary>Initializes a tracker for a segment.</summary>
    /// <param name="segment">The segment.</param>
    /// <param name="store">The store of the segment's members.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The segment key is invalid.</exception>
    /// <exception cref="SegmentRuleException">The segment rule is invalid.</exception>
    public SegmentTracker(SegmentDefinition segment, ISegmentMembershipStore store)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(store);
        if (!Funnel.Key.IsValid(segment.Key))
        {
            throw new ArgumentException($"'{segment.Key}' is not a valid segment key.", nameof(segment));
        }

        Segment = segment;
        _evaluator = new SegmentEvaluator(segment.Rule);
        _store = store;
        DependsOnTime = HasWindow(segment.Rule);
    }

    /// <summary>Gets the segment.</summary>
    public SegmentDefinition Segment { get; }

    /// <summary>Evaluates the segment, stores who entered and left, and returns the members and the enter and leave events.</summary>
    /// <param name="population">The population.</param>
    /// <param name="now">The evaluation instant.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The members and the events.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="population"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">Concurrent changes to a lead's record kept winning.</exception>
    public async Task<SegmentChanges> EvaluateAsync(LeadPopulation population, Instant now, CancellationToken cancellationToken = default)
    {
        SegmentMembership membership = _evaluator.Evaluate(population, now);
        string key = Segment.Key;
        HashSet<LeadId> current = new(membership.Count);
        ImmutableArray<LeadEvent>.Builder events = ImmutableArray.CreateBuilder<LeadEvent>();
        foreach (LeadId id in membership.Members)
        {
            current.Add(id);
            if (await SetAsync(id, true, now, cancellationToken).ConfigureAwait(false))
            {
                events.Add(new SegmentEntered { LeadId = id, OccurredAt = now, Segment = key });
            }
        }

        var leaving = new List<LeadId>();
        LeadId? after = null;
        while (true)
        {
            ImmutableArray<SegmentMember> page = await _store.ListMembersAsync(key, after, Page, cancellationToken).ConfigureAwait(false);
            leaving.AddRange(page.Where(m => !current.Contains(m.Lead)).Select(m => m.Lead));
            if (page.Length < Page)
            {
                break;
            }

            after = page[^1].Lead;
        }

        foreach (LeadId id in leaving)
        {
            if (await SetAsync(id, false, now, cancellationToken).ConfigureAwait(false))
            {
                events.Add(new SegmentLeft { LeadId = id, OccurredAt = now, Segment = key });
            }
        }

        return new SegmentChanges(membership, events.ToImmutable());
    }

    /// <summary>Gets whether the segment's rule has a time window, so that membership can change with no new event.</summary>
    internal bool DependsOnTime { get; }

    /// <summary>Evaluates the segment for one lead and stores the change, if any.</summary>
    /// <returns>The <see cref="SegmentEntered"/> or <see cref="SegmentLeft"/> this call stored, or <see langword="null"/> when the membership did not change.</returns>
    internal async Task<LeadEvent?> EvaluateLeadAsync(
        LeadId lead, LeadProfile? profile, IReadOnlyCollection<FunnelEvent> events, Instant now, CancellationToken cancellationToken)
    {
        bool isMember = _evaluator.Matches(profile, events, now);
        if (!await SetAsync(lead, isMember, now, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return isMember
            ? new SegmentEntered { LeadId = lead, OccurredAt = now, Segment = Segment.Key }
            : new SegmentLeft { LeadId = lead, OccurredAt = now, Segment = Segment.Key };
    }

    /// <summary>Tells whether a rule has a time window anywhere in its tree.</summary>
    internal static bool HasWindow(SegmentRule rule) => rule switch
    {
        AllRule all => all.Rules.Any(HasWindow),
        AnyRule any => any.Rules.Any(HasWindow),
        NotRule not => HasWindow(not.Rule),
        EventRule e => e.Within is not null,
        EmailRule m => m.Within is not null,
        PageRule p => p.Within is not null,
        _ => false,
    };

    /// <summary>Sets a lead's membership; <see langword="true"/> when this call changed it.</summary>
    private Task<bool> SetAsync(LeadId lead, bool isMember, Instant now, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync(
            async ct =>
            {
                SegmentMember? record = await _store.FindAsync(Segment.Key, lead, ct).ConfigureAwait(false);
                if ((record?.IsMember ?? false) == isMember)
                {
                    return (true, false);
                }

                bool won = record is null
                    ? await _store.TryAddAsync(new SegmentMember { Segment = Segment.Key, Lead = lead, IsMember = isMember, ChangedAt = now }, ct).ConfigureAwait(false)
                    : await _store.TryUpdateAsync(record, record with { IsMember = isMember, ChangedAt = now }, ct).ConfigureAwait(false);
                return (won, won);
            },
            $"the membership of {lead} in '{Segment.Key}'",
            cancellationToken);
}
