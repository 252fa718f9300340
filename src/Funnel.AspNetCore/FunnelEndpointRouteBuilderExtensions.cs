using Funnel.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Funnel endpoints.</summary>
/// <threadsafety>Call these methods while building the app, from one thread.</threadsafety>
public static class FunnelEndpointRouteBuilderExtensions
{
    /// <summary>Maps the opt-in, confirmation, page-view, email tracking and payment webhook endpoints under a route prefix.</summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item><c>POST {prefix}/opt-in</c>: a form with <c>email</c>, <c>magnet</c> (a key of
    /// <see cref="FunnelAspNetCoreOptions.LeadMagnets"/>), optional <c>timezone</c>, <c>referrer</c> and <c>utm_*</c>
    /// fields (else the UTM parameters of the <c>Referer</c> page), the antiforgery token and the empty honeypot field.
    /// Answers 303 to <see cref="FunnelAspNetCoreOptions.OptInRedirect"/> or 202; a filled honeypot gets the same answer
    /// and stores nothing; bad input gets 400 ProblemDetails whose <c>errors</c> name the field, and stores nothing.</item>
    /// <item><c>GET {prefix}/confirm?token=...</c>: confirms a double opt-in; redirects to
    /// <see cref="FunnelAspNetCoreOptions.ConfirmedRedirect"/> or answers 200; an invalid, used or expired token gets 400 naming <c>token</c>.
    /// When the magnet (named by the link's <c>magnet</c>) has an asset, the confirmation records its
    /// <see cref="Funnel.Leads.LeadMagnetDeliveryRequested"/>; an opt-in whose consent is granted at once records it there.</item>
    /// <item><c>GET {prefix}/magnets/{key}/download?lead=...&amp;exp=...&amp;sig=...</c>: the signed, expiring link of a lead
    /// magnet's delivery email. Records <see cref="Funnel.Leads.LeadMagnetDownloaded"/>, then serves the
    /// <see cref="Funnel.Leads.LeadMagnet.AssetFile"/> from <see cref="FunnelAspNetCoreOptions.MagnetFiles"/> or
    /// redirects (302) to the <see cref="Funnel.Leads.LeadMagnet.AssetUrl"/>. A missing or malformed field gets 400, a
    /// changed link 403 naming <c>sig</c>, an expired one 410 naming <c>exp</c>, an unknown magnet or missing file 404
    /// naming <c>key</c>, all ProblemDetails.</item>
    /// <item><c>POST {prefix}/page-view</c>: a JSON body <c>{"url", "title", "referrer"}</c>; records
    /// <see cref="Funnel.Events.PageViewed"/> with the UTM attribution of the URL for the visitor cookie's lead id. Answers 204;
    /// a bad field gets 400 and a body over 16 KiB gets 413, both ProblemDetails naming the field.</item>
    /// <item><c>GET {prefix}/email/open/{token}</c>: the open pixel. Always answers a 1×1 GIF; records
    /// <see cref="Funnel.Events.EmailOpened"/> only for a valid open token.</item>
    /// <item><c>GET {prefix}/email/click/{token}</c>: redirects (302) to the URL inside a valid signed click token and records
    /// <see cref="Funnel.Events.EmailClicked"/>; a tampered or foreign token gets 400 naming <c>token</c> and no redirect.</item>
    /// <item><c>GET {prefix}/email/unsubscribe/{token}</c> shows a confirmation page, or, when <see cref="Funnel.Email.EmailTopic"/>s are
    /// registered, the preference centre (a checkbox per topic; <c>POST</c> with <c>preferences=1</c> and a <c>topic</c> field per topic
    /// to keep leaves the others, recording <see cref="Funnel.Events.EmailUnsubscribed"/> with the topic); <c>POST</c> with the form body
    /// <c>List-Unsubscribe=One-Click</c> (RFC 8058) unsubscribes the lead and records <see cref="Funnel.Events.EmailUnsubscribed"/>
    /// once; posting again changes nothing. Set <see cref="Funnel.Sequences.SequenceOptions.Tracking"/> with a base URL of
    /// <c>{site}{prefix}/email</c> so the sequence emails link here.</item>
    /// <item><c>POST {prefix}/webhooks/{provider}</c>: a payment provider's webhook for a provider registered with
    /// <c>AddFunnelPaymentWebhooks</c> (else 404). The raw body and headers go to <see cref="Funnel.Payments.WebhookProcessor"/>:
    /// a rejected signature or payload gets 400 ProblemDetails with the <c>reason</c>; a replay gets 200 and changes
    /// nothing; an authentic event that can never apply (unknown order, unreadable metadata) is parked with its reason,
    /// logged once and answered 200 <c>unprocessable</c>; a processing failure stays stored for retry and gets 503 so the
    /// provider delivers again.</item>
    /// </list>
    /// <para>
    /// Every endpoint checks its token, signature or size before reading more, reads within fixed limits and answers
    /// every bad request with a 4xx ProblemDetails naming the field; the opt-in, confirmation and unsubscribe endpoints
    /// carry the <c>funnel-forms</c> rate-limiting policy and the page-view, email tracking and download endpoints the
    /// <c>funnel-tracking</c> one (see <see cref="FunnelRateLimitOptions"/>; they apply with <c>app.UseRateLimiter()</c>).
    /// </para>
    /// <para>Requires <c>AddFunnelAspNetCore</c>. Accepted events go through the <see cref="FunnelEventRecorder"/>.</para>
    /// </remarks>
    /// <param name="endpoints">The app or a route group.</param>
    /// <param name="prefix">The route prefix.</param>
    /// <returns>The route group, to add conventions such as rate limiting.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static RouteGroupBuilder MapFunnel(this IEndpointRouteBuilder endpoints, string prefix = "/funnel")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        RouteGroupBuilder group = endpoints.MapGroup(prefix).WithTags("Funnel");
        const string Forms = FunnelRateLimitOptions.FormsPolicy;
        const string Tracking = FunnelRateLimitOptions.TrackingPolicy;
        group.MapPost("/opt-in", FunnelEndpoints.OptInAsync).DisableAntiforgery().WithName("FunnelOptIn").RequireRateLimiting(Forms);
        group.MapGet("/confirm", FunnelEndpoints.ConfirmAsync).WithName(FunnelEndpoints.ConfirmEndpointName).RequireRateLimiting(Forms);
        group.MapPost("/page-view", FunnelEndpoints.PageViewAsync).DisableAntiforgery().WithName("FunnelPageView").RequireRateLimiting(Tracking);
        group.MapGet("/email/open/{token}", EmailTrackingEndpoints.OpenAsync).WithName("FunnelEmailOpen").RequireRateLimiting(Tracking);
        group.MapGet("/email/click/{token}", EmailTrackingEndpoints.ClickAsync).WithName("FunnelEmailClick").RequireRateLimiting(Tracking);
        group.MapGet("/email/unsubscribe/{token}", EmailTrackingEndpoints.UnsubscribePage).WithName("FunnelEmailUnsubscribePage").RequireRateLimiting(Forms);
        group.MapPost("/email/unsubscribe/{token}", EmailTrackingEndpoints.UnsubscribeAsync).DisableAntiforgery().WithName("FunnelEmailUnsubscribe").RequireRateLimiting(Forms);
        group.MapGet("/magnets/{key}/download", MagnetEndpoints.DownloadAsync).WithName(MagnetDownloads.EndpointName).RequireRateLimiting(Tracking);
        group.MapPost("/webhooks/{provider}", WebhookEndpoints.ReceiveAsync).DisableAntiforgery().WithName("FunnelPaymentWebhook");
        return group;
    }
}
