using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Segments;

/// <summary>The "segments" handler: after each event of a lead, lets the lead enter or leave every registered <see cref="SegmentDefinition"/> at once.</summary>
/// <remarks>
/// <para>
/// The lead's profile and history (<see cref="FunnelEventLogExtensions.ReadPersonAsync"/>, linked visitor ids included) are evaluated at the latest instant
/// among their events, so a redelivered event evaluates the same and changes nothing. A membership change is stored
/// in the <see cref="ISegmentMembershipStore"/> (compare-and-set), then one <see cref="SegmentEntered"/> or
/// <see cref="SegmentLeft"/> is recorded with an id derived from the cause and the segment key.
/// </para>
/// <para>
/// Rules decided by events and the profile (tags, fields, stage, score, consent, "an event happened", and their
/// negations) are therefore always current. Rules with a time window (<c>Within</c>, such as "no open in 30 days")
/// are evaluated here too when an event arrives, and by the <see cref="SegmentsJob"/> as time passes.
/// </para>
/// </remarks>
internal sealed class SegmentsHandler : IFunnelHandler
{
    /// <summary>The name under which <c>AddFunnel</c> registers the handler.</summary>
    public const string Name = "segments";

    private readonly ILeadStore _leads;
    private readonly IFunnelEventLog _log;
    private readonly ImmutableArray<SegmentTracker> _trackers;

    public SegmentsHandler(
        ILeadStore leads, IFunnelEventLog log, ISegmentMembershipStore memberships, IEnumerable<SegmentDefinition> segments)
    {
        _leads = leads;
        _log = log;
        _trackers = [.. segments.Select(s => new SegmentTracker(s, memberships))];
    }

    public async Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        if (_trackers.IsEmpty || funnelEvent is not LeadEvent leadEvent)
        {
            return;
        }

        LeadId lead = leadEvent.LeadId;
        LeadProfile? profile = await _leads.FindAsync(lead, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<LoggedEvent> history = await _log.ReadPersonAsync(lead, ScoringHandler.MaxHistory, cancellationToken).ConfigureAwait(false);
        FunnelEvent[] events = [.. history.Select(static e => e.Event)];
        Instant now = events.Length == 0 ? leadEvent.OccurredAt : Instant.Max(leadEvent.OccurredAt, events.Max(static e => e.OccurredAt));
        List<FunnelEvent> changes = [];
        foreach (SegmentTracker tracker in _trackers)
        {
            if (await tracker.EvaluateLeadAsync(lead, profile, events, now, cancellationToken).ConfigureAwait(false) is { } change)
            {
                changes.Add(change with { Id = EventId.Derive(leadEvent.Id, "segments:" + tracker.Segment.Key) });
            }
        }

        if (changes.Count > 0)
        {
            await _log.AppendAsync(changes, cancellationToken).ConfigureAwait(false);
        }
    }
}
