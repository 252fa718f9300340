using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using NodaTime;

namespace Funnel.Email.SendGrid;

/// <summary>Handles one Event Webhook request: size limit, signature, timestamp, then each event through the feedback seam.</summary>
internal sealed class SendGridWebhookHandler : IDisposable
{
    private readonly SendGridOptions _options;
    private readonly IClock _clock;
    private readonly ECDsa? _key;
    private readonly Dictionary<int, string> _topicOfGroup;

    public SendGridWebhookHandler(SendGridOptions options, IClock clock)
    {
        _options = options;
        _clock = clock;
        _key = options.WebhookPublicKey is { } k && SendGridWebhook.TryImportKey(k, out ECDsa? imported) ? imported : null;
        _topicOfGroup = options.UnsubscribeGroups.ToDictionary(static p => p.Value, static p => p.Key);
    }

    /// <summary>Gets whether a verification key is configured.</summary>
    public bool HasKey => _key is not null;

    public void Dispose() => _key?.Dispose();

    public async Task<IResult> HandleAsync(HttpContext context, IEmailFeedbackRecorder recorder, CancellationToken cancellationToken)
    {
        if (_key is null)
        {
            return Problem(StatusCodes.Status500InternalServerError, "The webhook is not configured.", "SendGridOptions.WebhookPublicKey is not set.");
        }

        if (context.Request.ContentLength > _options.MaxWebhookBodyBytes)
        {
            return TooLarge();
        }

        byte[]? body = await ReadAsync(context.Request, _options.MaxWebhookBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return TooLarge();
        }

        string? signature = context.Request.Headers[SendGridWebhook.SignatureHeader];
        string? timestamp = context.Request.Headers[SendGridWebhook.TimestampHeader];
        if (SendGridWebhook.Verify(_key, signature, timestamp, body, _clock.GetCurrentInstant(), _options.WebhookTolerance) is { } reason)
        {
            return Problem(StatusCodes.Status401Unauthorized, "The webhook signature was rejected.", reason);
        }

        List<EmailFeedback> feedback;
        int skipped;
        try
        {
            feedback = SendGridWebhook.Parse(body, out skipped, _topicOfGroup);
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "The webhook body is not a JSON array of SendGrid events.", e.Message);
        }

        int recorded = 0, duplicates = 0, unknown = 0;
        foreach (EmailFeedback item in feedback)
        {
            switch ((await recorder.RecordAsync(item, cancellationToken).ConfigureAwait(false)).Status)
            {
                case EmailFeedbackStatus.Recorded:
                    recorded++;
                    break;
                case EmailFeedbackStatus.Duplicate:
                    duplicates++;
                    break;
                default:
                    unknown++;
                    break;
            }
        }

        return Results.Ok(new WebhookSummary(recorded, duplicates, unknown, skipped));
    }

    /// <summary>Reads the body up to <paramref name="limit"/> bytes; <see langword="null"/> when it is longer.</summary>
    private static async Task<byte[]?> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit + 1L;
        }

        using MemoryStream buffer = new();
        byte[] chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }

        return buffer.ToArray();
    }

    private IResult TooLarge() => Problem(
        StatusCodes.Status413PayloadTooLarge,
        "The webhook body is too large.",
        $"The body must be at most {_options.MaxWebhookBodyBytes} bytes (SendGridOptions.MaxWebhookBodyBytes).");

    private static IResult Problem(int status, string title, string detail) => Results.Problem(statusCode: status, title: title, detail: detail);

    /// <summary>What one webhook request recorded.</summary>
    internal sealed record WebhookSummary(int Recorded, int Duplicates, int UnknownLeads, int Skipped);
}
