using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Funnel.Email.SendGrid.Tests;

/// <summary>A loopback stand-in for the SendGrid v3 API on 127.0.0.1: records each request and answers as scripted.</summary>
internal sealed class SendGridStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _sent;

    private SendGridStandIn(WebApplication app) => _app = app;

    /// <summary>Gets the base address, such as <c>http://127.0.0.1:5123</c>.</summary>
    public string Host { get; private set; } = string.Empty;

    /// <summary>Gets the requests received, in order.</summary>
    public ConcurrentQueue<Recorded> Requests { get; } = new();

    /// <summary>Gets or sets the status code of the next answers (202 by default) and the body of a failure.</summary>
    public (int Status, string Body) Answer { get; set; } = (202, string.Empty);

    public static async Task<SendGridStandIn> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        SendGridStandIn standIn = new(app);
        app.MapPost("/v3/mail/send", async (HttpContext context) =>
        {
            using StreamReader reader = new(context.Request.Body);
            string body = await reader.ReadToEndAsync();
            standIn.Requests.Enqueue(new Recorded(
                context.Request.Path,
                context.Request.Headers.Authorization.ToString(),
                context.Request.ContentType ?? string.Empty,
                JsonDocument.Parse(body).RootElement.Clone()));
            (int status, string failure) = standIn.Answer;
            context.Response.StatusCode = status;
            if (status is >= 200 and < 300)
            {
                context.Response.Headers["X-Message-Id"] = "sg-" + Interlocked.Increment(ref standIn._sent);
                return;
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(failure);
        });
        await app.StartAsync();
        standIn.Host = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return standIn;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>One request: path, Authorization header, content type and JSON body.</summary>
    internal sealed record Recorded(string Path, string Authorization, string ContentType, JsonElement Body);
}
