using System.Diagnostics;
using Funnel.Payments;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.AspNetCore;

/// <summary>The payment webhook handler behind <c>MapFunnel</c>.</summary>
internal static class WebhookEndpoints
{
    /// <summary>The largest webhook body accepted: provider events are a few kilobytes.</summary>
    internal const int MaxBodyBytes = 512 * 1024;

    public static async Task<IResult> ReceiveAsync(
        HttpContext context,
        string provider,
        [FromServices] IServiceProvider services,
        CancellationToken cancellationToken)
    {
        using Activity? activity = FunnelDiagnostics.Source.StartActivity("funnel.webhook");
        activity?.SetTag("funnel.provider", provider);
        if (services.GetKeyedService<WebhookProcessor>(provider) is not { } processor)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown webhook provider.", detail: $"No payment webhooks are registered for the provider '{provider}'.");
        }

        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return Count(provider, "too_large", Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The webhook body is too large.", detail: $"The body must be at most {MaxBodyBytes} bytes."));
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes;
        }

        byte[] body;
        using (var buffer = new MemoryStream())
        {
            try
            {
                await context.Request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return Count(provider, "too_large", Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The webhook body is too large.", detail: $"The body must be at most {MaxBodyBytes} bytes."));
            }

            body = buffer.ToArray();
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
            default:
                // The processor recorded the events in the event log itself.
                return Count(provider, outcome, Results.Ok(new WebhookBody(outcome, result.EventId)));
        }
    }

    private static IResult Count(string provider, string outcome, IResult result)
    {
        FunnelDiagnostics.Webhooks.Add(1, new KeyValuePair<string, object?>("funnel.provider", provider), new KeyValuePair<string, object?>("funnel.outcome", outcome));
        return result;
    }

    /// <summary>The JSON answer to an accepted webhook.</summary>
    internal sealed record WebhookBody(string Status, string? EventId);
}
