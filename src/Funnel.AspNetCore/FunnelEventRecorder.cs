using System.Diagnostics;
using Funnel.Events;
using Funnel.Pipeline;

namespace Funnel.AspNetCore;

/// <summary>Records the funnel events your own code produces (a page of yours, a form the endpoints do not cover) in the <see cref="IFunnelEventLog"/>.</summary>
/// <remarks>
/// The engines record their own events, so never pass this what an engine returned: it is in the log already. Every
/// event in the log, whoever recorded it, is counted in the <c>Funnel</c> meter by the <c>metrics</c> pipeline handler
/// that <c>AddFunnelAspNetCore</c> registers (see <see cref="FunnelDiagnostics"/>).
/// </remarks>
/// <threadsafety>All members are thread-safe when the log is.</threadsafety>
public sealed class FunnelEventRecorder
{
    private readonly IFunnelEventLog _log;

    /// <summary>Initializes a recorder.</summary>
    /// <param name="log">Where the events go.</param>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is <see langword="null"/>.</exception>
    public FunnelEventRecorder(IFunnelEventLog log)
    {
        ArgumentNullException.ThrowIfNull(log);
        _log = log;
    }

    /// <summary>Appends the events to the event log (idempotently by event id).</summary>
    /// <param name="events">The events, in order.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the log stored the events.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is <see langword="null"/>.</exception>
    public async Task RecordAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }

        await AppendAsync(events, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Appends the events and returns how many were new (not already in the log by id).</summary>
    internal async Task<int> AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken)
    {
        int appended = await _log.AppendAsync(events, cancellationToken).ConfigureAwait(false);
        Activity.Current?.AddEvent(new ActivityEvent("funnel.events_recorded", tags: new ActivityTagsCollection { ["funnel.count"] = appended }));
        return appended;
    }
}
