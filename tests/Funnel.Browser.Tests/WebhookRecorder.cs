using System.Collections.Concurrent;
using System.Net;

namespace Funnel.Browser.Tests;

/// <summary>A payment provider's side of webhooks: records each delivery it relays to the shop, and can deliver one again.</summary>
internal sealed class WebhookRecorder : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly HttpClient client = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Uri target;

    public WebhookRecorder(Uri target)
    {
        this.target = target;
        Url = new Uri($"http://127.0.0.1:{WebShopServer.FreePort()}/webhooks/");
        listener.Prefixes.Add(Url.AbsoluteUri);
        listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public Uri Url { get; }

    /// <summary>Gets the deliveries relayed so far, with the address they went to.</summary>
    public ConcurrentQueue<(Uri Address, byte[] Body, Dictionary<string, string> Headers)> Recorded { get; } = new();

    /// <summary>Delivers the first recorded webhook again, as a provider does when it did not see the first answer.</summary>
    public async Task<(HttpStatusCode Status, string Body)> ReplayFirstAsync()
    {
        (Uri _, byte[] body, Dictionary<string, string> headers) = Recorded.First();
        using HttpResponseMessage response = await client.SendAsync(Request(body, headers));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private HttpRequestMessage Request(byte[] body, Dictionary<string, string> headers)
    {
        ByteArrayContent content = new(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        HttpRequestMessage request = new(HttpMethod.Post, target) { Content = content };
        foreach (KeyValuePair<string, string> header in headers)
        {
            request.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return request;
    }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using MemoryStream body = new();
            await context.Request.InputStream.CopyToAsync(body);
            Dictionary<string, string> headers = context.Request.Headers.AllKeys
                .Where(k => k is not null && k.StartsWith("Funnel-", StringComparison.OrdinalIgnoreCase))
                .ToDictionary(k => k!, k => context.Request.Headers[k]!);
            try
            {
                using HttpResponseMessage response = await client.SendAsync(Request(body.ToArray(), headers));
                if (response.IsSuccessStatusCode)
                {
                    Recorded.Enqueue((target, body.ToArray(), headers));
                }

                context.Response.StatusCode = (int)response.StatusCode;
            }
            catch (HttpRequestException)
            {
                context.Response.StatusCode = (int)HttpStatusCode.BadGateway;
            }

            context.Response.Close();
        }
    }

    public void Dispose()
    {
        listener.Close();
        client.Dispose();
    }
}
