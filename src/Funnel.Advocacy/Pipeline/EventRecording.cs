using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Pipeline;

namespace Funnel.Advocacy;

/// <summary>How the Advocacy engines record the events of a change they made.</summary>
internal static class EventRecording
{
    /// <summary>Appends <paramref name="events"/> to the log (idempotently by id) and returns them.</summary>
    public static async Task<ImmutableArray<FunnelEvent>> RecordAsync(
        this IFunnelEventLog log, ImmutableArray<FunnelEvent> events, CancellationToken cancellationToken)
    {
        if (!events.IsDefaultOrEmpty)
        {
            await log.AppendAsync(events, cancellationToken).ConfigureAwait(false);
        }

        return events.IsDefault ? [] : events;
    }

    /// <summary>The id of an event caused by <paramref name="cause"/>: derived from it, so a redelivered cause records nothing twice.</summary>
    public static EventId Caused(EventId cause, string name) => cause == default ? EventId.New() : EventId.Derive(cause, name);
}
