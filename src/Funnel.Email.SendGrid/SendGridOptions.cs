using System.Net.Mail;
using System.Security.Cryptography;
using FluentValidation;
using NodaTime;

namespace Funnel.Email.SendGrid;

/// <summary>The API key, host, default sender and Event Webhook settings of the SendGrid adapter.</summary>
/// <threadsafety>Configure once at start-up; do not change afterwards.</threadsafety>
public sealed class SendGridOptions
{
    /// <summary>Gets or sets the SendGrid API key (with the Mail Send permission).</summary>
    /// <value>Required.</value>
    public string ApiKey { get; set; } = string.Empty;

    /// <summary>Gets or sets the base address of the SendGrid API.</summary>
    /// <value>Defaults to <c>https://api.sendgrid.com</c>; an absolute http(s) URL (tests use a loopback stand-in).</value>
    public string Host { get; set; } = "https://api.sendgrid.com";

    /// <summary>Gets or sets the sender of messages that name none, such as <c>Jane &lt;jane@example.com&gt;</c>.</summary>
    /// <value>Required.</value>
    public string DefaultFrom { get; set; } = string.Empty;

    /// <summary>Gets or sets the timeout of each API call.</summary>
    /// <value>Defaults to 30 seconds; positive and at most 10 minutes.</value>
    public Duration Timeout { get; set; } = Duration.FromSeconds(30);

    /// <summary>Gets or sets the Event Webhook's verification key: the base64 public key SendGrid shows under Mail Settings, Signed Event Webhook.</summary>
    /// <remarks>An ECDSA P-256 public key in DER (SubjectPublicKeyInfo), base64. <c>MapFunnelSendGridWebhook</c> needs it.</remarks>
    /// <value>Defaults to <see langword="null"/>: no webhook.</value>
    public string? WebhookPublicKey { get; set; }

    /// <summary>Gets or sets how far the webhook's signed timestamp may be from now; older (or later) requests are rejected as replays.</summary>
    /// <value>Defaults to 10 minutes; at least 1 minute and at most 1 day.</value>
    public Duration WebhookTolerance { get; set; } = Duration.FromMinutes(10);

    /// <summary>Gets or sets the largest webhook body accepted, in bytes.</summary>
    /// <value>Defaults to 4 MiB; between 1 KiB and 64 MiB.</value>
    public int MaxWebhookBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Gets the SendGrid unsubscribe groups (ASM group ids) of the email topics, such as <c>newsletter</c> → 12345.</summary>
    /// <remarks>
    /// A message of a mapped topic is sent with its group (<c>asm.group_id</c>), so SendGrid's own unsubscribe link and
    /// its <c>group_unsubscribe</c> event leave that topic only (<see cref="EmailFeedback.Topic"/>); a
    /// <c>group_unsubscribe</c> from an unmapped group leaves all marketing email. Map each topic once; group ids are positive.
    /// </remarks>
    /// <value>Defaults to empty.</value>
    public Dictionary<string, int> UnsubscribeGroups { get; } = new(StringComparer.Ordinal);
}

/// <summary>Validates <see cref="SendGridOptions"/>.</summary>
internal sealed class SendGridOptionsValidator : AbstractValidator<SendGridOptions>
{
    public SendGridOptionsValidator()
    {
        RuleFor(o => o.ApiKey).NotEmpty();
        RuleFor(o => o.Host).Must(h => Uri.TryCreate(h, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
            .WithMessage("'Host' must be an absolute http(s) URL such as 'https://api.sendgrid.com'.");
        RuleFor(o => o.DefaultFrom).NotEmpty().Must(f => MailAddress.TryCreate(f, out _))
            .WithMessage("'DefaultFrom' must be a mailbox such as 'Jane <jane@example.com>'.");
        RuleFor(o => o.Timeout).Must(t => t > Duration.Zero && t <= Duration.FromMinutes(10))
            .WithMessage("'Timeout' must be positive and at most 10 minutes.");
        RuleFor(o => o.WebhookPublicKey).Must(k => SendGridWebhook.TryImportKey(k!, out ECDsa? key) && Dispose(key))
            .When(o => o.WebhookPublicKey is not null)
            .WithMessage("'WebhookPublicKey' must be a base64 ECDSA P-256 public key (DER SubjectPublicKeyInfo), as SendGrid shows it.");
        RuleFor(o => o.WebhookTolerance).Must(t => t >= Duration.FromMinutes(1) && t <= Duration.FromDays(1))
            .WithMessage("'WebhookTolerance' must be at least 1 minute and at most 1 day.");
        RuleFor(o => o.MaxWebhookBodyBytes).InclusiveBetween(1024, 64 * 1024 * 1024);
        RuleFor(o => o.UnsubscribeGroups).Must(g => g.All(p => Funnel.Key.IsValid(p.Key) && p.Value > 0) && g.Values.Distinct().Count() == g.Count)
            .WithMessage("'UnsubscribeGroups' must map topic keys to positive SendGrid group ids, each group to one topic.");
    }

    private static bool Dispose(ECDsa? key)
    {
        key?.Dispose();
        return true;
    }
}
