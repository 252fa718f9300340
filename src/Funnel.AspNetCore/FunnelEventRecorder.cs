using System.Diagnostics;
using Funnel.Events;
using Funnel.Sequences;

namespace Funnel.AspNetCore;

/// <summary>Records funnel events: appends them to the <see cref="IFunnelEventSink"/> and counts them in the <c>Funnel</c> meter.</summary>
/// <remarks>
/// Use it for the events your own code gets back from Funnel (checkouts, orders, payments) so the KPI report and
/// the metrics see them; the endpoints use it for theirs. <see cref="OptedIn"/> counts as an opt-in,
/// <see cref="OrderPlaced"/> as an order, <see cref="PaymentSucceeded"/> adds its amount to the revenue, payment,
/// refund and email events count as payments, refunds, sends and engagements (see <see cref="FunnelDiagnostics"/>).
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
                    FunnelDiagnostics.Payments.Add(1, new KeyValuePair<string, object?>("funnel.outcome", "succeeded"), new KeyValuePair<string, object?>("funnel.currency", paid.Amount.Currency.Code));
                    break;
                case PaymentFailed failed:
                    FunnelDiagnostics.Payments.Add(1, new KeyValuePair<string, object?>("funnel.outcome", "failed"), new KeyValuePair<string, object?>("funnel.currency", failed.Amount.Currency.Code));
                    break;
                case RefundIssued refund:
                    FunnelDiagnostics.Refunds.Add(refund.Amount.MinorUnits, new KeyValuePair<string, object?>("funnel.currency", refund.Amount.Currency.Code));
                    break;
                case EmailSent sent:
                    EmailSend("sent", sent);
                    break;
                case EmailFailed failedEmail:
                    EmailSend("failed", failedEmail);
                    break;
                case EmailSuppressed suppressed:
                    EmailSend("suppressed", suppressed);
                    break;
                case EmailOpened opened:
                    Engagement("opened", opened);
                    break;
                case EmailClicked clicked:
                    Engagement("clicked", clicked);
                    break;
                case EmailUnsubscribed unsubscribed:
                    Engagement("unsubscribed", unsubscribed);
                    break;
                default:
                    break;
            }
        }

        Activity.Current?.AddEvent(new ActivityEvent("funnel.events_recorded", tags: new ActivityTagsCollection { ["funnel.count"] = events.Count }));
    }

    private static void EmailSend(string outcome, EmailEvent e) =>
        FunnelDiagnostics.EmailSends.Add(1, new KeyValuePair<string, object?>("funnel.outcome", outcome), new KeyValuePair<string, object?>("funnel.email", e.Email));

    private static void Engagement(string action, EmailEvent e) =>
        FunnelDiagnostics.EmailEngagements.Add(1, new KeyValuePair<string, object?>("funnel.action", action), new KeyValuePair<string, object?>("funnel.email", e.Email));
}
