using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Funnel.AspNetCore;
using Funnel.Definitions;
using Funnel.Email;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Samples.WebShop;

/// <summary>Where the shop is reachable and how its emails link back to it.</summary>
/// <param name="PublicUrl">The shop's absolute base URL, such as <c>http://127.0.0.1:5080</c>.</param>
/// <param name="Smtp4devUi">smtp4dev's web UI when the shop started it, else <see langword="null"/>.</param>
/// <param name="SmtpServer">The SMTP server the emails go to, or <see langword="null"/> when they go to the dev outbox.</param>
public sealed record ShopMailSettings(Uri PublicUrl, Uri? Smtp4devUi, string? SmtpServer)
{
    /// <summary>Gets the base URL of the tracking endpoints that <c>MapFunnel("/funnel")</c> maps.</summary>
    public string TrackingBaseUrl => PublicUrl.AbsoluteUri.TrimEnd('/') + "/funnel/email";
}

/// <summary>The guide's nurture sequence as the shop sends it: it starts when the opt-in is confirmed and its first email links to the sales page.</summary>
public static class ShopSequences
{
    /// <summary>The key of the first nurture email, the one that delivers the guide.</summary>
    public const string GuideEmail = "nurture-1";

    /// <summary>Returns the nurture of <see cref="GuideSequences.Nurture"/> with the shop's links in the guide email.</summary>
    /// <remarks>
    /// It starts on the opt-in; with the guide's double opt-in it waits for the confirmation (marketing emails need
    /// granted consent), so the guide email goes out right after the lead confirms.
    /// </remarks>
    public static SequenceDefinition Nurture(Uri publicUrl)
    {
        ArgumentNullException.ThrowIfNull(publicUrl);
        SequenceDefinition guide = GuideSequences.Nurture;
        SequenceStep first = guide.Steps[0] with
        {
            Subject = "Your E-Book Quick-Start Guide",
            TextBody = "Hi {{ first_name }}, here is your guide, as promised: {{ shop_url }}/guide\n\n"
                + "When you are ready for the whole system, The E-Book Masterclass is open this week: {{ shop_url }}/sales\n\nUnsubscribe: {{ unsubscribe_url }}",
            HtmlBody = "<p>Hi {{ first_name }}, here is <a href=\"{{ shop_url }}/guide\">your guide</a>, as promised.</p>"
                + "<p>When you are ready for the whole system, <a href=\"{{ shop_url }}/sales\">The E-Book Masterclass</a> is open this week.</p>"
                + "<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>",
        };
        return guide with
        {
            Steps = guide.Steps.SetItem(0, first),
            Fields = guide.Fields.SetItem("shop_url", publicUrl.AbsoluteUri.TrimEnd('/')),
        };
    }
}

/// <summary>The shop's wording of the double opt-in confirmation email: the library's confirmation sequence, same key, so it replaces the built-in one.</summary>
public static class ShopConfirmation
{
    /// <summary>Gets the confirmation sequence as the shop words it.</summary>
    public static SequenceDefinition Sequence { get; } = FunnelSequences.OptInConfirmation with
    {
        Steps =
        [
            FunnelSequences.OptInConfirmation.Steps[0] with
            {
                Subject = "Confirm your address to get {{ magnet_title }}",
                TextBody = "Thanks for asking for {{ magnet_title }}. Please confirm your address to get it: {{ confirmation_url }}\n\nIf you did not ask for it, ignore this email.",
                HtmlBody = "<p>Thanks for asking for {{ magnet_title }}.</p><p><a href=\"{{ confirmation_url }}\">Confirm your address and get the guide</a></p><p>If you did not ask for it, ignore this email.</p>",
            },
        ],
    };
}

/// <summary>Renders with the built-in placeholders, then turns every link to a shop page into a signed click-tracking link.</summary>
/// <remarks>
/// The engine passes the signed unsubscribe URL of the lead and email in <c>unsubscribe_url</c>; its token names
/// both, so the click links are signed for the same lead and email.
/// </remarks>
public sealed partial class TrackedLinkRenderer(ShopMailSettings settings, TrackingLinks links) : ITemplateRenderer
{
    /// <inheritdoc/>
    public ImmutableArray<string> GetFields(string text) => PlaceholderTemplateRenderer.Instance.GetFields(text);

    /// <inheritdoc/>
    public string Render(string text, TemplateModel model, bool html)
    {
        ArgumentNullException.ThrowIfNull(model);
        string rendered = PlaceholderTemplateRenderer.Instance.Render(text, model, html);
        if (!model.Fields.TryGetValue("unsubscribe_url", out string? unsubscribe) || !Uri.TryCreate(unsubscribe, UriKind.Absolute, out Uri? url)
            || !links.TryReadToken(url.Segments[^1], out TrackingToken? token))
        {
            return rendered;
        }

        string shop = settings.PublicUrl.AbsoluteUri.TrimEnd('/');
        return LinkPattern().Replace(rendered, m =>
        {
            string target = html ? WebUtility.HtmlDecode(m.Value) : m.Value;
            // Links to the library's own endpoints (tracking, the opt-in confirmation) stay as they are.
            if (!target.StartsWith(shop + "/", StringComparison.Ordinal) || target.StartsWith(shop + "/funnel/", StringComparison.Ordinal))
            {
                return m.Value;
            }

            string tracked = links.Click(token.Lead, token.Email, new Uri(target)).AbsoluteUri;
            return html ? WebUtility.HtmlEncode(tracked) : tracked;
        });
    }

    [GeneratedRegex(@"https?://[^\s""'<>]+")]
    private static partial Regex LinkPattern();
}
