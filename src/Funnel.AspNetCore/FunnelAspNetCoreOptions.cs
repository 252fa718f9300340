using Funnel.Leads;
using Microsoft.Extensions.FileProviders;

namespace Funnel.AspNetCore;

/// <summary>Configures the Funnel endpoints mapped by <c>MapFunnel</c>.</summary>
/// <remarks>
/// Validated when the host starts: at least one lead magnet, unique magnet keys, <see cref="MagnetFiles"/> and a tracking
/// signing key when a magnet has an asset file, redirects that are local paths
/// (starting with a single <c>/</c>), a <see cref="PublicOrigin"/> that is only a scheme, host and port, and non-empty field and cookie names. An invalid option fails the start with
/// <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> naming the option.
/// </remarks>
/// <threadsafety>Configure once at startup; the endpoints only read it afterwards.</threadsafety>
public sealed class FunnelAspNetCoreOptions
{
    /// <summary>Gets the lead magnets an opt-in form may name in its <c>magnet</c> field.</summary>
    /// <value>Defaults to empty; add at least one.</value>
    public IList<LeadMagnet> LeadMagnets { get; } = [];

    /// <summary>Gets or sets the name of the honeypot form field: hidden from people, filled in by bots.</summary>
    /// <remarks>A submission with a value in this field is answered like a real one, and nothing is stored.</remarks>
    /// <value>Defaults to <c>website</c>.</value>
    public string HoneypotField { get; set; } = "website";

    /// <summary>Gets or sets the name of the first-party cookie that carries the visitor's lead id.</summary>
    /// <value>Defaults to <c>funnel_vid</c>.</value>
    public string VisitorCookieName { get; set; } = "funnel_vid";

    /// <summary>Gets or sets the local path a browser is sent to (303 See Other) after an accepted opt-in.</summary>
    /// <value>Defaults to <see langword="null"/>: answer <c>202 Accepted</c> with a small JSON body instead.</value>
    public string? OptInRedirect { get; set; }

    /// <summary>Gets or sets the local path a browser is sent to after a confirmed double opt-in.</summary>
    /// <value>Defaults to <see langword="null"/>: answer <c>200 OK</c> with a small JSON body instead.</value>
    public string? ConfirmedRedirect { get; set; }

    /// <summary>Gets or sets the scheme, host and port the site is reached at, such as <c>https://shop.example</c>, used to build the emailed confirmation link.</summary>
    /// <remarks>
    /// Without it the link takes the scheme and host of the opt-in request, so anyone who can send a request with a
    /// forged <c>Host</c> header can have the lead emailed a link to their own server, carrying the secret token.
    /// Set it in production, or restrict the accepted hosts with <c>AllowedHosts</c> (host filtering). It must be an
    /// absolute <c>http</c> or <c>https</c> URL with no path, query or fragment.
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>: use the request's scheme and host.</value>
    public Uri? PublicOrigin { get; set; }

    /// <summary>Gets or sets the files of the lead magnets that have an <see cref="LeadMagnet.AssetFile"/>, such as a <c>PhysicalFileProvider</c> over a folder outside <c>wwwroot</c>.</summary>
    /// <remarks>
    /// The download endpoint serves <see cref="LeadMagnet.AssetFile"/> from it, and only behind a valid signed link: no
    /// path ever comes from the request. Required when a magnet has an asset file (validated at start-up).
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>: no magnet may have an asset file.</value>
    public IFileProvider? MagnetFiles { get; set; }

    /// <summary>Gets or sets how long the download link in a lead magnet's delivery email works.</summary>
    /// <remarks>
    /// Counted from the confirmation (double opt-in) or the opt-in (single). After it the link answers
    /// <c>410 Gone</c>; opting in again mails a new one. The links are signed with the
    /// <see cref="Email.TrackingOptions.SigningKey"/> of <see cref="Sequences.SequenceOptions.Tracking"/>.
    /// </remarks>
    /// <value>Defaults to 7 days. Must be from 1 minute to 365 days.</value>
    public TimeSpan MagnetLinkLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Gets the per-client rate limits of the public endpoints.</summary>
    /// <remarks>Applied by ASP.NET Core's rate limiter: call <c>app.UseRateLimiter()</c>. See <see cref="FunnelRateLimitOptions"/>.</remarks>
    public FunnelRateLimitOptions RateLimits { get; } = new();

    /// <summary>Gets or sets the window in which repeated email opens, clicks and page views are recorded once.</summary>
    /// <remarks>
    /// The same lead opening the same email, clicking the same link of it, or a visitor viewing the same page, within one
    /// fixed window (counted from the Unix epoch) records one event, on any number of instances: the event id derives
    /// from the lead, the target and the window, and the event log appends each id once.
    /// </remarks>
    /// <value>Defaults to 30 minutes. Must be from 1 second to 1 day.</value>
    public TimeSpan TrackingWindow { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Gets or sets how many page views of one visitor are recorded per <see cref="TrackingWindow"/>.</summary>
    /// <remarks>Counted per process; the page views over the cap are answered like the others and not recorded.</remarks>
    /// <value>Defaults to 100. Must be at least 1.</value>
    public int MaxPageViewsPerVisitor { get; set; } = 100;

    /// <summary>Gets or sets how many webhook events that can never apply (<see cref="Funnel.Payments.WebhookEventStatus.Unprocessable"/>) make the <c>funnel-webhooks</c> health check report Degraded.</summary>
    /// <value>Defaults to 10. Must be at least 1.</value>
    public int UnprocessableWebhooksThreshold { get; set; } = 10;
}

/// <summary>Per-client rate limits of the Funnel endpoints, enforced with <c>Microsoft.AspNetCore.RateLimiting</c>.</summary>
/// <remarks>
/// <para>
/// Two fixed-window policies, partitioned by the client's IP address (<see cref="Microsoft.AspNetCore.Http.ConnectionInfo.RemoteIpAddress"/>;
/// behind a proxy, use the forwarded-headers middleware so it is the client's): <c>funnel-forms</c> for the opt-in,
/// confirmation and unsubscribe endpoints, and <c>funnel-tracking</c> for page views, email opens and clicks. The
/// payment webhooks are not limited: they are signed, and providers send bursts. A request over the limit gets
/// <c>429 Too Many Requests</c> with a ProblemDetails body and a <c>Retry-After</c> header.
/// </para>
/// <para>The limits apply only when the app calls <c>app.UseRateLimiter()</c>.</para>
/// </remarks>
/// <threadsafety>Configure once at startup; the policies only read it afterwards.</threadsafety>
public sealed class FunnelRateLimitOptions
{
    /// <summary>The name of the rate-limiting policy of the opt-in, confirmation and unsubscribe endpoints.</summary>
    public const string FormsPolicy = "funnel-forms";

    /// <summary>The name of the rate-limiting policy of the page-view, email open and click endpoints.</summary>
    public const string TrackingPolicy = "funnel-tracking";

    /// <summary>Gets or sets whether the endpoints are rate limited.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets how many opt-in, confirmation and unsubscribe requests one client may make per <see cref="Window"/>.</summary>
    /// <value>Defaults to 10. Must be at least 1.</value>
    public int FormPermitLimit { get; set; } = 10;

    /// <summary>Gets or sets how many page-view, email open and click requests one client may make per <see cref="Window"/>.</summary>
    /// <value>Defaults to 300. Must be at least 1.</value>
    public int TrackingPermitLimit { get; set; } = 300;

    /// <summary>Gets or sets the length of the fixed window the limits count in.</summary>
    /// <value>Defaults to 1 minute. Must be from 1 second to 1 day.</value>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}
