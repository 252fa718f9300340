using System.Diagnostics;
using System.Text.Json;
using FluentValidation;
using Funnel.Events;
using Funnel.Leads;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using NodaTime;

namespace Funnel.AspNetCore;

/// <summary>The handlers behind <c>MapFunnel</c>.</summary>
internal static class FunnelEndpoints
{
    private const int MaxUrlLength = FieldLimits.Url;
    private const int MaxTitleLength = FieldLimits.Title;

    /// <summary>The name of the confirmation endpoint, from which the emailed link is built.</summary>
    internal const string ConfirmEndpointName = "FunnelConfirm";

    private const string PageViewTitle = "The page view was rejected.";

    /// <summary>The largest page-view body accepted: a URL, a title and a referrer fit many times over.</summary>
    internal const int MaxPageViewBytes = 16 * 1024;

    /// <summary>The title of every opt-in ProblemDetails.</summary>
    private const string OptInTitle = "The opt-in was rejected.";

    /// <summary>The longest <c>email</c> field: RFC 5321's 254 characters, with room for surrounding blanks.</summary>
    internal const int MaxEmailFieldLength = 320;

    /// <summary>The longest <c>utm_*</c> or <c>magnet</c> field: the domain's limit for attribution values (<see cref="FieldLimits.AttributionValue"/>).</summary>
    internal const int MaxShortFieldLength = FieldLimits.AttributionValue;

    /// <summary>The opt-in form's limits: a few short fields and an antiforgery token fit many times over.</summary>
    internal static readonly RequestBodies.FormLimits OptInFormLimits = new(MaxBodyBytes: 32 * 1024, MaxFields: 64, MaxValueLength: 4 * 1024);

    /// <summary>The UTM parameters, in the form and in query strings.</summary>
    private static readonly string[] UtmFields = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"];

    /// <summary>Maps <see cref="LeadCapture"/>'s property names to the form fields that carry them.</summary>
    private static readonly Dictionary<string, string> FormFieldOf = new(StringComparer.Ordinal)
    {
        [nameof(OptInRequest.Email)] = "email",
        [nameof(OptInRequest.TimeZoneId)] = "timezone",
        [nameof(OptInRequest.Magnet)] = "magnet",
        [nameof(OptInRequest.Attribution)] = "utm_source",
        ["Attribution.Source"] = "utm_source",
        ["Attribution.Medium"] = "utm_medium",
        ["Attribution.Campaign"] = "utm_campaign",
        ["Attribution.Content"] = "utm_content",
        ["Attribution.Term"] = "utm_term",
        ["Attribution.Referrer"] = "referrer",
        ["Attribution.Channel"] = "utm_medium",
    };

    /// <summary>Returns whether <paramref name="path"/> stays on this site: one leading <c>/</c>, not <c>//</c> or <c>/\</c>, and no control characters (browsers drop tabs and newlines).</summary>
    public static bool IsLocalPath(string path) =>
        path.Length > 0 && path[0] == '/' && (path.Length == 1 || (path[1] != '/' && path[1] != '\\')) && !path.Any(char.IsControl);

    public static async Task<IResult> OptInAsync(
        HttpContext context,
        [FromServices] IAntiforgery antiforgery,
        [FromServices] LeadCapture capture,
        [FromServices] MagnetDownloads downloads,
        [FromServices] FunnelEventRecorder recorder,
        [FromServices] IOptions<FunnelAspNetCoreOptions> options,
        [FromServices] IOptions<AntiforgeryOptions> antiforgeryOptions,
        CancellationToken cancellationToken)
    {
        using Activity? activity = FunnelDiagnostics.Source.StartActivity("funnel.opt_in");
        FunnelAspNetCoreOptions o = options.Value;
        if (!context.Request.HasFormContentType)
        {
            return Rejected("not_a_form", "form", "The opt-in must be posted as a form (application/x-www-form-urlencoded or multipart/form-data).");
        }

        // Read the form ourselves, within limits, before antiforgery does: an oversized or broken form is then reported
        // as what it is, not as a bad antiforgery token (antiforgery reads the form and hides why it could not).
        RequestBodies.FormRead read = await RequestBodies.ReadFormAsync(context, OptInFormLimits, OptInTitle, cancellationToken).ConfigureAwait(false);
        if (read.Form is not { } form)
        {
            FunnelDiagnostics.OptInsRejected.Add(1, new KeyValuePair<string, object?>("funnel.reason", "body"));
            return read.Problem!;
        }

        if (RequestBodies.FieldWithControlCharacters(form) is { } controlField)
        {
            return Rejected("invalid", controlField, "The field must not contain NUL or other control characters.");
        }

        try
        {
            await antiforgery.ValidateRequestAsync(context).ConfigureAwait(false);
        }
        catch (AntiforgeryValidationException)
        {
            return Rejected("antiforgery", antiforgeryOptions.Value.FormFieldName ?? "__RequestVerificationToken", "The antiforgery token is missing or invalid; reload the page and submit the form again.");
        }

        if (!StringValues.IsNullOrEmpty(form[o.HoneypotField]))
        {
            // Bots fill every field; people never see this one. Answer as if accepted so bots learn nothing.
            activity?.SetTag("funnel.honeypot", true);
            FunnelDiagnostics.OptInsRejected.Add(1, new KeyValuePair<string, object?>("funnel.reason", "honeypot"));
            return Accepted(context, o);
        }

        if (TooLongFields(form) is { Count: > 0 } tooLong)
        {
            return Rejected("invalid", tooLong);
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        string magnetKey = form["magnet"].ToString().Trim();
        LeadMagnet? magnet = o.LeadMagnets.FirstOrDefault(m => string.Equals(m.Key, magnetKey, StringComparison.Ordinal));
        if (magnet is null)
        {
            errors["magnet"] = [magnetKey.Length == 0 ? "The lead magnet is required." : $"The lead magnet '{magnetKey}' is unknown."];
        }

        string email = form["email"].ToString();
        if (string.IsNullOrWhiteSpace(email))
        {
            errors["email"] = ["The email address is required."];
        }

        if (errors.Count > 0)
        {
            return Rejected("invalid", errors);
        }

        // Any utm_* field means the form carries the attribution; only a form without one falls back to the Referer.
        Dictionary<string, StringValues> utm = UtmFields.Any(f => Blank(form[f]) is not null)
            ? form.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal)
            : UtmOfReferer(context);
        var request = new OptInRequest
        {
            Email = email,
            Magnet = magnet!,
            VisitorId = ReadVisitor(context, o),
            Attribution = AttributionOf(utm, Blank(form["referrer"])),
            TimeZoneId = Blank(form["timezone"]),
            // Proof of consent (docs/gdpr.md): the address as the connection sees it (after the host's forwarded
            // headers middleware, if any) and the browser's user agent, dropped when it carries control characters.
            IpAddress = context.Connection.RemoteIpAddress?.ToString(),
            UserAgent = UserAgentOf(context),
            ConfirmationUrlTemplate = magnet!.DoubleOptIn
                ? ConfirmationLink(context, o.PublicOrigin, magnet.HasAsset ? magnet.Key : null, TokenSlot).AbsoluteUri
                    .Replace(TokenSlot, "{token}", StringComparison.Ordinal)
                : null,
        };

        // A visitor cookie that is another address's lead (a shared computer) starts a new lead; one on a second
        // device of a known address is linked to its lead (identity_linked). LeadCapture decides both.
        OptInResult result;
        try
        {
            result = await capture.OptInAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (ValidationException ex)
        {
            return Rejected("invalid", ex.Errors
                .GroupBy(e => FormFieldOf.GetValueOrDefault(e.PropertyName, e.PropertyName), StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).ToArray(), StringComparer.Ordinal));
        }

        // LeadCapture recorded the opt-in's events in the event log itself, with the confirmation request that the
        // built-in confirmation sequence mails through the send outbox: the request never waits on SMTP.
        WriteVisitor(context, o, result.Lead.Id);
        activity?.SetTag("funnel.magnet", magnet!.Key);

        // Granted consent means the opt-in is complete: a single opt-in, or a double one the lead confirmed before.
        // A pending one is delivered by the confirm endpoint, once the lead confirms; never both.
        if (magnet.HasAsset
            && result.Lead.ConsentStatus == ConsentStatus.Granted
            && result.Events.OfType<OptedIn>().FirstOrDefault() is { } optedIn)
        {
            await downloads.RecordDeliveryAsync(context, recorder, magnet, result.Lead.Id, optedIn, cancellationToken)
                .ConfigureAwait(false);
        }
        activity?.SetTag("funnel.new_lead", result.IsNewLead);

        return Accepted(context, o);
    }

    private static string? UserAgentOf(HttpContext context)
    {
        string? agent = Blank(context.Request.Headers.UserAgent);
        return agent is null || agent.Any(char.IsControl) ? null : agent;
    }

    public static async Task<IResult> ConfirmAsync(
        HttpContext context,
        [FromQuery] string? token,
        [FromQuery] string? magnet,
        [FromServices] LeadCapture capture,
        [FromServices] MagnetDownloads downloads,
        [FromServices] FunnelEventRecorder recorder,
        [FromServices] IOptions<FunnelAspNetCoreOptions> options,
        CancellationToken cancellationToken)
    {
        using Activity? activity = FunnelDiagnostics.Source.StartActivity("funnel.confirm");
        if (string.IsNullOrWhiteSpace(token))
        {
            return Problem("token", "The confirmation token is required.");
        }

        ConfirmationResult result = await capture.ConfirmAsync(
            token.Trim(), context.Connection.RemoteIpAddress?.ToString(), UserAgentOf(context), cancellationToken).ConfigureAwait(false);
        activity?.SetTag("funnel.confirmation", result.Status.ToString());
        switch (result.Status)
        {
            case ConfirmationStatus.Confirmed:
                WriteVisitor(context, options.Value, result.Lead!.Id);
                // The link names the magnet asked for; a token confirms once, so the magnet is delivered once.
                if (downloads.Find(magnet) is { HasAsset: true } asked)
                {
                    await downloads.RecordDeliveryAsync(context, recorder, asked, result.Lead.Id, result.Event!, cancellationToken)
                        .ConfigureAwait(false);
                }

                return options.Value.ConfirmedRedirect is { } redirect
                    ? Results.Redirect(redirect)
                    : Results.Ok(new StatusBody("confirmed"));
            case ConfirmationStatus.Expired:
                return Problem("token", "The confirmation link expired; opt in again to get a new one.");
            default:
                return Problem("token", "The confirmation link is invalid or was already used.");
        }
    }

    public static async Task<IResult> PageViewAsync(
        HttpContext context,
        [FromServices] FunnelEventRecorder recorder,
        [FromServices] TrackingDeduplication dedup,
        [FromServices] IClock clock,
        [FromServices] IOptions<FunnelAspNetCoreOptions> options,
        CancellationToken cancellationToken)
    {
        using Activity? activity = FunnelDiagnostics.Source.StartActivity("funnel.page_view");
        // Anyone may post here: cap the body before parsing it, rather than at the server's 30 MB default.
        (byte[]? bytes, IResult? problem) = await RequestBodies.ReadBytesAsync(context, MaxPageViewBytes, PageViewTitle, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return problem!;
        }

        PageViewBody? body;
        try
        {
            // Read whatever the content type: navigator.sendBeacon posts JSON as text/plain.
            body = JsonSerializer.Deserialize<PageViewBody>(bytes, JsonSerializerOptions.Web);
        }
        catch (JsonException)
        {
            return Problem("body", "The body must be a JSON object such as {\"url\":\"/blog/post?utm_source=newsletter\",\"title\":\"...\",\"referrer\":\"...\"}.");
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        Uri? page = ParsePageUrl(body?.Url, errors);
        if (body?.Title is { Length: > MaxTitleLength })
        {
            errors["title"] = [$"The title must be at most {MaxTitleLength} characters."];
        }

        if (body?.Referrer is { Length: > MaxUrlLength })
        {
            errors["referrer"] = [$"The referrer must be at most {MaxUrlLength} characters."];
        }

        if (errors.Count > 0 || page is null)
        {
            return Results.ValidationProblem(errors, title: "The page view was rejected.");
        }

        FunnelAspNetCoreOptions o = options.Value;
        LeadId visitor = ReadVisitor(context, o) ?? LeadId.New();
        WriteVisitor(context, o, visitor);
        Dictionary<string, StringValues> query = QueryHelpers.ParseQuery(page.Query);
        Instant now = clock.GetCurrentInstant();
        if (!dedup.TryTakePageView(visitor, now))
        {
            // Over the visitor's cap for this window: answered like the others, not stored (storage stays bounded).
            activity?.SetTag("funnel.capped", true);
            FunnelDiagnostics.TrackingDeduplicated.Add(1, new KeyValuePair<string, object?>("funnel.event_type", EventTypes.PageViewed));
            return Results.NoContent();
        }

        var viewed = new PageViewed
        {
            Id = dedup.IdOf(visitor, "viewed", page.AbsolutePath, now),
            LeadId = visitor,
            OccurredAt = now,
            Attribution = AttributionOf(query, Blank(body!.Referrer)),
            Page = page.AbsolutePath,
            Title = Blank(body.Title),
        };
        activity?.SetTag("funnel.page", viewed.Page);
        await EmailTrackingEndpoints.RecordOnceAsync(recorder, viewed, cancellationToken).ConfigureAwait(false);
        return Results.NoContent();
    }

    /// <summary>Names the opt-in fields over their limits, before anything is stored.</summary>
    private static Dictionary<string, string[]> TooLongFields(IFormCollection form)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Check(string field, int max)
        {
            if (form[field].ToString().Length > max)
            {
                errors[field] = [$"The field must be at most {max} characters."];
            }
        }

        Check("email", MaxEmailFieldLength);
        Check("referrer", MaxUrlLength);
        Check("magnet", MaxShortFieldLength);
        Check("timezone", FieldLimits.TimeZoneId);
        foreach (string utm in UtmFields)
        {
            Check(utm, MaxShortFieldLength);
        }

        return errors;
    }

    private static Uri? ParsePageUrl(string? url, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            errors["url"] = ["The page URL is required."];
            return null;
        }

        if (url.Length > MaxUrlLength)
        {
            errors["url"] = [$"The page URL must be at most {MaxUrlLength} characters."];
            return null;
        }

        if (Uri.TryCreate(url, UriKind.Absolute, out Uri? absolute) && (absolute.Scheme == Uri.UriSchemeHttp || absolute.Scheme == Uri.UriSchemeHttps))
        {
            return absolute;
        }

        if (IsLocalPath(url) && Uri.TryCreate(new Uri("http://localhost"), url, out Uri? local))
        {
            return local;
        }

        errors["url"] = ["The page URL must be an absolute http(s) URL or a path starting with '/'."];
        return null;
    }

    private static Dictionary<string, StringValues> UtmOfReferer(HttpContext context) =>
        context.Request.Headers.Referer.ToString() is { Length: <= MaxUrlLength } header && Uri.TryCreate(header, UriKind.Absolute, out Uri? referer)
            ? QueryHelpers.ParseQuery(referer.Query)
            : [];

    private static Attribution AttributionOf(IReadOnlyDictionary<string, StringValues> query, string? referrer) =>
        LeadCapture.AttributionFrom(
            Capped(query.GetValueOrDefault("utm_source")),
            Capped(query.GetValueOrDefault("utm_medium")),
            Capped(query.GetValueOrDefault("utm_campaign")),
            Capped(query.GetValueOrDefault("utm_content")),
            Capped(query.GetValueOrDefault("utm_term")),
            referrer);

    /// <summary>A UTM value of a URL, or none when it is over the field limit (a form's own fields were checked already).</summary>
    private static string? Capped(StringValues value) => Blank(value) is { Length: <= MaxShortFieldLength } text ? text : null;

    private static string? Blank(StringValues value) => StringValues.IsNullOrEmpty(value) || string.IsNullOrWhiteSpace(value.ToString()) ? null : value.ToString().Trim();

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    internal static LeadId? ReadVisitor(HttpContext context, FunnelAspNetCoreOptions options) =>
        Guid.TryParse(context.Request.Cookies[options.VisitorCookieName], out Guid id) && id != Guid.Empty ? new LeadId(id) : null;

    internal static void WriteVisitor(HttpContext context, FunnelAspNetCoreOptions options, LeadId id) =>
        context.Response.Cookies.Append(options.VisitorCookieName, id.Value.ToString("N"), new CookieOptions
        {
            HttpOnly = true,
            IsEssential = true,
            SameSite = SameSiteMode.Lax,
            Secure = context.Request.IsHttps,
            Path = "/",
            MaxAge = TimeSpan.FromDays(365),
        });

    /// <summary>A token-shaped stand-in that routing leaves as it is, replaced by <c>{token}</c> in the link template.</summary>
    private const string TokenSlot = "FUNNELTOKENSLOT";

    private static Uri ConfirmationLink(HttpContext context, Uri? origin, string? magnet, string token)
    {
        // Ask routing for the confirm endpoint of this MapFunnel group (with the path base) rather than editing the
        // request path, which may end in '/'. The Host header is the client's to choose: a configured origin keeps
        // the emailed token on this site.
        // The magnet (to deliver on confirmation) goes before the token, which stays last in the link.
        RouteValueDictionary values = magnet is null ? [] : new() { ["magnet"] = magnet };
        values["token"] = token;
        string path = context.RequestServices.GetRequiredService<LinkGenerator>()
            .GetPathByName(context, ConfirmEndpointName, values)
            ?? throw new InvalidOperationException("The Funnel confirm endpoint is not mapped; call MapFunnel.");
        return new Uri(SiteOf(context, origin) + path);
    }

    /// <summary>The scheme, host and port emailed links start with: the configured origin, else the request's.</summary>
    internal static string SiteOf(HttpContext context, Uri? origin) => origin is null
        ? $"{context.Request.Scheme}://{context.Request.Host}"
        : origin.GetLeftPart(UriPartial.Authority);

    private static IResult Accepted(HttpContext context, FunnelAspNetCoreOptions options)
    {
        if (options.OptInRedirect is { } redirect)
        {
            context.Response.Headers.Location = redirect;
            return Results.StatusCode(StatusCodes.Status303SeeOther);
        }

        return Results.Json(new StatusBody("accepted"), statusCode: StatusCodes.Status202Accepted);
    }

    private static IResult Rejected(string reason, string field, string message) =>
        Rejected(reason, new Dictionary<string, string[]>(StringComparer.Ordinal) { [field] = [message] });

    private static IResult Rejected(string reason, Dictionary<string, string[]> errors)
    {
        FunnelDiagnostics.OptInsRejected.Add(1, new KeyValuePair<string, object?>("funnel.reason", reason));
        return Results.ValidationProblem(errors, title: "The opt-in was rejected.");
    }

    private static IResult Problem(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]>(StringComparer.Ordinal) { [field] = [message] }, title: "The request was rejected.");

    /// <summary>The JSON body of a page view.</summary>
    internal sealed record PageViewBody(string? Url, string? Title, string? Referrer);

    /// <summary>A small JSON status answer.</summary>
    internal sealed record StatusBody(string Status);
}
