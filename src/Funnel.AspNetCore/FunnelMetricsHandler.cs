using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Sequences;

namespace Funnel.AspNetCore;

/// <summary>Counts every event of the log in the <c>Funnel</c> meter, whoever recorded it (see <see cref="FunnelDiagnostics"/>).</summary>
/// <remarks>Delivery is at least once, so after a crash an event may be counted twice: metrics are for trends, the log is the record.</remarks>
internal sealed class FunnelMetricsHandler : IFunnelHandler
{
    public Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        Count(funnelEvent);
        return Task.CompletedTask;
    }

    private static void Count(FunnelEvent e)
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

    private static void EmailSend(string outcome, EmailEvent e) =>
        FunnelDiagnostics.EmailSends.Add(1, new KeyValuePair<string, object?>("funnel.outcome", outcome), new KeyValuePair<string, object?>("funnel.email", e.Email));

    private static void Engagement(string action, EmailEvent e) =>
        FunnelDiagnostics.EmailEngagements.Add(1, new KeyValuePair<string, object?>("funnel.action", action), new KeyValuePair<string, object?>("funnel.email", e.Email));
}
