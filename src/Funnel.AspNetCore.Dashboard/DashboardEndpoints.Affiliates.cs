using System.Collections.Immutable;
using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.AspNetCore.Dashboard;

/// <content>The Affiliates page: each affiliate's clicks, sales and commission, the payout ledger, and its actions.</content>
internal static partial class DashboardEndpoints
{
    private const string NoAffiliates = "Affiliates are not set up: call services.AddFunnelAdvocacy() and register AffiliateProgramSettings.";

    private static void MapAffiliates(RouteGroupBuilder group, Func<HttpContext, DashboardPage> page)
    {
        group.MapGet("/affiliates", (HttpContext context, CancellationToken ct) => AffiliatesAsync(page(context), ct));
        group.MapPost("/affiliates/approve", (HttpContext context, CancellationToken ct) =>
            ActAsync(page(context), "/affiliates", (form, p) => DecideAffiliateAsync(p, form["affiliate"], approve: true, ct)));
        group.MapPost("/affiliates/reject", (HttpContext context, CancellationToken ct) =>
            ActAsync(page(context), "/affiliates", (form, p) => DecideAffiliateAsync(p, form["affiliate"], approve: false, ct)));
        group.MapPost("/affiliates/approve-cleared", (HttpContext context, CancellationToken ct) =>
            ActAsync(page(context), "/affiliates", (form, p) => ApproveClearedAsync(p, ct)));
        group.MapPost("/affiliates/mark-paid", (HttpContext context, CancellationToken ct) =>
            ActAsync(page(context), "/affiliates", (form, p) => MarkPaidAsync(p, form["affiliate"], ct)));
    }

    /// <summary>The affiliate program, or <see langword="null"/> when it is not set up (no <c>AddFunnelAdvocacy</c>, or no settings).</summary>
    private static AffiliateProgram? ProgramOf(DashboardPage page) =>
        page.Services.GetService<IAffiliateStore>() is null || page.Services.GetService<AffiliateProgramSettings>() is null
            ? null
            : page.Services.GetService<AffiliateProgram>();

    private static async Task<IResult> AffiliatesAsync(DashboardPage page, CancellationToken cancellationToken)
    {
        HtmlWriter html = page.Body;
        if (ProgramOf(page) is not { } program || page.Services.GetService<IFunnelEventLog>() is not { } log)
        {
            html.Element("p", NoAffiliates);
            return page.Render("Affiliates");
        }

        // The store lists no affiliates; the log names each one that applied, by code.
        List<FunnelEvent> events = await ReadReportEventsAsync(page, log, cancellationToken).ConfigureAwait(false);
        IAffiliateStore store = page.Services.GetRequiredService<IAffiliateStore>();
        var affiliates = new List<Affiliate>();
        foreach (string code in events.OfType<AffiliateApplied>().Select(static e => e.Code).Distinct(StringComparer.Ordinal).Take(page.Options.PageSize))
        {
            if (await store.FindByCodeAsync(code, cancellationToken).ConfigureAwait(false) is { } affiliate)
            {
                affiliates.Add(affiliate);
            }
        }

        if (affiliates.Count == 0)
        {
            html.Element("p", "No affiliate has applied yet.");
            return page.Render("Affiliates");
        }

        if (!page.Options.ReadOnly)
        {
            html.Markup("<p>");
            page.ActionForm("/affiliates/approve-cleared", "Approve commissions past the refund window");
            html.Markup("</p>");
        }

        var ledger = new List<(Affiliate Affiliate, CommissionEntry Entry)>();
        var payouts = new List<(Affiliate Affiliate, Payout Payout)>();
        html.Markup("<table><caption>").Text($"Affiliates ({Count(affiliates.Count)}), in the order they applied")
            .Markup("</caption><thead><tr><th scope=\"col\">Affiliate</th><th scope=\"col\">Status</th><th scope=\"col\">Lead</th>")
            .Markup("<th scope=\"col\" class=\"num\">Clicks</th><th scope=\"col\" class=\"num\">Sales</th>")
            .Markup("<th scope=\"col\" class=\"num\">Conversion</th><th scope=\"col\" class=\"num\">Sales value</th>")
            .Markup("<th scope=\"col\" class=\"num\">Commission</th><th scope=\"col\" class=\"num\">EPC</th>")
            .Markup("<th scope=\"col\" class=\"num\">Pending</th><th scope=\"col\" class=\"num\">Approved, unpaid</th>")
            .Markup("<th scope=\"col\" class=\"num\">Paid</th>");
        html.Markup(page.Options.ReadOnly ? "</tr></thead><tbody>" : "<th scope=\"col\">Actions</th></tr></thead><tbody>");
        Currency currency = program.Settings.Currency;
        foreach (Affiliate affiliate in affiliates)
        {
            AffiliateStats stats = await program.StatsAsync(affiliate.Id, cancellationToken).ConfigureAwait(false);
            ImmutableArray<CommissionEntry> entries = await program.LedgerAsync(affiliate.Id, cancellationToken).ConfigureAwait(false);
            ledger.AddRange(entries.Select(e => (affiliate, e)));
            payouts.AddRange((await program.PayoutsAsync(affiliate.Id, cancellationToken).ConfigureAwait(false)).Select(p => (affiliate, p)));
            Money Balance(CommissionStatus status) => Money.Sum(entries.Where(e => e.Status == status).Select(static e => e.Amount), currency);
            Money approved = Balance(CommissionStatus.Approved);
            html.Markup("<tr><th scope=\"row\">").Text(affiliate.Code).Markup("</th>").Element("td", affiliate.Status.ToString())
                .Markup("<td>").Link(page.Base + "/leads/" + affiliate.Lead.Value.ToString("D"), affiliate.Lead.Value.ToString("D")).Markup("</td>")
                .Element("td", Count(stats.Clicks), "num").Element("td", Count(stats.Conversions), "num")
                .Element("td", Percent(stats.ConversionRate), "num").Element("td", Amount(stats.Sales), "num")
                .Element("td", Amount(stats.Commission), "num").Element("td", Amount(stats.EarningsPerClick), "num")
                .Element("td", Amount(Balance(CommissionStatus.Pending)), "num").Element("td", Amount(approved), "num")
                .Element("td", Amount(stats.Paid), "num");
            if (!page.Options.ReadOnly)
            {
                html.Markup("<td>");
                string id = affiliate.Id.ToString();
                if (affiliate.Status == AffiliateStatus.Pending)
                {
                    page.ActionForm("/affiliates/approve", "Approve " + affiliate.Code, ("affiliate", id));
                    html.Markup(" ");
                    page.ActionForm("/affiliates/reject", "Reject " + affiliate.Code, ("affiliate", id));
                }

                if (approved.IsPositive && (program.Settings.MinimumPayout is not { } minimum || approved >= minimum))
                {
                    page.ActionForm("/affiliates/mark-paid", $"Mark {Amount(approved)} paid to {affiliate.Code}", ("affiliate", id));
                }

                html.Markup("</td>");
            }

            html.Markup("</tr>");
        }

        html.Markup("</tbody></table>");
        if (program.Settings.MinimumPayout is { } least)
        {
            html.Element("p", $"An approved balance is paid once it reaches {Amount(least)}.");
        }

        html.Markup("<table><caption>").Text($"Payout ledger: the latest {Count(Math.Min(ledger.Count, page.Options.PageSize))} of {Count(ledger.Count)} entries, newest first")
            .Markup("</caption><thead><tr><th scope=\"col\">Affiliate</th><th scope=\"col\">Order</th><th scope=\"col\">Earned</th>")
            .Markup("<th scope=\"col\">Clears</th><th scope=\"col\">Status</th><th scope=\"col\" class=\"num\">Amount</th>")
            .Markup("<th scope=\"col\" class=\"num\">Clawed back</th><th scope=\"col\">Payout</th></tr></thead><tbody>");
        foreach ((Affiliate affiliate, CommissionEntry entry) in ledger.OrderByDescending(static x => x.Entry.EarnedAt).Take(page.Options.PageSize))
        {
            html.Markup("<tr><th scope=\"row\">").Text(affiliate.Code).Markup("</th>").Element("td", entry.Order.ToString())
                .Element("td", Time(entry.EarnedAt)).Element("td", Time(entry.ClearsAt)).Element("td", entry.Status.ToString())
                .Element("td", Amount(entry.Amount), "num").Element("td", Amount(entry.ClawedBack), "num")
                .Element("td", entry.Payout?.ToString("D") ?? "–").Markup("</tr>");
        }

        html.Markup("</tbody></table><table><caption>").Text($"Payouts ({Count(payouts.Count)}), newest first")
            .Markup("</caption><thead><tr><th scope=\"col\">Payout</th><th scope=\"col\">Affiliate</th><th scope=\"col\">Made</th>")
            .Markup("<th scope=\"col\" class=\"num\">Amount</th><th scope=\"col\" class=\"num\">Entries</th></tr></thead><tbody>");
        foreach ((Affiliate affiliate, Payout payout) in payouts.OrderByDescending(static x => x.Payout.CreatedAt).Take(page.Options.PageSize))
        {
            html.Markup("<tr><th scope=\"row\">").Text(payout.Id.ToString("D")).Markup("</th>").Element("td", affiliate.Code)
                .Element("td", Time(payout.CreatedAt)).Element("td", Amount(payout.Amount), "num")
                .Element("td", Count(payout.Entries.Length), "num").Markup("</tr>");
        }

        html.Markup("</tbody></table>");
        return page.Render("Affiliates");
    }

    private static async Task<IResult?> DecideAffiliateAsync(DashboardPage page, string? affiliate, bool approve, CancellationToken cancellationToken)
    {
        if (!Guid.TryParseExact(affiliate, "D", out Guid id))
        {
            return Problem(StatusCodes.Status400BadRequest, "'affiliate' must be an affiliate id (a GUID).");
        }

        if (ProgramOf(page) is not { } program)
        {
            return Problem(StatusCodes.Status404NotFound, NoAffiliates);
        }

        try
        {
            await program.DecideAsync(new AffiliateId(id), approve, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (KeyNotFoundException)
        {
            return Problem(StatusCodes.Status404NotFound, $"No affiliate has the id {id:D}.");
        }
        catch (InvalidOperationException)
        {
            return Problem(StatusCodes.Status409Conflict, "The affiliate is no longer pending: it was decided meanwhile; reload the page.");
        }
    }

    private static async Task<IResult?> ApproveClearedAsync(DashboardPage page, CancellationToken cancellationToken)
    {
        if (ProgramOf(page) is not { } program)
        {
            return Problem(StatusCodes.Status404NotFound, NoAffiliates);
        }

        await program.ApproveClearedAsync(cancellationToken).ConfigureAwait(false);
        return null;
    }

    private static async Task<IResult?> MarkPaidAsync(DashboardPage page, string? affiliate, CancellationToken cancellationToken)
    {
        if (!Guid.TryParseExact(affiliate, "D", out Guid id))
        {
            return Problem(StatusCodes.Status400BadRequest, "'affiliate' must be an affiliate id (a GUID).");
        }

        if (ProgramOf(page) is not { } program)
        {
            return Problem(StatusCodes.Status404NotFound, NoAffiliates);
        }

        try
        {
            (Payout? payout, _) = await program.PayOutAsync(new AffiliateId(id), cancellationToken).ConfigureAwait(false);
            return payout is null
                ? Problem(StatusCodes.Status409Conflict, "Nothing to pay: the affiliate has no approved balance, or it is below the minimum payout.")
                : null;
        }
        catch (KeyNotFoundException)
        {
            return Problem(StatusCodes.Status404NotFound, $"No affiliate has the id {id:D}.");
        }
    }
}
