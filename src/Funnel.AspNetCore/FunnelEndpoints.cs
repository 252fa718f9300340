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
    private const int MaxUrlLength = 2048;
    private const int MaxTitleLength = 300;

    /// <summary>The name of the confirmation endpoint, from which the emailed link is built.</summary>
    internal const string ConfirmEndpointName = "FunnelConfirm";

    /// <summary>The largest page-view body accepted: a URL, a title and a referrer fit many times over.</summary>
    internal const int MaxPageViewBytes = 16 * 1024;

    /// <summary>The UTM parameters, in the form and in query strings.</summary>
    private static readonly string[] UtmFields = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"];

    /// <summary>Maps <see cref="LeadCapture"/>'s property names to the form fields that carry them.</summary>
    private static readonly Dictionary<string, string> FormFieldOf = new(StringComparer.Ordinal)
    {
        [nameof(OptInRequest.Email)] = "email",
        [nameof(OptInRequest.TimeZoneId)] = "timezone",
        [nameof(OptInRequest.Magnet)] = "magnet",
        [nameof(OptInRequest.Attribution)] = "utm_source",
    };

    /// <summary>Returns whether <paramref name="path"/> stays on this site: one leading <c>/</c>, not <c>//</c> or <c>/\</c>, and no control characters (browsers drop tabs and newlines).</summary>
    public static bool IsLocalPath(string path) =>
        path.Length > 0 && path[0] == '/' && (path.Length == 1 || (path[1] != '/' && path[1] != '\\')) && !path.Any(char.IsControl);

    public static async Task<IResult> OptInAsync(
        HttpContext context,
        [FromServices] IAntiforgery antiforgery,
        [FromServices] LeadCapture capture,
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

        try
        {
            await antiforgery.ValidateRequestAsync(context).ConfigureAwait(false);
        }
        catch (AntiforgeryValidationException)
        {
            return Rejected("antiforgery", antiforgeryOptions.Value.FormFieldName ?? "__RequestVerificationToken", "The antiforgery token is missing or invalid; reload the page and submit the form again.");
        }

        IFormCollection form = await context.Request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
        if (!StringValues.IsNullOrEmpty(form[o.HoneypotField]))
        {
            // Bots fill every field; people never see this one. Answer as if accepted so bots learn nothing.
            activity?.SetTag("funnel.honeypot", true);
            FunnelDiagnostics.OptInsRejected.Add(1, new KeyValuePair<string, object?>("funnel.reason", "honeypot"));
            return Accepted(context, o);
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
            ConfirmationUrlTemplate = magnet!.DoubleOptIn ? ConfirmationLink(context, o.PublicOrigin, TokenSlot).AbsoluteUri.Replace(TokenSlot, "{token}", StringComparison.Ordinal) : null,
        };

        OptInResult result;
        try
        {
            result = await OptInAsync(capture, request, cancellationToken).ConfigureAwait(false);
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
        activity?.SetTag("funnel.new_lead", result.IsNewLead);

        return Accepted(context, o);
    }

    public static async Task<IResult> ConfirmAsync(
        HttpContext context,
        [FromQuery] string? token,
        [FromServices] LeadCapture capture,
        [FromServices] IOptions<FunnelAspNetCoreOptions> options,
        CancellationToken cancellationToken)
    {
        using Activity? activity = FunnelDiagnostics.Source.StartActivity("funnel.confirm");
        if (string.IsNullOrWhiteSpace(token))
        {
            return Problem("token", "The confirmation token is required.");
        }

        ConfirmationResult result = await capture.ConfirmAsync(token.Trim(), cancellationToken).ConfigureAwait(false);
        activity?.SetTag("funnel.confirmation", result.Status.ToString());
        switch (result.Status)
        {
            case ConfirmationStatus.Confirmed:
                WriteVisitor(context, options.Value, result.Lead!.Id);
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
        [FromServices] IClock clock,
        [FromServices] IOptions<FunnelAspNetCoreOptions> options,
        CancellationToken cancellationToken)
    {
        using Activity? activity = FunnelDiagnostics.Source.StartActivity("funnel.page_view");
        // Anyone may post here: cap the body before parsing it, rather than at the server's 30 MB default.
        if (context.Request.ContentLength > MaxPageViewBytes)
        {
            return PageViewTooLarge();
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxPageViewBytes;
        }

        PageViewBody? body;
        try
        {
            // Read whatever the content type: navigator.sendBeacon posts JSON as text/plain.
            body = await JsonSerializer.DeserializeAsync<PageViewBody>(context.Request.Body, JsonSerializerOptions.Web, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return Problem("body", "The body must be a JSON object such as {\"url\":\"/blog/post?utm_source=newsletter\",\"title\":\"...\",\"referrer\":\"...\"}.");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return PageViewTooLarge();
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
        var viewed = new PageViewed
        {
            LeadId = visitor,
            OccurredAt = clock.GetCurrentInstant(),
            Attribution = AttributionOf(query, Blank(body!.Referrer)),
            Page = page.AbsolutePath,
            Title = Blank(body.Title),
        };
        activity?.SetTag("funnel.page", viewed.Page);
        await recorder.RecordAsync([viewed], cancellationToken).ConfigureAwait(false);
        return Results.NoContent();
    }

    private static async Task<OptInResult> OptInAsync(LeadCapture capture, OptInRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await capture.OptInAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException) when (request.VisitorId is not null)
        {
            // The browser's visitor id already belongs to another lead (a shared computer): start a new lead.
            return await capture.OptInAsync(request with { VisitorId = null }, cancellationToken).ConfigureAwait(false);
        }
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
        Uri.TryCreate(context.Request.Headers.Referer.ToString(), UriKind.Absolute, out Uri? referer)
            ? QueryHelpers.ParseQuery(referer.Query)
            : [];

    private static Attribution AttributionOf(IReadOnlyDictionary<string, StringValues> query, string? referrer) =>
        LeadCapture.AttributionFrom(
            Blank(query.GetValueOrDefault("utm_source")),
            Blank(query.GetValueOrDefault("utm_medium")),
            Blank(query.GetValueOrDefault("utm_campaign")),
            Blank(query.GetValueOrDefault("utm_content")),
            Blank(query.GetValueOrDefault("utm_term")),
            referrer);

    private static string? Blank(StringValues value) => StringValues.IsNullOrEmpty(value) || string.IsNullOrWhiteSpace(value.ToString()) ? null : value.ToString().Trim();

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static LeadId? ReadVisitor(HttpContext context, FunnelAspNetCoreOptions options) =>
        Guid.TryParse(context.Request.Cookies[options.VisitorCookieName], out Guid id) && id != Guid.Empty ? new LeadId(id) : null;

    private static void WriteVisitor(HttpContext context, FunnelAspNetCoreOptions options, LeadId id) =>
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

    private static Uri ConfirmationLink(HttpContext context, Uri? origin, string token)
    {
        // Ask routing for the confirm endpoint of this MapFunnel group (with the path base) rather than editing the
        // request path, which may end in '/'. The Host header is the client's to choose: a configured origin keeps
        // the emailed token on this site.
        HttpRequest request = context.Request;
        string path = context.RequestServices.GetRequiredService<LinkGenerator>()
            .GetPathByName(context, ConfirmEndpointName, new RouteValueDictionary { ["token"] = token })
            ?? throw new InvalidOperationException("The Funnel confirm endpoint is not mapped; call MapFunnel.");
        string site = origin is null ? $"{request.Scheme}://{request.Host}" : origin.GetLeftPart(UriPartial.Authority);
        return new Uri(site + path);
    }

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

    private static IResult PageViewTooLarge() => Results.ValidationProblem(
        new Dictionary<string, string[]>(StringComparer.Ordinal) { ["body"] = [$"The body must be at most {MaxPageViewBytes} bytes."] },
        title: "The page view was rejected.",
        statusCode: StatusCodes.Status413PayloadTooLarge);

    private static IResult Problem(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]>(StringComparer.Ordinal) { [field] = [message] }, title: "The request was rejected.");

    /// <summary>The JSON body of a page view.</summary>
    internal sealed record PageViewBody(string? Url, string? Title, string? Referrer);

    /// <summary>A small JSON status answer.</summary>
    internal sealed record StatusBody(string Status);
}
