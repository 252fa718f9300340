using System.Collections.Immutable;
using System.Globalization;
using Funnel.AspNetCore.Dashboard.Figures;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Funnel.AspNetCore.Dashboard;

/// <content>The Payments page: payment figures, the latest orders, installments in dunning, disputes and the webhook queue.</content>
internal static partial class DashboardEndpoints
{
    private static void MapPayments(RouteGroupBuilder group, Func<HttpContext, DashboardPage> page) =>
        group.MapGet("/payments", (HttpContext context, CancellationToken ct) => PaymentsAsync(page(context), ct));

    private static async Task<IResult> PaymentsAsync(DashboardPage page, CancellationToken cancellationToken)
    {
        HtmlWriter html = page.Body;
        if (page.Services.GetService<IOrderStore>() is not { } orders || page.Services.GetService<IFunnelEventLog>() is not { } log)
        {
            html.Element("p", "Payments are not set up: call services.AddFunnelCommerce().");
            return page.Render("Payments");
        }

        DashboardFigures figures = await FiguresAsync(page, log, cancellationToken).ConfigureAwait(false);
        (PaymentMetrics metrics, string? error, OrderId[] latest) = figures.Read(
            state => (state.Payments(), state.PaymentsError, state.LatestOrders(page.Options.PageSize)));
        if (error is not null)
        {
            html.Element("p", "The payment figures cannot be computed: " + error);
            return page.Render("Payments");
        }

        html.Markup("<h2>Key figures</h2><div class=\"kpis\">");
        Kpi(html, "Collected", Amount(metrics.Collected));
        Kpi(html, "Payments", Count(metrics.Payments));
        Kpi(html, "Refunded", Amount(metrics.Refunded));
        Kpi(html, "Refund rate", Percent(metrics.RefundRate));
        Kpi(html, "Installments due", Count(metrics.InstallmentsDue));
        Kpi(html, "Installments failed", Count(metrics.InstallmentsFailed));
        Kpi(html, "Failed-installment rate", Percent(metrics.FailedInstallmentRate));
        Kpi(html, "Disputes", Count(metrics.Disputes));
        Kpi(html, "Disputed", Amount(metrics.Disputed));
        Kpi(html, "Dispute rate", Percent(metrics.DisputeRate));
        Kpi(html, "Disputes won", Count(metrics.DisputesWon));
        Kpi(html, "Disputes lost", Count(metrics.DisputesLost));
        html.Markup("</div>");

        // The latest orders placed, newest first, as their stores hold them now.
        var found = new List<Order>(latest.Length);
        foreach (OrderId id in latest)
        {
            if (await orders.FindAsync(id, cancellationToken).ConfigureAwait(false) is { } order)
            {
                found.Add(order);
            }
        }

        html.Markup("<table><caption>").Text($"Orders ({Count(found.Count)}), newest first")
            .Markup("</caption><thead><tr><th scope=\"col\">Order</th><th scope=\"col\">Lead</th><th scope=\"col\">Placed</th>")
            .Markup("<th scope=\"col\">Status</th><th scope=\"col\" class=\"num\">Total</th><th scope=\"col\" class=\"num\">Paid</th>")
            .Markup("<th scope=\"col\" class=\"num\">Refunded</th><th scope=\"col\" class=\"num\">Installments paid</th>")
            .Markup("<th scope=\"col\" class=\"num\">Disputes</th><th scope=\"col\">Access</th></tr></thead><tbody>");
        foreach (Order order in found)
        {
            string installments = order.Installments.IsDefaultOrEmpty
                ? "–"
                : $"{Count(order.Installments.Count(static i => i.Status == InstallmentStatus.Paid))} of {Count(order.Installments.Length)}";
            html.Markup("<tr><th scope=\"row\">").Text(order.Id.ToString()).Markup("</th><td>")
                .Link(page.Base + "/leads/" + order.Lead.Value.ToString("D"), order.Lead.Value.ToString("D")).Markup("</td>")
                .Element("td", Time(order.PlacedAt)).Element("td", order.Status.ToString()).Element("td", Amount(order.Total), "num")
                .Element("td", Amount(order.Paid), "num").Element("td", Amount(order.Refunded), "num").Element("td", installments, "num")
                .Element("td", Count(order.Disputes.IsDefault ? 0 : order.Disputes.Length), "num")
                .Element("td", order.AccessPaused ? "Paused" : "Granted").Markup("</tr>");
        }

        html.Markup("</tbody></table>");
        Dunning(page, found);
        Disputes(html, found);
        await WebhookQueueAsync(page, cancellationToken).ConfigureAwait(false);
        return page.Render("Payments");
    }

    /// <summary>The failed installments of the listed orders, with the next retry the dunning policy schedules.</summary>
    private static void Dunning(DashboardPage page, List<Order> orders)
    {
        HtmlWriter html = page.Body;
        DunningPolicy policy = page.Services.GetService<DunningPolicy>() ?? DunningPolicy.Default;
        var failed = orders.Where(static o => !o.Installments.IsDefaultOrEmpty)
            .SelectMany(static o => o.Installments.Where(static i => i.Status == InstallmentStatus.Failed).Select(i => (Order: o, Installment: i)))
            .ToList();
        html.Markup("<table><caption>").Text($"Installments in dunning ({Count(failed.Count)}): failed, retried by the dunning policy")
            .Markup("</caption><thead><tr><th scope=\"col\">Order</th><th scope=\"col\" class=\"num\">Installment</th>")
            .Markup("<th scope=\"col\">Due</th><th scope=\"col\" class=\"num\">Amount</th><th scope=\"col\" class=\"num\">Failed attempts</th>")
            .Markup("<th scope=\"col\">Last failed</th><th scope=\"col\">Decline code</th><th scope=\"col\">Next retry</th></tr></thead><tbody>");
        foreach ((Order order, Installment installment) in failed)
        {
            html.Markup("<tr><th scope=\"row\">").Text(order.Id.ToString()).Markup("</th>")
                .Element("td", Count(installment.Number), "num").Element("td", Time(installment.DueAt))
                .Element("td", Amount(installment.Amount), "num").Element("td", Count(installment.FailedAttempts), "num")
                .Element("td", installment.LastFailedAt is { } at ? Time(at) : "–").Element("td", installment.DeclineCode ?? "–")
                .Element("td", policy.NextRetryAt(installment) is { } next ? Time(next) : "No retry left").Markup("</tr>");
        }

        html.Markup("</tbody></table>");
    }

    /// <summary>The disputes (chargebacks) of the listed orders.</summary>
    private static void Disputes(HtmlWriter html, List<Order> orders)
    {
        var disputes = orders.Where(static o => !o.Disputes.IsDefaultOrEmpty)
            .SelectMany(static o => o.Disputes.Select(d => (Order: o, Dispute: d)))
            .OrderByDescending(static x => x.Dispute.OpenedAt)
            .ToList();
        html.Markup("<table><caption>").Text($"Disputes ({Count(disputes.Count)})")
            .Markup("</caption><thead><tr><th scope=\"col\">Dispute</th><th scope=\"col\">Order</th><th scope=\"col\">Payment</th>")
            .Markup("<th scope=\"col\" class=\"num\">Amount</th><th scope=\"col\">Reason</th><th scope=\"col\">Status</th>")
            .Markup("<th scope=\"col\">Access</th><th scope=\"col\">Opened</th><th scope=\"col\">Closed</th></tr></thead><tbody>");
        foreach ((Order order, OrderDispute dispute) in disputes)
        {
            html.Markup("<tr><th scope=\"row\">").Text(dispute.Id).Markup("</th>").Element("td", order.Id.ToString())
                .Element("td", dispute.PaymentId).Element("td", Amount(dispute.Amount), "num").Element("td", dispute.Reason ?? "–")
                .Element("td", dispute.Status.ToString()).Element("td", dispute.Access.ToString()).Element("td", Time(dispute.OpenedAt))
                .Element("td", dispute.ClosedAt is { } closed ? Time(closed) : "–").Markup("</tr>");
        }

        html.Markup("</tbody></table>");
    }

    /// <summary>How many stored payment webhooks wait in each state, linking to the Webhooks page that retries them.</summary>
    private static async Task WebhookQueueAsync(DashboardPage page, CancellationToken cancellationToken)
    {
        HtmlWriter html = page.Body;
        if (page.Services.GetService<IWebhookEventStore>() is not { } store)
        {
            return;
        }

        int limit = page.Options.PageSize;
        html.Markup("<table><caption>Payment webhooks</caption><thead><tr><th scope=\"col\">State</th>")
            .Markup("<th scope=\"col\" class=\"num\">Events</th></tr></thead><tbody>");
        foreach ((WebhookEventStatus status, string name) in new[]
        {
            (WebhookEventStatus.Received, "Received, being processed"),
            (WebhookEventStatus.Failed, "Failed"),
            (WebhookEventStatus.Parked, "Parked"),
            (WebhookEventStatus.Unprocessable, "Unprocessable"),
        })
        {
            int count = (await store.ListAsync(status, limit, cancellationToken).ConfigureAwait(false)).Length;
            html.Markup("<tr><th scope=\"row\">").Text(name).Markup("</th>")
                .Element("td", Count(count) + (count == limit ? "+" : ""), "num").Markup("</tr>");
        }

        html.Markup("</tbody></table><p>").Link(page.Base + "/webhooks", "Retry failed webhooks on the Webhooks page").Markup("</p>");
    }

    /// <summary>An amount with the library's currency formatting, such as <c>$1,234.50</c>.</summary>
    private static string Amount(Money money) => money.ToString("C", CultureInfo.InvariantCulture);

    private static string Amount(Money? money) => money is { } m ? Amount(m) : "–";
}
