using Funnel.Webhooks;
using Microsoft.Extensions.Options;

namespace Funnel.Hosting;

/// <summary>How <see cref="HttpOutgoingWebhookClient"/> posts: the time it waits for an answer.</summary>
/// <threadsafety>Configure once at start-up; do not change afterwards.</threadsafety>
public sealed class HttpWebhookOptions
{
    /// <summary>Gets or sets how long a call may take, connection included, before it counts as a transient failure.</summary>
    /// <value>Defaults to 10 seconds; from 1 second to 5 minutes.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Posts outgoing webhooks over HTTP with a pooled <see cref="HttpClient"/>; <c>AddFunnelHttpWebhooks()</c> registers it.</summary>
/// <remarks>
/// Each call is a <c>POST</c> of the body as <c>application/json</c> with the <c>Funnel-Signature</c> and
/// <c>Idempotency-Key</c> headers, following no redirect (a redirect is a permanent failure: a signed body is not
/// re-sent to an address nobody configured). A 2xx answer is delivered; 408, 429, a 5xx, a timeout or a network error is
/// transient; any other answer is permanent (<see cref="WebhookCallResult.FromStatusCode"/>). Connections are pooled
/// and renewed every two minutes so DNS changes are picked up.
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class HttpOutgoingWebhookClient : IOutgoingWebhookClient, IDisposable
{
    private readonly HttpClient http;

    /// <summary>Initializes the client.</summary>
    /// <param name="options">The options.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    public HttpOutgoingWebhookClient(IOptions<HttpWebhookOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        {
            Timeout = options.Value.Timeout,
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("Funnel-Webhooks/1.0");
    }

    /// <inheritdoc/>
    public async Task<WebhookCallResult> PostAsync(OutgoingWebhook webhook, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        using HttpRequestMessage request = new(HttpMethod.Post, webhook.Url)
        {
            Content = new ReadOnlyMemoryContent(webhook.Body),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("Funnel-Signature", webhook.Signature);
        request.Headers.Add("Idempotency-Key", webhook.IdempotencyKey);
        try
        {
            using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            return WebhookCallResult.FromStatusCode((int)response.StatusCode);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new WebhookCallResult(WebhookCallStatus.TransientFailure, null, $"No answer within {http.Timeout.TotalSeconds:0.#} s.");
        }
        catch (HttpRequestException e)
        {
            return new WebhookCallResult(WebhookCallStatus.TransientFailure, null, e.Message);
        }
    }

    /// <summary>Releases the pooled connections.</summary>
    public void Dispose() => http.Dispose();
}
