using Funnel.Leads;

namespace Funnel.AspNetCore;

/// <summary>Configures the Funnel endpoints mapped by <c>MapFunnel</c>.</summary>
/// <remarks>
/// Validated when the host starts: at least one lead magnet, unique magnet keys, redirects that are local paths
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
}
