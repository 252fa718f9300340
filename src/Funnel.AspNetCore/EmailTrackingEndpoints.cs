using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using NodaTime;

namespace Funnel.AspNetCore;

/// <summary>The email tracking handlers behind <c>MapFunnel</c>: open pixel, click redirect and RFC 8058 unsubscribe.</summary>
internal static class EmailTrackingEndpoints
{
    /// <summary>The smallest transparent GIF (1×1, 42 bytes).</summary>
    private static readonly byte[] Pixel = Convert.FromBase64String("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");

    /// <summary>The form field and value of an RFC 8058 one-click unsubscribe POST.</summary>
    private const string OneClickField = "List-Unsubscribe";
    private const string OneClickValue = "One-Click";

    /// <summary>The preference centre's field that marks a form of topics to keep.</summary>
    private const string PreferencesField = "preferences";

    /// <summary>The preference centre's field, once per topic to keep.</summary>
    private const string TopicField = "topic";

    /// <summary>The one-click form is one short field; the preference centre's is a field per topic (at most <see cref="EmailTopic"/>s' 30, keys of at most 100 characters).</summary>
    internal static readonly RequestBodies.FormLimits UnsubscribeFormLimits = new(MaxBodyBytes: 8192, MaxFields: 32, MaxValueLength: 100);

    public static async Task<IResult> OpenAsync(
        string token,
        [FromServices] EmailTracking tracking,
        [FromServices] FunnelEventRecorder recorder,
        [FromServices] TrackingDeduplication dedup,
        [FromServices] IClock clock,
        CancellationToken cancellationToken)
    {
        using Activity? activity = FunnelDiagnostics.Source.StartActivity("funnel.email.open");
        if (tracking.Links is { } links && links.TryReadToken(token, out TrackingToken? read) && read.Action == TrackingAction.Open)
        {
            activity?.SetTag("funnel.email", read.Email);
            Instant now = clock.GetCurrentInstant();
            var opened = new EmailOpened { Id = dedup.IdOf(read.Lead, "opened", read.Email, now), LeadId = read.Lead, OccurredAt = now, Email = read.Email };
            await RecordOnceAsync(recorder, opened, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Mail clients show a broken image for an error; a forged or stale pixel still gets the GIF, just no event.
            activity?.SetTag("funnel.valid", false);
        }

        return new PixelResult();
    }

    public static async Task<IResult> ClickAsync(
        string token,
        [FromServices] EmailTracking tracking,
        [FromServices] FunnelEventRecorder recorder,
        [FromServices] TrackingDeduplication dedup,
        [FromServices] IClock clock,
        CancellationToken cancellationToken)
    {
        using Activity? activity = FunnelDiagnostics.Source.StartActivity("funnel.email.click");
        if (Read(tracking, token, TrackingAction.Click) is not { Target: { } target } read)
        {
            activity?.SetTag("funnel.valid", false);
            return InvalidToken("The link is invalid: it was changed or not issued by this site.");
        }

        activity?.SetTag("funnel.email", read.Email);
        Instant now = clock.GetCurrentInstant();
        var clicked = new EmailClicked
        {
            Id = dedup.IdOf(read.Lead, "clicked", read.Email + "\n" + target.AbsoluteUri, now),
            LeadId = read.Lead,
            OccurredAt = now,
            Email = read.Email,
            Url = target.AbsoluteUri,
        };
        await RecordOnceAsync(recorder, clicked, cancellationToken).ConfigureAwait(false);
        return Results.Redirect(target.AbsoluteUri);
    }

    public static async Task<IResult> UnsubscribePage(
        HttpContext context,
        string token,
        [FromServices] EmailTracking tracking,
        [FromServices] EmailPreferences preferences,
        [FromServices] ILeadStore leads,
        CancellationToken cancellationToken)
    {
        if (Read(tracking, token, TrackingAction.Unsubscribe) is not { } read)
        {
            return InvalidToken("The unsubscribe link is invalid: it was changed or not issued by this site.");
        }

        string action = WebUtility.HtmlEncode((context.Request.PathBase + context.Request.Path).ToString());
        if (!preferences.Topics.IsEmpty && await leads.FindAsync(read.Lead, cancellationToken).ConfigureAwait(false) is { } lead)
        {
            // With topics, the link opens the preference centre: leave one topic, or all marketing email.
            EmailTopic? topic = await preferences.TopicOfAsync(read.Email, cancellationToken).ConfigureAwait(false);
            return Results.Content(preferences.Page(action, lead, topic), "text/html; charset=utf-8");
        }

        return Results.Content(
            $"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Unsubscribe</title></head>
            <body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">
            <h1>Unsubscribe?</h1><p>You will get no more marketing emails from us.</p>
            <form method="post" action="{action}"><input type="hidden" name="{OneClickField}" value="{OneClickValue}">
            <button type="submit" id="unsubscribe">Unsubscribe</button></form></body></html>
            """,
            "text/html; charset=utf-8");
    }

    public static async Task<IResult> UnsubscribeAsync(
        HttpContext context,
        string token,
        [FromServices] EmailTracking tracking,
        [FromServices] EmailPreferences preferences,
        [FromServices] ILeadStore leads,
        [FromServices] FunnelEventRecorder recorder,
        [FromServices] IClock clock,
        CancellationToken cancellationToken)
    {
        using Activity? activity = FunnelDiagnostics.Source.StartActivity("funnel.email.unsubscribe");
        // The token is cheap and decisive: check it before reading a byte of the body an anonymous caller sent.
        if (Read(tracking, token, TrackingAction.Unsubscribe) is not { } read)
        {
            activity?.SetTag("funnel.valid", false);
            return InvalidToken("The unsubscribe link is invalid: it was changed or not issued by this site.");
        }

        if (!context.Request.HasFormContentType)
        {
            return Problem(OneClickField, "The unsubscribe must be posted as a form with 'List-Unsubscribe=One-Click' (RFC 8058).");
        }

        RequestBodies.FormRead body = await RequestBodies.ReadFormAsync(context, UnsubscribeFormLimits, "The request was rejected.", cancellationToken).ConfigureAwait(false);
        if (body.Form is not { } form)
        {
            return body.Problem!;
        }

        bool oneClick = string.Equals(form[OneClickField].ToString(), OneClickValue, StringComparison.Ordinal);
        if (!oneClick && !preferences.Topics.IsEmpty && form.ContainsKey(PreferencesField))
        {
            return await SavePreferencesAsync(read, [.. form[TopicField].Select(static t => t ?? string.Empty)], preferences, leads, recorder, clock, cancellationToken).ConfigureAwait(false);
        }

        if (!oneClick)
        {
            return Problem(OneClickField, preferences.Topics.IsEmpty
                ? "The form must carry 'List-Unsubscribe=One-Click' (RFC 8058)."
                : "The form must carry 'List-Unsubscribe=One-Click' (RFC 8058), or 'preferences=1' with a 'topic' field per topic to keep.");
        }

        LeadProfile? profile = await leads.FindAsync(read.Lead, cancellationToken).ConfigureAwait(false);
        if (profile is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "The lead does not exist.", detail: "The address of this link is no longer on our list.");
        }

        var unsubscribed = new EmailUnsubscribed { LeadId = read.Lead, OccurredAt = clock.GetCurrentInstant(), Email = read.Email };
        // Compare-and-set on the profile's version: only the first of concurrent unsubscribes changes it.
        bool changed = (await OptimisticConcurrency.UpdateAsync(
            c => leads.FindByEmailAsync(profile.Email, c),
            current => current is null || current.UnsubscribedAt is not null ? current : current.ApplySuppression(unsubscribed),
            tryAddAsync: null,
            leads.TryUpdateAsync,
            static (current, next) => next with { Version = current.Version + 1 },
            $"Lead {read.Lead}",
            cancellationToken).ConfigureAwait(false)).Changed;
        activity?.SetTag("funnel.changed", changed);
        if (changed)
        {
            await recorder.RecordAsync([unsubscribed], cancellationToken).ConfigureAwait(false);
        }

        return Results.Content(
            """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Unsubscribed</title></head>
            <body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">
            <h1 id="unsubscribed">You are unsubscribed</h1><p>You will get no more marketing emails from us.</p></body></html>
            """,
            "text/html; charset=utf-8");
    }

    /// <summary>Saves the preference centre's form: the topics not kept are left (<c>email_unsubscribed</c> with the topic), the kept ones the lead had left are joined again.</summary>
    private static async Task<IResult> SavePreferencesAsync(
        TrackingToken read,
        ImmutableArray<string> keep,
        EmailPreferences preferences,
        ILeadStore leads,
        FunnelEventRecorder recorder,
        IClock clock,
        CancellationToken cancellationToken)
    {
        if (keep.FirstOrDefault(k => !preferences.Topics.Any(t => t.Key == k)) is { } unknown)
        {
            return Problem(TopicField, $"'{unknown}' is not one of our email topics.");
        }

        Instant now = clock.GetCurrentInstant();
        List<LeadEvent> changes = [];
        OptimisticConcurrency.Update<LeadProfile> update = await OptimisticConcurrency.UpdateAsync(
            c => leads.FindAsync(read.Lead, c),
            current =>
            {
                changes.Clear(); // the change may run again after a lost race: only the winner's events are recorded.
                if (current is null || current.UnsubscribedAt is not null)
                {
                    return current;
                }

                LeadProfile next = current;
                foreach (EmailTopic topic in preferences.Topics)
                {
                    bool kept = keep.Contains(topic.Key);
                    if (!kept && !next.UnsubscribedTopics.Contains(topic.Key))
                    {
                        EmailUnsubscribed left = new() { LeadId = read.Lead, OccurredAt = now, Email = read.Email, Topic = topic.Key };
                        next = next.ApplySuppression(left);
                        changes.Add(left);
                    }
                    else if (kept && next.UnsubscribedTopics.Contains(topic.Key))
                    {
                        next = next.Resubscribe(topic.Key);
                        changes.Add(new EmailTopicResubscribed { LeadId = read.Lead, OccurredAt = now, Topic = topic.Key });
                    }
                }

                return changes.Count == 0 ? current : next;
            },
            tryAddAsync: null,
            leads.TryUpdateAsync,
            static (current, next) => next with { Version = current.Version + 1 },
            $"Lead {read.Lead}",
            cancellationToken).ConfigureAwait(false);
        if (update.After is not { } lead)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "The lead does not exist.", detail: "The address of this link is no longer on our list.");
        }

        if (update.Changed)
        {
            await recorder.RecordAsync(changes, cancellationToken).ConfigureAwait(false);
        }

        return Results.Content(preferences.SavedPage(lead), "text/html; charset=utf-8");
    }

    /// <summary>Records the event unless its id (derived from the tracking window) is in the log already.</summary>
    internal static async Task RecordOnceAsync(FunnelEventRecorder recorder, FunnelEvent e, CancellationToken cancellationToken)
    {
        if (await recorder.AppendAsync([e], cancellationToken).ConfigureAwait(false) == 0)
        {
            FunnelDiagnostics.TrackingDeduplicated.Add(1, new KeyValuePair<string, object?>("funnel.event_type", e.EventType));
        }
    }

    private static TrackingToken? Read(EmailTracking tracking, string token, TrackingAction action) =>
        tracking.Links is { } links && links.TryReadToken(token, out TrackingToken? read) && read.Action == action ? read : null;

    private static IResult InvalidToken(string message) => Problem("token", message);

    private static IResult Problem(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]>(StringComparer.Ordinal) { [field] = [message] }, title: "The request was rejected.");

    /// <summary>Writes the 1×1 GIF, never cached, so every open is requested.</summary>
    private sealed class PixelResult : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status200OK;
            httpContext.Response.ContentType = "image/gif";
            httpContext.Response.Headers.CacheControl = "no-store, no-cache, must-revalidate, max-age=0";
            httpContext.Response.ContentLength = Pixel.Length;
            return httpContext.Response.Body.WriteAsync(Pixel).AsTask();
        }
    }
}

/// <summary>The <see cref="TrackingLinks"/> built from <see cref="Sequences.SequenceOptions.Tracking"/>, or none when tracking is not configured.</summary>
internal sealed class EmailTracking(TrackingLinks? links)
{
    public TrackingLinks? Links { get; } = links;
}
