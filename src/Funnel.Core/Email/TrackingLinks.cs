using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FluentValidation;

namespace Funnel.Email;

/// <summary>What a tracking link records: an open, a click (with its target) or an unsubscribe.</summary>
public enum TrackingAction
{
    /// <summary>The open pixel was loaded.</summary>
    Open,

    /// <summary>A link was clicked; the token carries the target URL.</summary>
    Click,

    /// <summary>The lead asked to unsubscribe.</summary>
    Unsubscribe,
}

/// <summary>The verified content of a tracking token.</summary>
/// <param name="Action">What the link records.</param>
/// <param name="Lead">The lead the email went to.</param>
/// <param name="Email">The email key, such as <c>nurture-3</c>.</param>
/// <param name="Target">The click target; <see langword="null"/> for opens and unsubscribes.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record TrackingToken(TrackingAction Action, LeadId Lead, string Email, Uri? Target = null);

/// <summary>Where tracking links point and the key that signs them.</summary>
/// <threadsafety>Configure once at start-up; do not change afterwards.</threadsafety>
public sealed class TrackingOptions
{
    /// <summary>Gets or sets the absolute base URL the tracking endpoints are mapped under, such as <c>https://example.com/email</c>.</summary>
    /// <value>Defaults to <see langword="null"/>: set it to enable tracking links.</value>
    public string? BaseUrl { get; set; }

    /// <summary>Gets or sets the HMAC-SHA256 signing key: a secret of at least 32 bytes in UTF-8.</summary>
    /// <value>Defaults to <see langword="null"/>: set it to enable tracking links.</value>
    public string? SigningKey { get; set; }
}

/// <summary>Builds and verifies signed tracking URLs (open pixel, click redirect, unsubscribe) and the RFC 8058 one-click unsubscribe headers.</summary>
/// <remarks>
/// <para>
/// A token is <c>base64url(payload) "." base64url(HMAC-SHA256(key, payload))</c>; the payload holds the action, the
/// lead, the email key and, for clicks, the target URL. Changing any byte makes <see cref="TryReadToken"/> fail
/// (compared in constant time), and because the click target is inside the signed payload the redirect endpoint
/// cannot be used as an open redirect. Tokens do not expire: unsubscribe links must keep working.
/// </para>
/// <para>
/// The URLs are <c>{BaseUrl}/open/{token}</c>, <c>{BaseUrl}/click/{token}</c> and <c>{BaseUrl}/unsubscribe/{token}</c>;
/// the ASP.NET Core package maps those endpoints.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed partial class TrackingLinks
{
    private readonly byte[] key;
    private readonly string baseUrl;

    /// <summary>Initializes the links from validated options.</summary>
    /// <param name="options">The options.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The options are invalid; the message names the option.</exception>
    public TrackingLinks(TrackingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        FluentValidation.Results.ValidationResult result = new TrackingOptionsValidator().Validate(options);
        if (!result.IsValid)
        {
            throw new ArgumentException(string.Join(" ", result.Errors.Select(e => e.ErrorMessage)), nameof(options));
        }

        key = Encoding.UTF8.GetBytes(options.SigningKey!);
        baseUrl = options.BaseUrl!.TrimEnd('/');
    }

    /// <summary>Returns the open-pixel URL for an email.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="email">The email key.</param>
    /// <returns>The URL.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="email"/> is <see langword="null"/>.</exception>
    public Uri OpenPixel(LeadId lead, string email) => Build("open", new TrackingToken(TrackingAction.Open, lead, email));

    /// <summary>Returns a click-tracking URL that redirects to <paramref name="target"/>.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="email">The email key.</param>
    /// <param name="target">The absolute URL to redirect to.</param>
    /// <returns>The URL.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="target"/> is not an absolute http(s) URL.</exception>
    public Uri Click(LeadId lead, string email, Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!target.IsAbsoluteUri || (target.Scheme != Uri.UriSchemeHttps && target.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException("The click target must be an absolute http or https URL.", nameof(target));
        }

        return Build("click", new TrackingToken(TrackingAction.Click, lead, email, target));
    }

    /// <summary>Returns the unsubscribe URL for an email (also used for the one-click POST).</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="email">The email key.</param>
    /// <returns>The URL.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="email"/> is <see langword="null"/>.</exception>
    public Uri Unsubscribe(LeadId lead, string email) => Build("unsubscribe", new TrackingToken(TrackingAction.Unsubscribe, lead, email));

    /// <summary>Rewrites the <c>href="http(s)://…"</c> links of an HTML body into click-tracking links that redirect to them.</summary>
    /// <remarks>
    /// Matches <c>href</c> attributes quoted with <c>"</c> or <c>'</c> whose (HTML-decoded) value is an absolute
    /// <c>http</c> or <c>https</c> URL. Other links (<c>mailto:</c>, <c>tel:</c>, <c>#anchors</c>, relative paths) and
    /// this instance's own open, click and unsubscribe links are left unchanged, as is everything
    /// else in the HTML. Rewriting an already rewritten body changes nothing.
    /// </remarks>
    /// <param name="html">The rendered HTML body.</param>
    /// <param name="lead">The recipient lead.</param>
    /// <param name="email">The email key.</param>
    /// <returns>The HTML with the links rewritten.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="html"/> or <paramref name="email"/> is <see langword="null"/>.</exception>
    public string RewriteLinks(string html, LeadId lead, string email)
    {
        ArgumentNullException.ThrowIfNull(html);
        ArgumentNullException.ThrowIfNull(email);
        return HrefPattern().Replace(html, match =>
        {
            string value = WebUtility.HtmlDecode(match.Groups["url"].Value);
            if (IsTrackingLink(value)
                || !Uri.TryCreate(value, UriKind.Absolute, out Uri? target)
                || (target.Scheme != Uri.UriSchemeHttps && target.Scheme != Uri.UriSchemeHttp))
            {
                return match.Value;
            }

            string quote = match.Groups["q"].Value;
            return match.Groups["pre"].Value + quote + WebUtility.HtmlEncode(Click(lead, email, target).AbsoluteUri) + quote;
        });
    }

    /// <summary>Returns the message with the <c>List-Unsubscribe</c> and <c>List-Unsubscribe-Post: List-Unsubscribe=One-Click</c> headers (RFC 8058).</summary>
    /// <param name="message">The message.</param>
    /// <param name="lead">The recipient lead.</param>
    /// <param name="email">The email key.</param>
    /// <returns>The message with the headers set.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public EmailMessage WithListUnsubscribe(EmailMessage message, LeadId lead, string email)
    {
        ArgumentNullException.ThrowIfNull(message);
        Uri url = Unsubscribe(lead, email);
        return message with
        {
            Headers = message.Headers
                .SetItem("List-Unsubscribe", "<" + url.AbsoluteUri + ">")
                .SetItem("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        };
    }

    /// <summary>Verifies a token from a tracking URL and reads it.</summary>
    /// <param name="token">The token (the last path segment).</param>
    /// <param name="result">The token's content when valid.</param>
    /// <returns><see langword="true"/> when the signature is valid and the payload well formed.</returns>
    public bool TryReadToken(string? token, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TrackingToken? result)
    {
        result = null;
        if (string.IsNullOrEmpty(token) || token.Length > 8192)
        {
            return false;
        }

        int dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == token.Length - 1)
        {
            return false;
        }

        byte[] payload;
        byte[] signature;
        try
        {
            payload = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return false;
        }

        if (!CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(key, payload), signature))
        {
            return false;
        }

        try
        {
            Payload? p = JsonSerializer.Deserialize<Payload>(payload);
            if (p is null || p.E is null || !Enum.IsDefined(p.A) || (p.A == TrackingAction.Click) != (p.U is not null))
            {
                return false;
            }

            result = new TrackingToken(p.A, new LeadId(p.L), p.E, p.U is null ? null : new Uri(p.U, UriKind.Absolute));
            return true;
        }
        catch (Exception e) when (e is JsonException or UriFormatException)
        {
            return false;
        }
    }

    private Uri Build(string path, TrackingToken token)
    {
        ArgumentNullException.ThrowIfNull(token.Email);
        byte[] payload = JsonSerializer.SerializeToUtf8Bytes(new Payload(token.Action, token.Lead.Value, token.Email, token.Target?.AbsoluteUri));
        string text = Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(key, payload));
        return new Uri(baseUrl + "/" + path + "/" + text, UriKind.Absolute);
    }

    private bool IsTrackingLink(string url) =>
        url.StartsWith(baseUrl + "/open/", StringComparison.OrdinalIgnoreCase)
        || url.StartsWith(baseUrl + "/click/", StringComparison.OrdinalIgnoreCase)
        || url.StartsWith(baseUrl + "/unsubscribe/", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex("""(?<pre>\bhref\s*=\s*)(?<q>["'])(?<url>https?://[^"'<>\s]*)\k<q>""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HrefPattern();

    private sealed record Payload(TrackingAction A, Guid L, string E, string? U);
}
