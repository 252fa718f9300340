using System.Globalization;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Privacy;
using Funnel.Segments;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard;

/// <content>A lead's page beyond the profile: consent history, segments, the score taken apart, export and erasure.</content>
internal static partial class DashboardEndpoints
{
    /// <summary>The value of the erase form's confirmation checkbox.</summary>
    private const string EraseConfirmation = "erase";

    /// <summary>The most of a lead's events the score explanation reads, as the scoring handler does.</summary>
    private const int MaxScoreHistory = 10_000;

    private static void MapLeadPrivacy(RouteGroupBuilder group, Func<HttpContext, DashboardPage> page)
    {
        group.MapGet("/leads/{id:guid}/export", (HttpContext context, Guid id, CancellationToken ct) => ExportLeadAsync(page(context), new LeadId(id), ct));
        group.MapPost("/leads/{id:guid}/erase", (HttpContext context, Guid id, CancellationToken ct) =>
            ActAsync(page(context), "/leads/" + id.ToString("D"), (form, p) => EraseLeadAsync(p, new LeadId(id), form["confirm"], ct)));
    }

    /// <summary>Writes the consent history, the segments, the score explanation and the privacy actions of a lead.</summary>
    private static async Task WriteLeadDetailsAsync(DashboardPage page, LeadProfile lead, CancellationToken cancellationToken)
    {
        HtmlWriter html = page.Body;
        WriteConsentHistory(html, lead);
        await WriteSegmentsAsync(page, lead, cancellationToken).ConfigureAwait(false);
        await WriteScoreAsync(page, lead, cancellationToken).ConfigureAwait(false);
        if (page.Services.GetService<LeadPrivacyService>() is null)
        {
            html.Element("p", "Export and erasure are not set up: call services.AddFunnelPrivacy(o => o.SuppressionKey = ...).");
            return;
        }

        html.Markup("<h2>Personal data</h2><p>").Link(page.Base + "/leads/" + lead.Id.Value.ToString("D") + "/export", "Export everything held about this lead (JSON)").Markup("</p>");
        if (lead.ErasedAt is { } erased)
        {
            html.Element("p", "Erased " + Time(erased) + ".");
        }
        else if (!page.Options.ReadOnly)
        {
            AntiforgeryTokenSet tokens = page.Services.GetRequiredService<IAntiforgery>().GetAndStoreTokens(page.Context);
            html.Markup("<form method=\"post\"").Attribute("action", page.Base + "/leads/" + lead.Id.Value.ToString("D") + "/erase").Markup(">")
                .Hidden(tokens.FormFieldName, tokens.RequestToken)
                .Markup("<p><input type=\"checkbox\" id=\"confirm-erase\" name=\"confirm\" required")
                .Attribute("value", EraseConfirmation)
                .Markup("><label for=\"confirm-erase\">")
                .Text("I confirm: erase this lead's email address, name, IP addresses and user agents from every store. This cannot be undone.")
                .Markup("</label></p><button type=\"submit\">Erase</button></form>");
        }
    }

    private static void WriteConsentHistory(HtmlWriter html, LeadProfile lead)
    {
        if (lead.ConsentHistory.IsDefaultOrEmpty)
        {
            html.Element("p", "No consent recorded.");
            return;
        }

        html.Markup("<table><caption>Consent history, oldest first</caption><thead><tr><th scope=\"col\">At</th><th scope=\"col\">Purpose</th>")
            .Markup("<th scope=\"col\">Status</th><th scope=\"col\">Method</th><th scope=\"col\">Source</th><th scope=\"col\">Wording shown</th>")
            .Markup("<th scope=\"col\">IP address</th><th scope=\"col\">User agent</th></tr></thead><tbody>");
        foreach (ConsentChange change in lead.ConsentHistory)
        {
            html.Markup("<tr>").Element("td", Time(change.At)).Element("td", change.Purpose).Element("td", change.Status.ToString())
                .Element("td", change.Method.ToString()).Element("td", change.Source).Element("td", change.Text ?? "–")
                .Element("td", change.IpAddress ?? "–").Element("td", change.UserAgent ?? "–").Markup("</tr>");
        }

        html.Markup("</tbody></table>");
    }

    private static async Task WriteSegmentsAsync(DashboardPage page, LeadProfile lead, CancellationToken cancellationToken)
    {
        SegmentDefinition[] segments = [.. page.Services.GetServices<SegmentDefinition>()];
        if (segments.Length == 0 || page.Services.GetService<ISegmentMembershipStore>() is not { } members)
        {
            return;
        }

        HtmlWriter html = page.Body;
        html.Markup("<table><caption>Segments</caption><thead><tr><th scope=\"col\">Segment</th><th scope=\"col\">Member</th>")
            .Markup("<th scope=\"col\">Since</th></tr></thead><tbody>");
        foreach (SegmentDefinition segment in segments)
        {
            SegmentMember? member = await members.FindAsync(segment.Key, lead.Id, cancellationToken).ConfigureAwait(false);
            html.Markup("<tr><th scope=\"row\">").Text(segment.Key).Markup("</th>").Element("td", member is { IsMember: true } ? "yes" : "no")
                .Element("td", member is null ? "–" : Time(member.ChangedAt)).Markup("</tr>");
        }

        html.Markup("</tbody></table>");
    }

    /// <summary>Writes the lead's score taken apart by the registered model, at the time of their latest event (when the scoring handler last scored them).</summary>
    private static async Task WriteScoreAsync(DashboardPage page, LeadProfile lead, CancellationToken cancellationToken)
    {
        ScoringModel[] models = [.. page.Services.GetServices<ScoringModel>()];
        if (models.Length != 1 || page.Services.GetService<IFunnelEventLog>() is not { } log)
        {
            return;
        }

        IReadOnlyList<LoggedEvent> history = await log.ReadPersonAsync(lead.Id, MaxScoreHistory, cancellationToken).ConfigureAwait(false);
        if (history.Count == 0)
        {
            return;
        }

        Instant at = history.Max(static e => e.Event.OccurredAt);
        ScoreExplanation why = new LeadScorer(models[0]).Explain(history.Select(static e => e.Event), at);
        HtmlWriter html = page.Body;
        html.Markup("<table><caption>").Text($"Score {Points(why.Score)} at {Time(at)}: each rule's points (after decay and the cap)")
            .Markup("</caption><thead><tr><th scope=\"col\">Rule</th><th scope=\"col\" class=\"num\">Events</th>")
            .Markup("<th scope=\"col\" class=\"num\">Before the cap</th><th scope=\"col\" class=\"num\">Cap</th><th scope=\"col\" class=\"num\">Points</th></tr></thead><tbody>");
        foreach (RuleScore rule in why.Rules)
        {
            html.Markup("<tr><th scope=\"row\">").Text(rule.Rule.When.ToString()).Markup("</th>").Element("td", Count(rule.Events.Length), "num")
                .Element("td", Points(rule.Uncapped), "num").Element("td", "±" + Points(rule.Rule.Cap), "num")
                .Element("td", Points(rule.Points), "num").Markup("</tr>");
        }

        foreach (ScoreContribution adjustment in why.Adjustments)
        {
            html.Markup("<tr><th scope=\"row\">").Text("Adjustment: " + (adjustment.Reason ?? adjustment.EventType)).Markup("</th>").Element("td", "1", "num")
                .Element("td", Points(adjustment.DecayedPoints), "num").Element("td", "–", "num")
                .Element("td", Points(adjustment.DecayedPoints), "num").Markup("</tr>");
        }

        html.Markup("</tbody></table>");
    }

    private static async Task<IResult> ExportLeadAsync(DashboardPage page, LeadId id, CancellationToken cancellationToken)
    {
        DashboardPage.SetSecurityHeaders(page.Context.Response);
        if (page.Services.GetService<LeadPrivacyService>() is not { } privacy)
        {
            page.Body.Element("p", "Export is not set up: call services.AddFunnelPrivacy(o => o.SuppressionKey = ...).");
            return page.Render("Export", StatusCodes.Status404NotFound);
        }

        if (page.Services.GetService<ILeadStore>() is not { } leads || await leads.FindAsync(id, cancellationToken).ConfigureAwait(false) is null)
        {
            page.Body.Element("p", "No lead has this id.");
            return page.Render("Export", StatusCodes.Status404NotFound);
        }

        LeadDataExport export = await privacy.ExportAsync(id, cancellationToken).ConfigureAwait(false);
        return Results.File(System.Text.Encoding.UTF8.GetBytes(export.ToJson()), "application/json", $"lead-{id.Value:D}.json");
    }

    private static async Task<IResult?> EraseLeadAsync(DashboardPage page, LeadId id, string? confirm, CancellationToken cancellationToken)
    {
        if (confirm != EraseConfirmation)
        {
            return Problem(StatusCodes.Status400BadRequest, "Tick the confirmation box to erase the lead.");
        }

        if (page.Services.GetService<LeadPrivacyService>() is not { } privacy)
        {
            return Problem(StatusCodes.Status404NotFound, "Erasure is not set up: call services.AddFunnelPrivacy(o => o.SuppressionKey = ...).");
        }

        if (page.Services.GetService<ILeadStore>() is not { } leads || await leads.FindAsync(id, cancellationToken).ConfigureAwait(false) is null)
        {
            return Problem(StatusCodes.Status404NotFound, "No lead has this id.");
        }

        await privacy.EraseAsync(id, cancellationToken).ConfigureAwait(false);
        return null;
    }

    private static string Points(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
