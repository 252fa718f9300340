using System.Globalization;
using System.Net;
using SendGrid;
using SendGrid.Helpers.Mail;

namespace Funnel.Email.SendGrid;

/// <summary>Sends email through the SendGrid v3 mail API (<c>POST /v3/mail/send</c>).</summary>
/// <remarks>
/// Each message carries custom arguments that SendGrid echoes in every Event Webhook event about it:
/// <see cref="MessageIdArg"/> (the idempotency key), <see cref="LeadArg"/> and <see cref="EmailArg"/>, so the webhook
/// records feedback for the right lead and email. A 2xx answer is sent (with SendGrid's <c>X-Message-Id</c>); 429 and
/// 5xx answers, timeouts and network errors are transient; other 4xx answers (a bad request, a revoked key) are
/// permanent. SendGrid reports bounces later, through the webhook, not in the send's answer.
/// </remarks>
internal sealed class SendGridEmailSender : IEmailSender, IDisposable
{
    /// <summary>The custom argument carrying the message's idempotency key.</summary>
    internal const string MessageIdArg = "funnel_message_id";

    /// <summary>The custom argument carrying the lead id.</summary>
    internal const string LeadArg = "funnel_lead";

    /// <summary>The custom argument carrying the email key (a sequence step or broadcast).</summary>
    internal const string EmailArg = "funnel_email";

    private readonly HttpClient _http;
    private readonly SendGridClient _client;
    private readonly EmailAddress _defaultFrom;
    private readonly Dictionary<string, int> _groups;

    public SendGridEmailSender(SendGridOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _http = new HttpClient { Timeout = options.Timeout.ToTimeSpan() };
        _client = new SendGridClient(_http, new SendGridClientOptions { ApiKey = options.ApiKey, Host = options.Host.TrimEnd('/') });
        _defaultFrom = MailHelper.StringToEmailAddress(options.DefaultFrom);
        _groups = new Dictionary<string, int>(options.UnsubscribeGroups, StringComparer.Ordinal);
    }

    public async Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        SendGridMessage mail;
        try
        {
            mail = ToSendGrid(message);
        }
        catch (FormatException e)
        {
            return EmailSendResult.Permanent("The message could not be built: " + e.Message);
        }

        Response response;
        try
        {
            response = await _client.SendEmailAsync(mail, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return EmailSendResult.Transient($"SendGrid request failed ({e.GetType().Name}): {e.Message}");
        }

        string? body = response.IsSuccessStatusCode ? null : await ReadAsync(response, cancellationToken).ConfigureAwait(false);
        string? messageId = response.Headers?.TryGetValues("X-Message-Id", out IEnumerable<string>? ids) == true ? ids.FirstOrDefault() : null;
        return Map(response.StatusCode, messageId, body);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Maps SendGrid's answer to a send result.</summary>
    internal static EmailSendResult Map(HttpStatusCode status, string? messageId, string? body)
    {
        int code = (int)status;
        string error = string.Create(CultureInfo.InvariantCulture, $"SendGrid {code}: {Truncate(body)}");
        return code switch
        {
            >= 200 and < 300 => EmailSendResult.Sent(messageId),
            429 or 408 or >= 500 => EmailSendResult.Transient(error),
            _ => EmailSendResult.Permanent(error),
        };
    }

    /// <summary>Builds the SendGrid message: sender, recipient, subject, text and HTML, headers and the custom arguments.</summary>
    internal SendGridMessage ToSendGrid(EmailMessage message)
    {
        SendGridMessage mail = new();
        mail.SetFrom(message.From is null ? _defaultFrom : MailHelper.StringToEmailAddress(message.From));
        mail.AddTo(new EmailAddress(message.To.Value));
        mail.SetGlobalSubject(message.Subject);
        mail.AddContent(MimeType.Text, message.TextBody);
        if (message.HtmlBody is not null)
        {
            mail.AddContent(MimeType.Html, message.HtmlBody);
        }

        foreach (KeyValuePair<string, string> header in message.Headers)
        {
            mail.AddHeader(header.Key, header.Value);
        }

        mail.AddCustomArg(MessageIdArg, message.IdempotencyKey);
        if (message.LeadId is { } lead)
        {
            mail.AddCustomArg(LeadArg, lead.ToString());
        }

        if (message.EmailKey is { } key)
        {
            mail.AddCustomArg(EmailArg, key);
        }

        if (message.Topic is { } topic && _groups.TryGetValue(topic, out int group))
        {
            mail.SetAsm(group); // SendGrid's unsubscribe link then leaves this topic's group only.
        }

        return mail;
    }

    private static async Task<string?> ReadAsync(Response response, CancellationToken cancellationToken)
    {
        try
        {
            return response.Body is null ? null : await response.Body.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return null;
        }
    }

    private static string Truncate(string? body) =>
        string.IsNullOrEmpty(body) ? "(no body)" : body.Length <= 500 ? body : body[..500] + "…";
}
