using System.Diagnostics;
using Funnel.Events;

namespace Funnel.AspNetCore;

/// <summary>Records funnel events: appends them to the <see cref="IFunnelEventSink"/> and counts them in the <c>Funnel</c> meter.</summary>
/// <remarks>
/// Use it for the events your own code gets back from Funnel (checkouts, orders, payments) so the KPI report and
/// the metrics see them; the endpoints use it for theirs. <see cref="OptedIn"/> counts as an opt-in,
/// <see cref="OrderPlaced"/> as an order and <see cref="PaymentSucceeded"/> adds its amount to the revenue (see
/// <see cref="FunnelDiagnostics"/>).
/// </remarks>
/// <threadsafety>All members are thread-safe when the sink is.</threadsafety>
public sealed class FunnelEventRecorder
{
    private readonly IFunnelEventSink sink;

    /// <summary>Initializes a recorder.</summary>
    /// <param name="sink">Where the events go.</param>
    /// <exception cref="ArgumentNullException"><paramref name="sink"/> is <see langword="null"/>.</exception>
    public FunnelEventRecorder(IFunnelEventSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        this.sink = sink;
    }

    /// <summary>Appends the events to the sink, then counts them.</summary>
    /// <param name="events">The events, in order.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the sink stored the events.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is <see langword="null"/>.</exception>
    public async Task RecordAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }

        await sink.AppendAsync(events, cancellationToken).ConfigureAwait(false);
        foreach (FunnelEvent e in events)
        {
            FunnelDiagnostics.Events.Add(1, new KeyValuePair<string, object?>("funnel.event_type", e.EventType));
            switch (e)
            {
                case OptedIn optedIn:
                    FunnelDiagnostics.OptIns.Add(1, new KeyValuePair<string, object?>("funnel.magnet", optedIn.Magnet));
                    break;
                case OrderPlaced placed:
                    FunnelDiagnostics.Orders.Add(1, new KeyValuePair<string, object?>("funnel.offer", placed.Subject));
                    break;
                case PaymentSucceeded paid:
                    FunnelDiagnostics.Revenue.Add(paid.Amount.MinorUnits, new KeyValuePair<string, object?>("funnel.currency", paid.Amount.Currency.Code));
                    break;
                default:
                    break;
            }
        }

        Activity.Current?.AddEvent(new ActivityEvent("funnel.events_recorded", tags: new ActivityTagsCollection { ["funnel.count"] = events.Count }));
    }
}
