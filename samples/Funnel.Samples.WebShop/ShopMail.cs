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

    /// <summary>Returns the nurture of <see cref="GuideSequences.Nurture"/>, started by the confirmed opt-in (the marketing emails need granted consent).</summary>
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
            Triggers = [EventMatch.For(EventTypes.OptInConfirmed)],
            Steps = guide.Steps.SetItem(0, first),
            Fields = guide.Fields.SetItem("shop_url", publicUrl.AbsoluteUri.TrimEnd('/')),
        };
    }
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
    public string Render(string text, IReadOnlyDictionary<string, string> fields, bool html)
    {
        ArgumentNullException.ThrowIfNull(fields);
        string rendered = PlaceholderTemplateRenderer.Instance.Render(text, fields, html);
        if (!fields.TryGetValue("unsubscribe_url", out string? unsubscribe) || !Uri.TryCreate(unsubscribe, UriKind.Absolute, out Uri? url)
            || !links.TryReadToken(url.Segments[^1], out TrackingToken? token))
        {
            return rendered;
        }

        string shop = settings.PublicUrl.AbsoluteUri.TrimEnd('/');
        return LinkPattern().Replace(rendered, m =>
        {
            string target = html ? WebUtility.HtmlDecode(m.Value) : m.Value;
            if (!target.StartsWith(shop + "/", StringComparison.Ordinal) || target.StartsWith(settings.TrackingBaseUrl + "/", StringComparison.Ordinal))
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

/// <summary>Emails the double opt-in link as soon as someone asks for the guide; the guide itself follows from the nurture sequence.</summary>
public sealed class ConfirmationMailer(IEmailSender sender, FunnelEventRecorder recorder, IClock clock, ILogger<ConfirmationMailer> logger) : IOptInNotifier
{
    /// <summary>The email key of the confirmation email.</summary>
    public const string EmailKey = "opt-in-confirmation";

    /// <inheritdoc/>
    public async Task NotifyAsync(OptInNotification notification, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notification);
        if (notification.ConfirmationLink is not { } link)
        {
            return;
        }

        string title = notification.Magnet.Title;
        var message = new EmailMessage
        {
            To = notification.Result.Lead.Email,
            Subject = "Confirm your address to get " + title,
            TextBody = $"Thanks for asking for {title}. Please confirm your address to get it: {link.AbsoluteUri}\n\nIf you did not ask for it, ignore this email.",
            HtmlBody = $"<p>Thanks for asking for {WebUtility.HtmlEncode(title)}.</p><p><a href=\"{WebUtility.HtmlEncode(link.AbsoluteUri)}\">Confirm your address and get the guide</a></p><p>If you did not ask for it, ignore this email.</p>",
            IdempotencyKey = string.Create(CultureInfo.InvariantCulture, $"{notification.Result.Lead.Id}:{EmailKey}:{clock.GetCurrentInstant().ToUnixTimeTicks()}"),
        };
        EmailSendResult sent = await sender.SendAsync(message, cancellationToken);
        FunnelEvent recorded = sent.Status == EmailSendStatus.Sent
            ? new EmailSent { LeadId = notification.Result.Lead.Id, OccurredAt = clock.GetCurrentInstant(), Email = EmailKey }
            : new EmailFailed { LeadId = notification.Result.Lead.Id, OccurredAt = clock.GetCurrentInstant(), Email = EmailKey, Permanent = sent.Status == EmailSendStatus.PermanentFailure, Attempt = 1, Error = sent.Error ?? "failed" };
        if (sent.Status != EmailSendStatus.Sent)
        {
            ShopLog.ConfirmationFailed(logger, notification.Result.Lead.Id, sent.Error);
        }

        await recorder.RecordAsync([recorded], cancellationToken);
    }
}

/// <summary>Keeps the events in memory for the admin report and hands each one to the sequence engine, which enrols and ends nurtures.</summary>
/// <remarks>
/// The engine records the events it causes in the <see cref="IFunnelEventLog"/> itself (the <see cref="ShopEventLog"/>
/// shows them in the report), so nothing is appended again here. A production app lets the pipeline's
/// <c>sequences</c> handler do this from its durable event log instead.
/// </remarks>
public sealed class SequencedEventSink(InMemoryFunnelEventSink store, IServiceProvider services) : IFunnelEventSink
{
    /// <inheritdoc/>
    public async Task AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        await store.AppendAsync(events, cancellationToken);
        SequenceEngine engine = services.GetRequiredService<SequenceEngine>();
        foreach (FunnelEvent e in events)
        {
            await engine.HandleAsync(e, cancellationToken);
        }
    }
}

/// <summary>The shop's event log: an in-memory log whose new events also show in the admin report's event store.</summary>
/// <remarks>Until the ASP.NET Core endpoints record into the <see cref="IFunnelEventLog"/> too, the report reads the sink's store.</remarks>
public sealed class ShopEventLog(InMemoryFunnelEventSink store) : IFunnelEventLog
{
    private readonly InMemoryFunnelEventLog log = new();

    /// <inheritdoc/>
    public async Task<int> AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        List<FunnelEvent> appended = [];
        foreach (FunnelEvent e in events)
        {
            if (await log.AppendAsync([e], cancellationToken) == 1)
            {
                appended.Add(e);
            }
        }

        if (appended.Count > 0)
        {
            await store.AppendAsync(appended, cancellationToken);
        }

        return appended.Count;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<LoggedEvent>> ReadAsync(long after, int max, CancellationToken cancellationToken = default) =>
        log.ReadAsync(after, max, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<LoggedEvent>> ReadLeadAsync(LeadId lead, int max, CancellationToken cancellationToken = default) =>
        log.ReadLeadAsync(lead, max, cancellationToken);
}
