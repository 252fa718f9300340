using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Segments;

/// <summary>The "segments" job: re-evaluates the segments whose rules have a time window, as time passes.</summary>
/// <remarks>
/// <para>
/// A rule such as "opened an email within 30 days" can stop matching, and "not opened within 30 days" start
/// matching, with no new event. Every <see cref="Interval"/> the job builds a <see cref="LeadPopulation"/> of the leads
/// in the event log and runs a <see cref="SegmentTracker"/> per such segment at the clock's "now"; the leads that
/// entered or left are stored and their <see cref="SegmentEntered"/> and <see cref="SegmentLeft"/> recorded. Segments
/// without a window are left to the <see cref="SegmentsHandler"/>.
/// </para>
/// <para>The population is read from the whole log on every run: fine in memory and for modest logs.</para>
/// </remarks>
internal sealed class SegmentsJob : IFunnelJob
{
    private const int Page = 1_000;

    private readonly ILeadStore _leads;
    private readonly IFunnelEventLog _log;
    private readonly IClock _clock;
    private readonly ImmutableArray<SegmentTracker> _trackers;

    public SegmentsJob(
        ILeadStore leads, IFunnelEventLog log, ISegmentMembershipStore memberships, IClock clock, IEnumerable<SegmentDefinition> segments)
    {
        _leads = leads;
        _log = log;
        _clock = clock;
        _trackers = [.. segments.Select(s => new SegmentTracker(s, memberships)).Where(t => t.DependsOnTime)];
    }

    public string Name => "segments";

    public TimeSpan Interval => TimeSpan.FromMinutes(15);

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        if (_trackers.IsEmpty)
        {
            return;
        }

        Dictionary<LeadId, List<FunnelEvent>> byLead = [];
        long after = 0;
        while (true)
        {
            IReadOnlyList<LoggedEvent> page = await _log.ReadAsync(after, Page, cancellationToken).ConfigureAwait(false);
            foreach (LoggedEvent logged in page)
            {
                if (logged.Event is LeadEvent { LeadId: var lead })
                {
                    if (!byLead.TryGetValue(lead, out List<FunnelEvent>? events))
                    {
                        byLead[lead] = events = [];
                    }

                    events.Add(logged.Event);
                }
            }

            if (page.Count < Page)
            {
                break;
            }

            after = page[^1].Position;
        }

        ImmutableArray<LeadProfile> profiles = await _leads.FindManyAsync(byLead.Keys, cancellationToken).ConfigureAwait(false);
        Dictionary<LeadId, LeadProfile> profileOf = profiles.ToDictionary(static p => p.Id);
        LeadPopulationBuilder builder = new();
        foreach ((LeadId lead, List<FunnelEvent> events) in byLead)
        {
            int index = profileOf.TryGetValue(lead, out LeadProfile? profile) ? builder.Add(profile) : builder.AddVisitor(lead);
            foreach (FunnelEvent e in events)
            {
                builder.AddEvent(index, e);
            }
        }

        LeadPopulation population = builder.Build();
        Instant now = _clock.GetCurrentInstant();
        foreach (SegmentTracker tracker in _trackers)
        {
            SegmentChanges changes = await tracker.EvaluateAsync(population, now, cancellationToken).ConfigureAwait(false);
            if (!changes.Events.IsEmpty)
            {
                await _log.AppendAsync(changes.Events, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
