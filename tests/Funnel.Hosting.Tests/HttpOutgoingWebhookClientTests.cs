using System.Net;
using System.Net.Sockets;
using System.Text;
using Funnel.Hosting;
using Funnel.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Tests.Hosting;

/// <summary>The HTTP webhook client against a real loopback HTTP server that checks what it receives.</summary>
public sealed class HttpOutgoingWebhookClientTests
{
    private const string Secret = "a-shared-secret-of-at-least-32-chars";

    [Theory]
    [InlineData(202, WebhookCallStatus.Delivered)]
    [InlineData(503, WebhookCallStatus.TransientFailure)]
    [InlineData(429, WebhookCallStatus.TransientFailure)]
    [InlineData(404, WebhookCallStatus.PermanentFailure)]
    [InlineData(302, WebhookCallStatus.PermanentFailure)]
    public async Task A_post_carries_the_signed_body_and_its_key_and_the_answer_decides_the_result(int status, WebhookCallStatus expected)
    {
        using Receiver receiver = new(status);
        using ServiceProvider provider = new ServiceCollection().AddFunnelHttpWebhooks().BuildServiceProvider();
        IOutgoingWebhookClient client = provider.GetRequiredService<IOutgoingWebhookClient>();
        byte[] body = Encoding.UTF8.GetBytes("{\"id\":\"k1\",\"lead\":{\"email\":\"ana@example.com\"}}");
        Instant now = SystemClock.Instance.GetCurrentInstant();

        WebhookCallResult result = await client.PostAsync(new OutgoingWebhook
        {
            Url = receiver.Url,
            Body = body,
            IdempotencyKey = "k1",
            Signature = WebhookSignature.Sign(Secret, now, body),
        });

        result.Status.ShouldBe(expected);
        result.StatusCode.ShouldBe(status);
        (string method, string contentType, string? signature, string? key, byte[] received) = await receiver.Request;
        method.ShouldBe("POST");
        contentType.ShouldStartWith("application/json");
        key.ShouldBe("k1");
        received.ShouldBe(body);
        WebhookSignature.Verify(Secret, signature, received, now, Duration.FromMinutes(5)).ShouldBeTrue();
        WebhookSignature.Verify(Secret, signature, [.. received, (byte)' '], now, Duration.FromMinutes(5)).ShouldBeFalse("a changed body fails");
        WebhookSignature.Verify(Secret, signature, received, now + Duration.FromMinutes(10), Duration.FromMinutes(5)).ShouldBeFalse("a replay after the tolerance fails");
    }

    [Fact]
    public async Task No_server_listening_is_a_transient_failure_not_an_exception()
    {
        int port;
        using (TcpListener probe = new(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        using HttpOutgoingWebhookClient client = new(Options.Create(new HttpWebhookOptions { Timeout = TimeSpan.FromSeconds(5) }));
        WebhookCallResult result = await client.PostAsync(new OutgoingWebhook
        {
            Url = new Uri($"http://127.0.0.1:{port}/hook"),
            Body = "{}"u8.ToArray(),
            IdempotencyKey = "k2",
            Signature = WebhookSignature.Sign(Secret, SystemClock.Instance.GetCurrentInstant(), "{}"u8),
        });

        result.Status.ShouldBe(WebhookCallStatus.TransientFailure);
        result.StatusCode.ShouldBeNull();
        result.Error.ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public void A_timeout_out_of_range_stops_the_start_naming_the_option()
    {
        using ServiceProvider provider = new ServiceCollection().AddFunnelHttpWebhooks(o => o.Timeout = TimeSpan.FromHours(1)).BuildServiceProvider();
        Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<HttpWebhookOptions>>().Value)
            .Message.ShouldContain("'HttpWebhookOptions.Timeout' must be from 1 second to 5 minutes.");
    }

    /// <summary>A one-request HTTP server on a free loopback port that answers with a status and records the request.</summary>
    private sealed class Receiver : IDisposable
    {
        private readonly HttpListener listener = new();

        public Receiver(int status)
        {
            for (int attempt = 0; ; attempt++)
            {
                int port;
                using (TcpListener probe = new(IPAddress.Loopback, 0))
                {
                    probe.Start();
                    port = ((IPEndPoint)probe.LocalEndpoint).Port;
                }

                Url = new Uri($"http://127.0.0.1:{port}/hooks/funnel/");
                listener.Prefixes.Clear();
                listener.Prefixes.Add(Url.AbsoluteUri);
                try
                {
                    listener.Start();
                    break;
                }
                catch (HttpListenerException) when (attempt < 5)
                {
                }
            }

            Request = ServeAsync(status);
        }

        public Uri Url { get; private set; } = null!;

        public Task<(string Method, string ContentType, string? Signature, string? Key, byte[] Body)> Request { get; }

        public void Dispose() => listener.Close();

        private async Task<(string, string, string?, string?, byte[])> ServeAsync(int status)
        {
            HttpListenerContext context = await listener.GetContextAsync();
            using MemoryStream body = new();
            await context.Request.InputStream.CopyToAsync(body);
            context.Response.StatusCode = status;
            if (status == 302)
            {
                context.Response.RedirectLocation = "http://127.0.0.1:1/elsewhere";
            }

            context.Response.Close();
            return (context.Request.HttpMethod, context.Request.ContentType ?? string.Empty, context.Request.Headers["Funnel-Signature"], context.Request.Headers["Idempotency-Key"], body.ToArray());
        }
    }
}
