using Funnel.Events;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Leads;

/// <summary>The "scoring" handler: scores a lead from their history after each of their events, with the registered <see cref="ScoringModel"/>.</summary>
/// <remarks>
/// <para>
/// For every event of a lead with a stored profile (except <see cref="ScoreChanged"/> itself) the lead's events are
/// read from the log (<see cref="FunnelEventLogExtensions.ReadPersonAsync"/>: the lead's and their linked visitor ids') and scored at the latest instant among them, so a
/// redelivered event scores the same and changes nothing. The new score and any MQL/SQL stage are stored on the
/// profile (compare-and-set), then the events of the <see cref="ScoringResult"/> are recorded once, with ids derived
/// from the cause.
/// </para>
/// <para>
/// Without a registered model the handler does nothing. The profile keeps one <see cref="LeadProfile.Score"/>, so at
/// most one model may be registered: the pipeline fails at start-up naming the handler otherwise.
/// </para>
/// </remarks>
internal sealed class ScoringHandler : IFunnelHandler
{
    /// <summary>The name under which <c>AddFunnel</c> registers the handler.</summary>
    public const string Name = "scoring";

    /// <summary>The most events of one lead read for scoring.</summary>
    internal const int MaxHistory = 10_000;

    private readonly ILeadStore _store;
    private readonly IFunnelEventLog _log;
    private readonly LeadScorer? _scorer;

    public ScoringHandler(ILeadStore store, IFunnelEventLog log, IEnumerable<ScoringModel> models)
    {
        _store = store;
        _log = log;
        ScoringModel[] all = [.. models];
        if (all.Length > 1)
        {
            throw new InvalidOperationException(
                $"{all.Length} ScoringModel services are registered, but a lead profile keeps one score: register one ScoringModel.");
        }

        _scorer = all.Length == 1 ? new LeadScorer(all[0]) : null;
    }

    public async Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        if (_scorer is null || funnelEvent is not LeadEvent leadEvent || funnelEvent is ScoreChanged)
        {
            return;
        }

        LeadId lead = leadEvent.LeadId;
        if (await _store.FindAsync(lead, cancellationToken).ConfigureAwait(false) is null)
        {
            return;
        }

        IReadOnlyList<LoggedEvent> history = await _log.ReadPersonAsync(lead, MaxHistory, cancellationToken).ConfigureAwait(false);
        FunnelEvent[] events = [.. history.Select(static e => e.Event)];
        Instant now = events.Length == 0 ? leadEvent.OccurredAt : Instant.Max(leadEvent.OccurredAt, events.Max(static e => e.OccurredAt));
        ScoringResult? result = null;
        OptimisticConcurrency.Update<LeadProfile> update = await OptimisticConcurrency.UpdateAsync(
            c => _store.FindAsync(lead, c),
            current =>
            {
                result = current is null ? null : _scorer.Update(current, events, now);
                return result is null || result.Events.IsEmpty ? current : result.Lead;
            },
            tryAddAsync: null,
            _store.TryUpdateAsync,
            static (current, next) => next with { Version = current.Version + 1 },
            $"Lead {lead}",
            cancellationToken).ConfigureAwait(false);
        if (update.Changed && result is not null)
        {
            await _log.AppendAsync(
                [.. result.Events.Select(e => e with { Id = EventId.Derive(leadEvent.Id, "scoring:" + e.EventType) })],
                cancellationToken).ConfigureAwait(false);
        }
    }
}
