using System.Collections.Immutable;
using System.Globalization;
using Funnel.AspNetCore.Dashboard.Figures;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Leads;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Sequences;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Text;

namespace Funnel.AspNetCore.Dashboard;

/// <summary>The dashboard's pages (GET) and actions (POST, antiforgery-checked, refused when read-only).</summary>
internal static partial class DashboardEndpoints
{
    private const int ParkedLookupLimit = 10_000;

    public static void Map(RouteGroupBuilder group, string prefix, FunnelDashboardOptions options)
    {
        DashboardPage Page(HttpContext context) => new(context, prefix, options);

        group.MapGet("/", (HttpContext context, CancellationToken ct) => OverviewAsync(Page(context), ct));
        group.MapGet("/email", (HttpContext context, string? state, int? page, CancellationToken ct) =>
            EmailAsync(Page(context), state, page ?? 1, ct));
        group.MapPost("/email/retry", (HttpContext context, CancellationToken ct) =>
            ActAsync(Page(context), "/email", (form, p) => ChangeSendAsync(p, form["key"], retry: true, ct)));
        group.MapPost("/email/cancel", (HttpContext context, CancellationToken ct) =>
            ActAsync(Page(context), "/email", (form, p) => ChangeSendAsync(p, form["key"], retry: false, ct)));
        group.MapGet("/sequences", (HttpContext context, CancellationToken ct) => SequencesAsync(Page(context), ct));
        group.MapGet("/broadcasts", (HttpContext context, CancellationToken ct) => BroadcastsAsync(Page(context), ct));
        group.MapPost("/broadcasts/cancel", (HttpContext context, CancellationToken ct) =>
            ActAsync(Page(context), "/broadcasts", (form, p) => CancelBroadcastAsync(p, form["key"], ct)));
        group.MapGet("/webhooks", (HttpContext context, string? outcome, string? eventId, CancellationToken ct) =>
            WebhooksAsync(Page(context), outcome, eventId, ct));
        group.MapPost("/webhooks/retry", (HttpContext context, CancellationToken ct) =>
            ActAsync(Page(context), "/webhooks", (form, p) => RetryWebhookAsync(p, form["eventId"], ct)));
        group.MapPost("/webhooks/process-parked", (HttpContext context, CancellationToken ct) =>
            ActAsync(Page(context), "/webhooks", (form, p) => ProcessParkedWebhookAsync(p, form["eventId"], ct)));
        group.MapGet("/pipeline", (HttpContext context, CancellationToken ct) => PipelineAsync(Page(context), ct));
        group.MapPost("/pipeline/retry", (HttpContext context, CancellationToken ct) =>
            ActAsync(Page(context), "/pipeline", (form, p) => RetryParkedAsync(p, form["handler"], form["position"], ct)));
        MapPayments(group, Page);
        MapExperiments(group, Page);
        MapAffiliates(group, Page);
        MapLeadPrivacy(group, Page);
        group.MapGet("/leads", (HttpContext context, string? email, CancellationToken ct) => LeadsAsync(Page(context), email, ct));
        group.MapGet("/leads/{id:guid}", (HttpContext context, Guid id, int? page, CancellationToken ct) =>
            LeadAsync(Page(context), new LeadId(id), page ?? 1, ct));
    }

    private static async Task<IResult> OverviewAsync(DashboardPage page, CancellationToken cancellationToken)
    {
        HtmlWriter html = page.Body;
        if (!ReadRange(page, out OverviewRange range, out DateTimeZone zone))
        {
            return page.Render("Overview", StatusCodes.Status400BadRequest);
        }

        if (page.Services.GetService<IFunnelEventLog>() is not { } log)
        {
            html.Element("p", "No event log is registered: call services.AddFunnel().");
            return page.Render("Overview");
        }

        DashboardFigures figures = await FiguresAsync(page, log, cancellationToken).ConfigureAwait(false);
        (OverviewFigures overview, string? reportError, string? seriesError, Currency seriesCurrency) = figures.Read(
            state => (state.Overview(range.From, range.To), state.ReportError, state.SeriesError, state.SeriesCurrency));
        html.Markup("<p>").Text($"Every figure below is for {range} ({zone.Id}): the funnel and its key figures count the people "
            + $"first seen in the range, with all their events; ad spend, the series and the {Count(overview.Events)} events "
            + "by type are those that happened in the range.").Markup("</p>");
        FunnelReport? report = overview.Report;
        if (reportError is not null && page.Options.Funnel is not null)
        {
            html.Element("p", "The report cannot be computed from the log: " + reportError);
        }
        else if (page.Options.Funnel is { } funnel && report is not null)
        {
            FunnelMetrics overall = report.Overall;
            html.Markup("<h2>Key figures</h2><div class=\"kpis\">");
            Kpi(html, "Entered the funnel", Count(overall.Entered));
            Kpi(html, "Orders", Count(overall.Orders));
            Kpi(html, "Customers", Count(overall.Customers));
            Kpi(html, "Revenue", Amount(overall.Revenue));
            Kpi(html, "Net revenue", Amount(overall.NetRevenue));
            Kpi(html, "Refund rate", Percent(Ratio.Of(overall.Refunds, overall.Revenue)));
            Kpi(html, "Average order value", Amount(overall.AverageOrderValue));
            Kpi(html, "Conversion", Percent(overall.OverallConversion));
            Kpi(html, "Acquisition cost (CAC)", Amount(overall.CustomerAcquisitionCost));
            Kpi(html, "Return on ad spend", Percent(overall.ReturnOnAdSpend));
            Kpi(html, "Customer lifetime value", Amount(report.CustomerLifetimeValue));
            Kpi(html, "Emails sent", Count(report.Email.Sent));
            Kpi(html, "Open rate", Percent(report.Email.OpenRate));
            Kpi(html, "Click rate", Percent(report.Email.ClickRate));
            Kpi(html, "Unsubscribe rate", Percent(report.Email.UnsubscribeRate));
            Kpi(html, "Bounce rate", Percent(report.Email.BounceRate));
            html.Markup("</div><h2>").Text(funnel.Name).Markup("</h2>");
            FunnelSvg.Write(html, overall.Steps);
            html.Markup("<table><caption>Steps of the funnel</caption><thead><tr><th scope=\"col\">Step</th>")
                .Markup("<th scope=\"col\" class=\"num\">Reached</th><th scope=\"col\" class=\"num\">From previous</th>")
                .Markup("<th scope=\"col\" class=\"num\">Drop-off</th><th scope=\"col\" class=\"num\">From start</th></tr></thead><tbody>");
            for (int i = 0; i < overall.Steps.Length; i++)
            {
                StepResult step = overall.Steps[i];
                long dropped = i == 0 ? 0 : overall.Steps[i - 1].Reached - step.Reached;
                html.Markup("<tr><th scope=\"row\">").Text(step.Step.Name).Markup("</th>")
                    .Element("td", Count(step.Reached), "num").Element("td", Percent(step.FromPrevious), "num")
                    .Element("td", i == 0 ? "–" : Count(dropped), "num").Element("td", Percent(step.FromStart), "num").Markup("</tr>");
            }

            html.Markup("</tbody></table>");
            Segments(html, "By channel", "Channel", report.ByChannel);
            Segments(html, "By campaign", "Campaign", report.ByCampaign);
        }
        else
        {
            html.Element("p", "Set FunnelDashboardOptions.Funnel to see the funnel chart and its key figures.");
        }

        TimeSeries(html, overview, range, zone, seriesError, seriesCurrency);

        html.Markup("<table><caption>Events by type</caption><thead><tr><th scope=\"col\">Type</th>")
            .Markup("<th scope=\"col\" class=\"num\">Events</th></tr></thead><tbody>");
        foreach ((string type, long count) in overview.Types)
        {
            html.Markup("<tr>").Element("td", type).Element("td", Count(count), "num").Markup("</tr>");
        }

        html.Markup("</tbody></table>");
        return page.Render("Overview");
    }

    /// <summary>Brings the figures up to date (waiting at most <see cref="FunnelDashboardOptions.FiguresWait"/>) and says on the page how far they are.</summary>
    private static async Task<DashboardFigures> FiguresAsync(DashboardPage page, IFunnelEventLog log, CancellationToken cancellationToken)
    {
        DashboardFigures figures = page.Services.GetRequiredService<DashboardFigures>();
        FiguresProgress progress = await figures.CatchUpAsync(log, page.Options.FiguresWait, cancellationToken).ConfigureAwait(false);
        HtmlWriter html = page.Body;
        if (progress.Error is { } error)
        {
            html.Markup("<p role=\"status\"><strong>").Text($"The figures could not be brought up to date: {error} They include "
                + $"the events up to position {Count(progress.Position)}; reload the page to try again.").Markup("</strong></p>");
        }
        else if (progress.Behind > 0)
        {
            string behind = progress.Behind >= DashboardFigures.BehindCountLimit ? Count(progress.Behind) + "+" : Count(progress.Behind);
            html.Markup("<p role=\"status\"><strong>").Text($"Catching up with the event log: the figures include the events up to "
                + $"position {Count(progress.Position)}, and {behind} more are still to be read. Reload the page to see "
                + "them move.").Markup("</strong></p>");
        }
        else
        {
            html.Markup("<p class=\"muted\">").Text($"Computed from the whole event log, up to position {Count(progress.Position)}.")
                .Markup("</p>");
        }

        return figures;
    }

    /// <summary>Reads the log's first <see cref="FunnelDashboardOptions.MaxReportEvents"/> events (Experiments and Affiliates) and says on the page how many the figures come from.</summary>
    private static async Task<List<FunnelEvent>> ReadReportEventsAsync(DashboardPage page, IFunnelEventLog log, CancellationToken cancellationToken)
    {
        List<FunnelEvent> events = [];
        long after = 0;
        while (events.Count < page.Options.MaxReportEvents)
        {
            int max = Math.Min(5_000, page.Options.MaxReportEvents - events.Count);
            IReadOnlyList<LoggedEvent> read = await log.ReadAsync(after, max, cancellationToken).ConfigureAwait(false);
            events.AddRange(read.Select(e => e.Event));
            if (read.Count < max)
            {
                break;
            }

            after = read[^1].Position;
        }

        page.Body.Markup("<p class=\"muted\">").Text(
            events.Count >= page.Options.MaxReportEvents
                ? $"Computed from the first {Count(events.Count)} events of the log (MaxReportEvents)."
                : $"Computed from all {Count(events.Count)} events of the log.").Markup("</p>");
        return events;
    }

    private static async Task<IResult> SequencesAsync(DashboardPage page, CancellationToken cancellationToken)
    {
        HtmlWriter html = page.Body;
        SequenceDefinition[] sequences = [.. page.Services.GetServices<SequenceDefinition>().DistinctBy(static s => s.Key).OrderBy(static s => s.Key, StringComparer.Ordinal)];
        if (sequences.Length == 0)
        {
            html.Element("p", "No sequences are registered: add them with services.AddSingleton(sequenceDefinition).");
            return page.Render("Sequences");
        }

        if (page.Services.GetService<IFunnelEventLog>() is not { } log)
        {
            html.Element("p", "No event log is registered: call services.AddFunnel().");
            return page.Render("Sequences");
        }

        DashboardFigures figures = await FiguresAsync(page, log, cancellationToken).ConfigureAwait(false);
        // One read of the figures: each sequence's enrolments, each email step's figures and each branch's paths.
        Dictionary<string, long> enrolled = new(StringComparer.Ordinal);
        Dictionary<string, BroadcastMetrics> byEmail = new(StringComparer.Ordinal);
        Dictionary<(string, string), (long Then, long Else)> paths = [];
        figures.Read(state =>
        {
            foreach (SequenceDefinition sequence in sequences)
            {
                enrolled[sequence.Key] = state.Enrolled(sequence.Key);
                foreach (SequenceStep step in sequence.AllSteps())
                {
                    if (step.IsEmail)
                    {
                        byEmail[step.Key] = state.EmailKey(step.Key);
                    }
                    else
                    {
                        paths[(sequence.Key, step.Key)] = state.Paths(sequence.Key, step.Key);
                    }
                }
            }
        });
        foreach (SequenceDefinition sequence in sequences)
        {
            html.Markup("<table><caption>").Text($"{sequence.Key}: {Count(enrolled.GetValueOrDefault(sequence.Key))} enrolled")
                .Markup("</caption><thead><tr><th scope=\"col\">Step</th><th scope=\"col\">Does</th>")
                .Markup("<th scope=\"col\" class=\"num\">Sent</th><th scope=\"col\" class=\"num\">Open rate</th>")
                .Markup("<th scope=\"col\" class=\"num\">Click rate</th><th scope=\"col\" class=\"num\">Unsubscribed</th>")
                .Markup("<th scope=\"col\" class=\"num\">Suppressed</th></tr></thead><tbody>");
            foreach (SequenceStep step in sequence.AllSteps())
            {
                html.Markup("<tr><th scope=\"row\">").Text(step.Key).Markup("</th>");
                if (step.IsEmail)
                {
                    BroadcastMetrics metrics = byEmail[step.Key];
                    string email = step.WinnerTest is { } test && page.Services.GetService<ISequenceTestStore>() is { } tests
                        ? $"Email: {step.Subject}; {await WinnerTestAsync(page, tests, sequence.Key, step, test, cancellationToken).ConfigureAwait(false)}"
                        : "Email: " + step.Subject;
                    html.Element("td", email).Element("td", Count(metrics.Email.Sent), "num")
                        .Element("td", Percent(metrics.Email.OpenRate), "num").Element("td", Percent(metrics.Email.ClickRate), "num")
                        .Element("td", Count(metrics.Email.Unsubscribes), "num").Element("td", Count(metrics.Suppressed), "num");
                }
                else
                {
                    string does = step.Action is { } action
                        ? action.ToString()
                        : $"Branch: {Count(paths.GetValueOrDefault((sequence.Key, step.Key)).Then)} took then ({string.Join(", ", step.Then.Select(static s => s.Key))}), "
                            + $"{Count(paths.GetValueOrDefault((sequence.Key, step.Key)).Else)} else ({string.Join(", ", step.Else.Select(static s => s.Key))})";
                    html.Markup("<td colspan=\"6\">").Text(does).Markup("</td>");
                }

                html.Markup("</tr>");
            }

            html.Markup("</tbody></table>");
        }

        return page.Render("Sequences");
    }

    /// <summary>Describes a step's automatic winner test: its decision, or each variant's counted sends and conversions so far.</summary>
    private static async Task<string> WinnerTestAsync(DashboardPage page, ISequenceTestStore tests, string sequence, SequenceStep step, StepWinnerTest test, CancellationToken cancellationToken)
    {
        string key = EmailVariants.TestKey(sequence, step.Key);
        if (await tests.FindDecisionAsync(key, cancellationToken).ConfigureAwait(false) is { } decision)
        {
            return $"winner test decided {Time(decision.DecidedAt)}: {decision.Winner} "
                + (decision.Significant ? "(significantly better)" : "(no variant significantly better: control kept)");
        }

        Instant countedBy = page.Services.GetRequiredService<IClock>().GetCurrentInstant() - test.Wait;
        ImmutableArray<Funnel.Email.VariantResult> tally = await tests.TallyAsync(key, countedBy, cancellationToken).ConfigureAwait(false);
        string metric = test.Metric == VariantWinnerMetric.Opens ? "opened" : "clicked";
        return "winner test running, each variant needs " + Count(test.MinimumSamplePerVariant) + " counted sends: "
            + string.Join(", ", step.Variants.Select(v => tally.FirstOrDefault(r => r.Variant == v.Key) is { } r
                ? $"{v.Key} {Count(r.Sent)} counted, {Count(r.Converted)} {metric}"
                : $"{v.Key} 0 counted"));
    }

    private static async Task<IResult> BroadcastsAsync(DashboardPage page, CancellationToken cancellationToken)
    {
        HtmlWriter html = page.Body;
        if (page.Services.GetService<IBroadcastStore>() is not { } store)
        {
            html.Element("p", "No broadcast store is registered: call services.AddFunnelSequences().");
            return page.Render("Broadcasts");
        }

        ImmutableArray<Broadcast> broadcasts = await store.ListAsync(page.Options.PageSize, cancellationToken).ConfigureAwait(false);
        Dictionary<string, BroadcastMetrics> byKey = new(StringComparer.Ordinal);
        if (!broadcasts.IsEmpty && page.Services.GetService<IFunnelEventLog>() is { } log)
        {
            DashboardFigures figures = await FiguresAsync(page, log, cancellationToken).ConfigureAwait(false);
            figures.Read(state =>
            {
                foreach (Broadcast broadcast in broadcasts)
                {
                    byKey[broadcast.Definition.Key] = state.EmailKey(broadcast.Definition.Key);
                }
            });
        }

        html.Markup("<table><caption>").Text($"The latest {Count(page.Options.PageSize)} broadcasts, newest first")
            .Markup("</caption><thead><tr><th scope=\"col\">Broadcast</th><th scope=\"col\">Subject</th>")
            .Markup("<th scope=\"col\">Segment</th><th scope=\"col\">Status</th><th scope=\"col\">Starts</th>")
            .Markup("<th scope=\"col\" class=\"num\">Queued</th><th scope=\"col\" class=\"num\">Sent</th>")
            .Markup("<th scope=\"col\" class=\"num\">Open rate</th><th scope=\"col\" class=\"num\">Click rate</th>")
            .Markup("<th scope=\"col\" class=\"num\">Unsubscribed</th><th scope=\"col\" class=\"num\">Suppressed</th><th scope=\"col\">A/B winner</th>");
        if (!page.Options.ReadOnly)
        {
            html.Markup("<th scope=\"col\">Actions</th>");
        }

        html.Markup("</tr></thead><tbody>");
        foreach (Broadcast broadcast in broadcasts)
        {
            BroadcastDefinition definition = broadcast.Definition;
            BroadcastMetrics metrics = byKey.GetValueOrDefault(definition.Key) ?? BroadcastMetrics.Compute([], definition.Key);
            string starts = definition.SendAt is { } at ? Time(at) : definition.LocalSendAt!.Value.ToString("uuuu-MM-dd HH:mm", CultureInfo.InvariantCulture) + " local";
            html.Markup("<tr>").Element("td", definition.Key).Element("td", definition.Subject).Element("td", definition.Segment)
                .Element("td", broadcast.Status.ToString()).Element("td", starts).Element("td", Count(broadcast.Queued), "num")
                .Element("td", Count(metrics.Email.Sent), "num").Element("td", Percent(metrics.Email.OpenRate), "num")
                .Element("td", Percent(metrics.Email.ClickRate), "num").Element("td", Count(metrics.Email.Unsubscribes), "num")
                .Element("td", Count(metrics.Suppressed), "num").Element("td", WinnerOf(broadcast));
            if (!page.Options.ReadOnly)
            {
                html.Markup("<td>");
                if (broadcast.Status != BroadcastStatus.Cancelled)
                {
                    page.ActionForm("/broadcasts/cancel", "Cancel", ("key", definition.Key));
                }

                html.Markup("</td>");
            }

            html.Markup("</tr>");
        }

        html.Markup("</tbody></table>");
        if (broadcasts.IsEmpty)
        {
            html.Element("p", "No broadcasts yet: schedule one with BroadcastService.ScheduleAsync.");
        }

        return page.Render("Broadcasts");
    }

    /// <summary>Describes a broadcast's automatic winner test: where it stands, or the variant chosen and whether it was significant.</summary>
    private static string WinnerOf(Broadcast broadcast) => (broadcast.Definition.WinnerTest, broadcast.Test) switch
    {
        (null, _) => "–",
        (_, null) => "test not started",
        (_, { Winner: { } winner, Significant: true }) => winner + " (significant)",
        (_, { Winner: { } winner }) => winner + " (no significant winner)",
        (_, { Stage: var stage }) => stage switch
        {
            BroadcastTestStage.Testing => "queuing the test",
            BroadcastTestStage.Waiting => "waiting for results until " + Time(broadcast.DueAt),
            _ => "reading the results",
        },
    };

    private static async Task<IResult?> CancelBroadcastAsync(DashboardPage page, string? key, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(key))
        {
            return Problem(StatusCodes.Status400BadRequest, "'key' is required: the broadcast's key.");
        }

        if (page.Services.GetService<BroadcastService>() is not { } broadcasts)
        {
            return Problem(StatusCodes.Status404NotFound, "Broadcasts are not set up: call services.AddFunnelSequences().");
        }

        if (await broadcasts.FindAsync(key, cancellationToken).ConfigureAwait(false) is null)
        {
            return Problem(StatusCodes.Status404NotFound, $"No broadcast has the key '{key}'.");
        }

        // Cancelling twice (two admins, or a double click) is harmless: the broadcast is cancelled either way.
        await broadcasts.CancelAsync(key, cancellationToken).ConfigureAwait(false);
        return null;
    }

    private static void Segments(HtmlWriter html, string caption, string dimension, ImmutableArray<FunnelMetrics> segments)
    {
        if (segments.IsDefaultOrEmpty)
        {
            return;
        }

        html.Markup("<table><caption>").Text(caption).Markup("</caption><thead><tr><th scope=\"col\">").Text(dimension).Markup("</th>")
            .Markup("<th scope=\"col\" class=\"num\">Entered</th><th scope=\"col\" class=\"num\">Orders</th>")
            .Markup("<th scope=\"col\" class=\"num\">Revenue</th><th scope=\"col\" class=\"num\">Conversion</th></tr></thead><tbody>");
        foreach (FunnelMetrics segment in segments)
        {
            html.Markup("<tr><th scope=\"row\">").Text(segment.Segment ?? "(none)").Markup("</th>")
                .Element("td", Count(segment.Entered), "num").Element("td", Count(segment.Orders), "num")
                .Element("td", Amount(segment.Revenue), "num").Element("td", Percent(segment.OverallConversion), "num").Markup("</tr>");
        }

        html.Markup("</tbody></table>");
    }

    private static async Task<IResult> EmailAsync(DashboardPage page, string? stateText, int pageNumber, CancellationToken cancellationToken)
    {
        HtmlWriter html = page.Body;
        SendState state = Enum.TryParse(stateText, ignoreCase: false, out SendState parsed) && Enum.IsDefined(parsed)
            ? parsed
            : SendState.FailedTransient;
        pageNumber = Math.Max(1, pageNumber);
        html.Markup("<nav aria-label=\"Send states\"><p>");
        foreach (SendState s in Enum.GetValues<SendState>())
        {
            if (s == state)
            {
                html.Markup("<strong aria-current=\"page\">").Text(s.ToString()).Markup("</strong> ");
            }
            else
            {
                html.Link(page.Base + "/email?state=" + s.ToString(), s.ToString()).Markup(" ");
            }
        }

        html.Markup("</p></nav>");
        if (page.Services.GetService<ISendOutbox>() is not { } outbox)
        {
            html.Element("p", "No send outbox is registered: call services.AddFunnelSequences().");
            return page.Render("Email queue");
        }

        ImmutableArray<OutboxEntry> entries;
        try
        {
            entries = await outbox.ListAsync(state, Math.Min(int.MaxValue - 1, page.Options.PageSize * pageNumber) + 1, cancellationToken).ConfigureAwait(false);
        }
        catch (NotSupportedException error)
        {
            html.Element("p", error.Message);
            return page.Render("Email queue");
        }

        ImmutableArray<OutboxEntry> shown = [.. entries.Skip(page.Options.PageSize * (pageNumber - 1)).Take(page.Options.PageSize)];
        bool canRetry = CanRetry(state);
        bool canCancel = CanCancel(state);
        html.Markup("<table><caption>").Text($"Sends in state {state}").Markup("</caption><thead><tr><th scope=\"col\">Key</th>")
            .Markup("<th scope=\"col\">Lead</th><th scope=\"col\">Sequence</th><th scope=\"col\" class=\"num\">Step</th>")
            .Markup("<th scope=\"col\">Due</th><th scope=\"col\" class=\"num\">Attempts</th><th scope=\"col\">Reason</th>");
        if (!page.Options.ReadOnly && (canRetry || canCancel))
        {
            html.Markup("<th scope=\"col\">Actions</th>");
        }

        html.Markup("</tr></thead><tbody>");
        foreach (OutboxEntry entry in shown)
        {
            html.Markup("<tr>").Element("td", entry.Key).Markup("<td>")
                .Link(page.Base + "/leads/" + entry.LeadId.Value.ToString("D"), entry.LeadId.Value.ToString("D")).Markup("</td>")
                .Element("td", entry.Sequence).Element("td", Count(entry.StepIndex), "num")
                .Element("td", Time(entry.DueAt)).Element("td", Count(entry.Attempts), "num").Element("td", entry.Reason);
            if (!page.Options.ReadOnly && (canRetry || canCancel))
            {
                html.Markup("<td>");
                if (canRetry)
                {
                    page.ActionForm("/email/retry", "Retry", ("key", entry.Key));
                }

                if (canCancel)
                {
                    page.ActionForm("/email/cancel", "Cancel", ("key", entry.Key));
                }

                html.Markup("</td>");
            }

            html.Markup("</tr>");
        }

        html.Markup("</tbody></table>");
        if (shown.IsEmpty)
        {
            html.Element("p", "No sends in this state.");
        }

        page.Pager("/email", pageNumber, entries.Length > page.Options.PageSize * pageNumber, ("state", state.ToString()));
        return page.Render("Email queue");
    }

    private static async Task<IResult?> ChangeSendAsync(DashboardPage page, string? key, bool retry, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(key))
        {
            return Problem(StatusCodes.Status400BadRequest, "'key' is required: the send's idempotency key.");
        }

        if (page.Services.GetService<ISendOutbox>() is not { } outbox)
        {
            return Problem(StatusCodes.Status404NotFound, "There is no send outbox: call services.AddFunnelSequences().");
        }

        if (await outbox.FindAsync(key, cancellationToken).ConfigureAwait(false) is not { } entry)
        {
            return Problem(StatusCodes.Status404NotFound, $"No send has the key '{key}'.");
        }

        Instant now = page.Services.GetRequiredService<IClock>().GetCurrentInstant();
        OutboxEntry? replacement = (retry, entry.State) switch
        {
            (true, SendState s) when CanRetry(s) => entry with
            {
                State = SendState.Pending, DueAt = now, Attempts = 0, CompletedAt = null, Outcome = null, Reason = null, ClaimedBy = null, Events = [],
            },
            (false, SendState s) when CanCancel(s) => entry with
            {
                State = SendState.Cancelled, CompletedAt = now, Reason = "Cancelled from the dashboard.", ClaimedBy = null, Events = [],
            },
            _ => null,
        };
        if (replacement is null)
        {
            return Problem(StatusCodes.Status409Conflict, $"The send is {entry.State}: it can no longer be {(retry ? "retried" : "cancelled")}.");
        }

        return await outbox.TryUpdateAsync(entry, replacement, cancellationToken).ConfigureAwait(false)
            ? null
            : Problem(StatusCodes.Status409Conflict, "The send changed meanwhile (a dispatcher claimed it); reload the page.");
    }

    /// <summary>Whether a send in this state can be sent again from the dashboard: the page shows the button and the action accepts it.</summary>
    private static bool CanRetry(SendState state) => state is SendState.FailedTransient or SendState.FailedPermanent;

    /// <summary>Whether a send in this state can be cancelled from the dashboard.</summary>
    private static bool CanCancel(SendState state) => state is SendState.Pending or SendState.FailedTransient;

    private static async Task<IResult> WebhooksAsync(DashboardPage page, string? outcome, string? eventId, CancellationToken cancellationToken)
    {
        HtmlWriter html = page.Body;
        if (page.Services.GetService<IWebhookEventStore>() is not { } store)
        {
            html.Element("p", "No webhook store is registered: call services.AddFunnelCommerce().");
            return page.Render("Webhooks");
        }

        // Only about a stored event: a crafted link cannot make the page claim something about an event that does not exist.
        if (eventId is not null && Enum.TryParse(outcome, ignoreCase: false, out WebhookOutcome done) && WebhookOutcomeText(done) is { } text
            && await store.FindAsync(eventId, cancellationToken).ConfigureAwait(false) is not null)
        {
            html.Markup("<p role=\"status\">").Text($"Event {eventId}: {text}").Markup("</p>");
        }

        int limit = page.Options.PageSize;
        foreach ((WebhookEventStatus status, string caption) in new[]
        {
            (WebhookEventStatus.Failed, "Failed: applying the event threw"),
            (WebhookEventStatus.Parked, "Parked: waiting for the payment they refer to"),
            (WebhookEventStatus.Unprocessable, "Unprocessable: can never apply"),
        })
        {
            ImmutableArray<StoredWebhookEvent> events = await store.ListAsync(status, limit, cancellationToken).ConfigureAwait(false);
            bool actions = status is WebhookEventStatus.Failed or WebhookEventStatus.Parked && !page.Options.ReadOnly;
            html.Markup("<table><caption>").Text($"{caption} ({Count(events.Length)}{(events.Length == limit ? "+" : "")})")
                .Markup("</caption><thead><tr><th scope=\"col\">Event</th><th scope=\"col\">Type</th><th scope=\"col\">Received</th>")
                .Markup("<th scope=\"col\" class=\"num\">Attempts</th><th scope=\"col\">Error</th>");
            html.Markup(actions ? "<th scope=\"col\">Actions</th></tr></thead><tbody>" : "</tr></thead><tbody>");
            foreach (StoredWebhookEvent e in events)
            {
                html.Markup("<tr>").Element("td", e.EventId).Element("td", e.EventType).Element("td", Time(e.ReceivedAt))
                    .Element("td", Count(e.Attempts), "num").Element("td", e.Error);
                if (actions)
                {
                    html.Markup("<td>");
                    if (status == WebhookEventStatus.Parked)
                    {
                        page.ActionForm("/webhooks/process-parked", "Process now", ("eventId", e.EventId));
                    }
                    else
                    {
                        page.ActionForm("/webhooks/retry", "Retry", ("eventId", e.EventId));
                    }
                    html.Markup("</td>");
                }

                html.Markup("</tr>");
            }

            html.Markup("</tbody></table>");
        }

        return page.Render("Webhooks");
    }

    private static async Task<IResult?> RetryWebhookAsync(DashboardPage page, string? eventId, CancellationToken cancellationToken)
    {
        if (WebhookProcessorOf(page, eventId, out IResult? problem) is not { } processor)
        {
            return problem;
        }

        return await processor.RetryAsync(eventId!, cancellationToken).ConfigureAwait(false) is null
            ? Problem(StatusCodes.Status409Conflict, $"Webhook event '{eventId}' is not failed (any more): it was applied or retried meanwhile; reload the page.")
            : null;
    }

    /// <summary>Returns a processor that applies stored webhook events, or <see langword="null"/> with the problem that says what is missing.</summary>
    /// <remarks>Applying a stored event needs no signature check: the verifier is never called on a retry.</remarks>
    private static WebhookProcessor? WebhookProcessorOf(DashboardPage page, string? eventId, out IResult? problem)
    {
        problem = null;
        if (string.IsNullOrEmpty(eventId))
        {
            problem = Problem(StatusCodes.Status400BadRequest, "'eventId' is required: the provider's id of the webhook event.");
            return null;
        }

        if (page.Services.GetService<IWebhookEventStore>() is not { } store)
        {
            problem = Problem(StatusCodes.Status404NotFound, "There is no webhook inbox: call services.AddFunnelCommerce().");
            return null;
        }

        PaymentService? payments;
        try
        {
            payments = page.Services.GetService<PaymentService>();
        }
        catch (InvalidOperationException e)
        {
            // Registered, but what it needs is not: say what, instead of a 500.
            problem = Problem(StatusCodes.Status404NotFound, "Webhook events cannot be applied: the payment service cannot be built. " + e.Message);
            return null;
        }

        if (payments is null)
        {
            problem = Problem(StatusCodes.Status404NotFound, "Webhook events cannot be applied: no payment service is registered; call services.AddFunnelCommerce().");
            return null;
        }

        return new WebhookProcessor(NoVerifier.Instance, store, payments, page.Services.GetRequiredService<IClock>());
    }

    /// <summary>Applies a parked webhook event now; back on the page, a status line says what became of it.</summary>
    private static async Task<IResult?> ProcessParkedWebhookAsync(DashboardPage page, string? eventId, CancellationToken cancellationToken)
    {
        if (WebhookProcessorOf(page, eventId, out IResult? problem) is not { } processor)
        {
            return problem;
        }

        if (await processor.RetryParkedAsync(eventId!, cancellationToken).ConfigureAwait(false) is not { } result)
        {
            // Not parked (any more): released by its payment meanwhile, or never parked.
            return Problem(StatusCodes.Status409Conflict, $"Webhook event '{eventId}' is not parked (any more): its payment released it meanwhile; reload the page.");
        }

        return new SeeOther(page.Base + "/webhooks?outcome=" + result.Outcome.ToString() + "&eventId=" + Uri.EscapeDataString(eventId!));
    }

    /// <summary>The status line shown after an action on a webhook event, or <see langword="null"/> for an outcome no action gives.</summary>
    private static string? WebhookOutcomeText(WebhookOutcome outcome) => outcome switch
    {
        WebhookOutcome.Processed => "applied to its order.",
        WebhookOutcome.Parked => "still parked: the payment it refers to is not recorded yet. The attempt is recorded below; "
            + "the event is applied by itself when the payment arrives.",
        WebhookOutcome.Failed => "applying it failed; it is listed under Failed with the error, for a retry.",
        WebhookOutcome.Unprocessable => "it can never apply (its order is unknown); it is listed under Unprocessable.",
        WebhookOutcome.Duplicate => "another caller changed it first; it completes it.",
        _ => null,
    };

    private static async Task<IResult> PipelineAsync(DashboardPage page, CancellationToken cancellationToken)
    {
        HtmlWriter html = page.Body;
        if (page.Services.GetService<FunnelPipeline>() is not { } pipeline)
        {
            html.Element("p", "No event pipeline is registered: call services.AddFunnel().");
            return page.Render("Pipeline");
        }

        ImmutableArray<PipelineHandlerStatus> statuses = await pipeline.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        html.Markup("<table><caption>Handlers</caption><thead><tr><th scope=\"col\">Handler</th><th scope=\"col\" class=\"num\">Position</th>")
            .Markup("<th scope=\"col\" class=\"num\">Lag (events behind)</th><th scope=\"col\" class=\"num\">Attempts</th>")
            .Markup("<th scope=\"col\">Retry at</th><th scope=\"col\">Last error</th></tr></thead><tbody>");
        foreach (PipelineHandlerStatus status in statuses)
        {
            string lag = status.Pending >= FunnelPipeline.StatusCountLimit ? Count(status.Pending) + "+" : Count(status.Pending);
            html.Markup("<tr><th scope=\"row\">").Text(status.Handler).Markup("</th>").Element("td", Count(status.Position), "num")
                .Element("td", lag, "num").Element("td", Count(status.Attempts), "num")
                .Element("td", status.RetryAt is { } at ? Time(at) : "–").Element("td", status.LastError).Markup("</tr>");
        }

        html.Markup("</tbody></table>");
        IReadOnlyList<ParkedEvent> parked = await pipeline.ListParkedAsync(page.Options.PageSize, cancellationToken).ConfigureAwait(false);
        html.Markup("<table><caption>").Text($"Parked events ({Count(parked.Count)}{(parked.Count == page.Options.PageSize ? "+" : "")})")
            .Markup("</caption><thead><tr><th scope=\"col\">Handler</th><th scope=\"col\" class=\"num\">Position</th>")
            .Markup("<th scope=\"col\">Event</th><th scope=\"col\">Type</th><th scope=\"col\" class=\"num\">Attempts</th>")
            .Markup("<th scope=\"col\">Error</th><th scope=\"col\">Parked</th>");
        html.Markup(page.Options.ReadOnly ? "</tr></thead><tbody>" : "<th scope=\"col\">Actions</th></tr></thead><tbody>");
        foreach (ParkedEvent p in parked)
        {
            string position = p.Position.ToString(CultureInfo.InvariantCulture);
            html.Markup("<tr>").Element("td", p.Handler).Element("td", position, "num").Element("td", p.EventId.ToString())
                .Element("td", p.EventType).Element("td", Count(p.Attempts), "num").Element("td", p.Error).Element("td", Time(p.ParkedAt));
            if (!page.Options.ReadOnly)
            {
                html.Markup("<td>");
                page.ActionForm("/pipeline/retry", "Retry", ("handler", p.Handler), ("position", position));
                html.Markup("</td>");
            }

            html.Markup("</tr>");
        }

        html.Markup("</tbody></table>");
        return page.Render("Pipeline");
    }

    private static async Task<IResult?> RetryParkedAsync(DashboardPage page, string? handler, string? position, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(handler) || !long.TryParse(position, NumberStyles.None, CultureInfo.InvariantCulture, out long at))
        {
            return Problem(StatusCodes.Status400BadRequest, "'handler' and 'position' (a log position, digits only) are required.");
        }

        if (page.Services.GetService<FunnelPipeline>() is not { } pipeline)
        {
            return Problem(StatusCodes.Status404NotFound, "There is no pipeline: call services.AddFunnel().");
        }

        IReadOnlyList<ParkedEvent> parked = await pipeline.ListParkedAsync(ParkedLookupLimit, cancellationToken).ConfigureAwait(false);
        if (parked.FirstOrDefault(p => p.Handler == handler && p.Position == at) is not { } found)
        {
            return Problem(StatusCodes.Status404NotFound, $"Handler '{handler}' has no parked event at position {at}.");
        }

        await pipeline.RetryParkedAsync(found, cancellationToken).ConfigureAwait(false);
        return null;
    }

    private static async Task<IResult> LeadsAsync(DashboardPage page, string? email, CancellationToken cancellationToken)
    {
        HtmlWriter html = page.Body;
        html.Markup("<form method=\"get\" role=\"search\"").Attribute("action", page.Base + "/leads").Markup(">")
            .Markup("<label for=\"email\">Email address</label> <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"off\"")
            .Attribute("value", email).Markup("> <button type=\"submit\">Search</button></form>");
        if (string.IsNullOrWhiteSpace(email))
        {
            return page.Render("Leads");
        }

        if (!EmailAddress.TryParse(email, out EmailAddress address, out string? error))
        {
            html.Element("p", error ?? "That is not an email address.");
            return page.Render("Leads", StatusCodes.Status400BadRequest);
        }

        if (page.Services.GetService<ILeadStore>() is not { } leads
            || await leads.FindByEmailAsync(address, cancellationToken).ConfigureAwait(false) is not { } lead)
        {
            html.Element("p", $"No lead has the address {address}.");
            return page.Render("Leads");
        }

        html.Markup("<p>").Link(page.Base + "/leads/" + lead.Id.Value.ToString("D"), lead.Email.ToString()).Markup("</p>");
        return page.Render("Leads");
    }

    private static async Task<IResult> LeadAsync(DashboardPage page, LeadId id, int pageNumber, CancellationToken cancellationToken)
    {
        HtmlWriter html = page.Body;
        pageNumber = Math.Max(1, pageNumber);
        LeadProfile? lead = page.Services.GetService<ILeadStore>() is { } leads
            ? await leads.FindAsync(id, cancellationToken).ConfigureAwait(false)
            : null;
        if (lead is null)
        {
            html.Element("p", "No lead has this id.");
            return page.Render("Lead", StatusCodes.Status404NotFound);
        }

        html.Markup("<dl>");
        Term(html, "Email", lead.Email.ToString());
        Term(html, "Id", lead.Id.Value.ToString("D"));
        Term(html, "Created", Time(lead.CreatedAt));
        Term(html, "Stage", lead.Stage.ToString());
        Term(html, "Score", Points(lead.Score));
        Term(html, "Tags", lead.Tags.IsEmpty ? "–" : string.Join(", ", lead.Tags));
        Term(html, "Lead magnets", lead.Magnets.IsDefaultOrEmpty ? "–" : string.Join(", ", lead.Magnets));
        Term(html, "Consent", lead.Consent is { } c ? $"{c.Status} for {c.Purpose} ({c.Method}, {c.Source}, {Time(c.RecordedAt)})" : "–");
        Term(html, "First touch", Touch(lead.FirstTouch));
        Term(html, "Last touch", Touch(lead.LastTouch));
        Term(html, "Unsubscribed", lead.UnsubscribedAt is { } u ? Time(u) : "–");
        Term(html, "Bounced", lead.BouncedAt is { } b ? Time(b) : "–");
        foreach (KeyValuePair<string, string> field in lead.CustomFields)
        {
            Term(html, field.Key, field.Value);
        }

        html.Markup("</dl>");
        await WriteLeadDetailsAsync(page, lead, cancellationToken).ConfigureAwait(false);
        if (page.Services.GetService<IFunnelEventLog>() is { } log)
        {
            int size = page.Options.PageSize;
            IReadOnlyList<LoggedEvent> events = await log.ReadLeadAsync(id, Math.Min(int.MaxValue - 1, size * pageNumber) + 1, cancellationToken).ConfigureAwait(false);
            html.Markup("<table><caption>Event timeline, oldest first</caption><thead><tr><th scope=\"col\" class=\"num\">Position</th>")
                .Markup("<th scope=\"col\">Occurred</th><th scope=\"col\">Type</th><th scope=\"col\">Channel</th><th scope=\"col\">Campaign</th></tr></thead><tbody>");
            foreach (LoggedEvent logged in events.Skip(size * (pageNumber - 1)).Take(size))
            {
                html.Markup("<tr>").Element("td", Count(logged.Position), "num").Element("td", Time(logged.Event.OccurredAt))
                    .Element("td", logged.Event.EventType).Element("td", logged.Event.Attribution.Channel)
                    .Element("td", logged.Event.Attribution.Campaign).Markup("</tr>");
            }

            html.Markup("</tbody></table>");
            page.Pager("/leads/" + id.Value.ToString("D"), pageNumber, events.Count > size * pageNumber);
        }

        return page.Render("Lead " + lead.Email);
    }

    /// <summary>Runs an action: refused when read-only (403) or without a valid antiforgery token (400), then back to the page (303).</summary>
    private static async Task<IResult> ActAsync(DashboardPage page, string back, Func<IFormCollection, DashboardPage, Task<IResult?>> action)
    {
        HttpContext context = page.Context;
        DashboardPage.SetSecurityHeaders(context.Response);
        if (page.Options.ReadOnly)
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "The dashboard is read-only.");
        }

        if (!context.Request.HasFormContentType)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Submit the dashboard's form.");
        }

        try
        {
            await page.Services.GetRequiredService<IAntiforgery>().ValidateRequestAsync(context).ConfigureAwait(false);
        }
        catch (AntiforgeryValidationException)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The form expired or was not sent by the dashboard; reload the page.");
        }

        IFormCollection form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        return await action(form, page).ConfigureAwait(false) ?? new SeeOther(page.Base + back);
    }

    /// <summary>A problem-details answer to an action, with a title that says what was wrong.</summary>
    private static IResult Problem(int statusCode, string title) => Results.Problem(statusCode: statusCode, title: title);

    private static void Kpi(HtmlWriter html, string name, string value) =>
        html.Markup("<div class=\"kpi\">").Text(name).Markup("<b>").Text(value).Markup("</b></div>");

    private static void Term(HtmlWriter html, string term, string? value) => html.Element("dt", term).Element("dd", value);

    private static string Touch(Attribution touch) =>
        touch.Channel is null && touch.Campaign is null ? "–" : $"{touch.Channel ?? "–"} / {touch.Campaign ?? "–"}";

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Percent(Ratio ratio) => ratio.IsDefined ? ratio.ToString("P1", CultureInfo.InvariantCulture) : "–";

    private static string Time(Instant instant) => InstantPattern.General.Format(instant);

    /// <summary>A 303 See Other, so the browser follows a POST with a GET.</summary>
    private sealed class SeeOther(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }

    /// <summary>The verifier of the dashboard's retry-only processor: retries apply stored events and never verify.</summary>
    private sealed class NoVerifier : IWebhookSignatureVerifier
    {
        public static readonly NoVerifier Instance = new();

        public Task<WebhookVerification> VerifyAsync(WebhookRequest request, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The dashboard only retries stored webhook events.");
    }
}
