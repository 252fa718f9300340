using System.Diagnostics;
using Funnel.Payments;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Funnel.AspNetCore;

/// <summary>The payment webhook handler behind <c>MapFunnel</c>.</summary>
internal static partial class WebhookEndpoints
{
    /// <summary>The largest webhook body accepted: provider events are a few kilobytes.</summary>
    internal const int MaxBodyBytes = 512 * 1024;

    public static async Task<IResult> ReceiveAsync(
        HttpContext context,
        string provider,
        [FromServices] IServiceProvider services,
        [FromServices] ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        using Activity? activity = FunnelDiagnostics.Source.StartActivity("funnel.webhook");
        activity?.SetTag("funnel.provider", provider);
        if (services.GetKeyedService<WebhookProcessor>(provider) is not { } processor)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown webhook provider.", detail: $"No payment webhooks are registered for the provider '{provider}'.");
        }

        (byte[]? body, IResult? problem) = await RequestBodies.ReadBytesAsync(context, MaxBodyBytes, "The webhook was rejected.", cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return Count(provider, "rejected", problem!);
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> header in context.Request.Headers)
        {
            headers[header.Key] = header.Value.ToString();
        }

        WebhookResult result = await processor.ProcessAsync(body, headers, cancellationToken).ConfigureAwait(false);
        string outcome = result.Outcome.ToString().ToLowerInvariant();
        activity?.SetTag("funnel.outcome", outcome);
        activity?.SetTag("funnel.event_id", result.EventId);
        switch (result.Outcome)
        {
            case WebhookOutcome.Rejected:
                activity?.SetStatus(ActivityStatusCode.Error, result.Message);
                return Count(provider, outcome, Results.Problem(
                    statusCode: StatusCodes.Status400BadRequest,
                    title: "The webhook was rejected.",
                    detail: result.Message,
                    extensions: new Dictionary<string, object?>(StringComparer.Ordinal) { ["reason"] = result.Rejection?.ToString() }));
            case WebhookOutcome.Failed:
                // Stored and listed as failed: the retry job applies it again. 503 tells the provider to keep the event.
                activity?.SetStatus(ActivityStatusCode.Error, result.Message);
                context.Response.Headers.RetryAfter = "60";
                return Count(provider, outcome, Results.Problem(
                    statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "The webhook could not be processed yet.",
                    detail: "The event is stored and will be processed again.",
                    extensions: new Dictionary<string, object?>(StringComparer.Ordinal) { ["eventId"] = result.EventId }));
            case WebhookOutcome.Unprocessable:
                // Stored once and parked with its reason; a redelivery is a duplicate, so this logs once per event.
                activity?.SetStatus(ActivityStatusCode.Error, result.Message);
                LogParked(loggers.CreateLogger(typeof(WebhookEndpoints).FullName!), provider, result.EventId, result.Message);
                return Count(provider, outcome, Results.Ok(new WebhookBody(outcome, result.EventId, result.Message)));
            default:
                // The processor recorded the events in the event log itself.
                return Count(provider, outcome, Results.Ok(new WebhookBody(outcome, result.EventId, null)));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Parked {Provider} webhook event {EventId}, which can never apply: {Reason}")]
    private static partial void LogParked(ILogger logger, string provider, string? eventId, string? reason);

    private static IResult Count(string provider, string outcome, IResult result)
    {
        FunnelDiagnostics.Webhooks.Add(1, new KeyValuePair<string, object?>("funnel.provider", provider), new KeyValuePair<string, object?>("funnel.outcome", outcome));
        return result;
    }

    /// <summary>The JSON answer to an accepted webhook.</summary>
    internal sealed record WebhookBody(string Status, string? EventId, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason);
}
