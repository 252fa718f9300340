using Funnel.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Funnel endpoints.</summary>
/// <threadsafety>Call these methods while building the app, from one thread.</threadsafety>
public static class FunnelEndpointRouteBuilderExtensions
{
    /// <summary>Maps the opt-in, confirmation and page-view endpoints under a route prefix.</summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item><c>POST {prefix}/opt-in</c>: a form with <c>email</c>, <c>magnet</c> (a key of
    /// <see cref="FunnelAspNetCoreOptions.LeadMagnets"/>), optional <c>timezone</c>, <c>referrer</c> and <c>utm_*</c>
    /// fields (else the UTM parameters of the <c>Referer</c> page), the antiforgery token and the empty honeypot field.
    /// Answers 303 to <see cref="FunnelAspNetCoreOptions.OptInRedirect"/> or 202; a filled honeypot gets the same answer
    /// and stores nothing; bad input gets 400 ProblemDetails whose <c>errors</c> name the field, and stores nothing.</item>
    /// <item><c>GET {prefix}/confirm?token=...</c>: confirms a double opt-in; redirects to
    /// <see cref="FunnelAspNetCoreOptions.ConfirmedRedirect"/> or answers 200; an invalid, used or expired token gets 400 naming <c>token</c>.</item>
    /// <item><c>POST {prefix}/page-view</c>: a JSON body <c>{"url", "title", "referrer"}</c>; records
    /// <see cref="Funnel.Events.PageViewed"/> with the UTM attribution of the URL for the visitor cookie's lead id. Answers 204.</item>
    /// </list>
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
        group.MapPost("/opt-in", FunnelEndpoints.OptInAsync).DisableAntiforgery().WithName("FunnelOptIn");
        group.MapGet("/confirm", FunnelEndpoints.ConfirmAsync).WithName("FunnelConfirm");
        group.MapPost("/page-view", FunnelEndpoints.PageViewAsync).DisableAntiforgery().WithName("FunnelPageView");
        return group;
    }
}
