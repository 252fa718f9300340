using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Funnel.Payments.Stripe.Tests;

/// <summary>One request Stripe.net made: method, path, form or query parameters and headers.</summary>
internal sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Parameters, IReadOnlyDictionary<string, string> Headers)
{
    public string? IdempotencyKey => Headers.GetValueOrDefault("Idempotency-Key");
}

/// <summary>An in-process Kestrel server on 127.0.0.1 that records Stripe API calls and answers with Stripe-shaped JSON.</summary>
internal sealed class FakeStripeServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private FakeStripeServer(WebApplication app) => this.app = app;

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>Gets or sets the answer to each request: status code and JSON body.</summary>
    public Func<RecordedRequest, (int Status, string Json)> Respond { get; set; } = _ => (404, """{"error":{"type":"invalid_request_error","message":"No route."}}""");

    public Uri BaseAddress => new(app.Urls.First());

    /// <summary>Gets the requests made to one path, with one method, oldest first.</summary>
    public IReadOnlyList<RecordedRequest> RequestsTo(string method, string path) =>
        [.. Requests.Where(r => r.Method == method && r.Path == path)];

    /// <summary>Answers every request with a 503, as Stripe does when it is down (Stripe.net's retries are off in the tests).</summary>
    public void GoDown() => Respond = _ => (503, """{"error":{"type":"api_error","message":"Stripe is unavailable."}}""");

    /// <summary>Gets the calculation ids that <see cref="ActAsStripeTax"/> refuses as expired.</summary>
    public HashSet<string> ExpiredCalculations { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Answers like Stripe Tax: <c>POST /v1/tax/calculations</c> with <paramref name="calculation"/>, and tax transactions
    /// created from a calculation or reversing one, with Stripe's idempotency (a reused key gets the first answer) and
    /// unique references. Calculations in <see cref="ExpiredCalculations"/> are refused as expired.
    /// </summary>
    public void ActAsStripeTax(string calculation)
    {
        var answers = new ConcurrentDictionary<string, (int, string)>(StringComparer.Ordinal);
        var references = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        int transactions = 0;
        Respond = r =>
        {
            if (r.Path == "/v1/tax/calculations")
            {
                return (200, calculation);
            }

            if (r.Path is not ("/v1/tax/transactions/create_from_calculation" or "/v1/tax/transactions/create_reversal"))
            {
                return (404, """{"error":{"type":"invalid_request_error","message":"No route."}}""");
            }

            if (r.IdempotencyKey is { } key && answers.TryGetValue(key, out (int, string) first))
            {
                return first;
            }

            (int, string) answer = CreateTransaction(r);
            if (r.IdempotencyKey is { } newKey)
            {
                answers[newKey] = answer;
            }

            return answer;
        };

        (int, string) CreateTransaction(RecordedRequest r)
        {
            string reference = r.Parameters["reference"];
            if (r.Parameters.GetValueOrDefault("calculation") is { } calc && ExpiredCalculations.Contains(calc))
            {
                return (400, $$$"""{"error":{"type":"invalid_request_error","param":"calculation","message":"The calculation {{{calc}}} has expired and can no longer be used to create a transaction."}}""");
            }

            if (!references.TryAdd(reference, 0))
            {
                return (400, $$$"""{"error":{"type":"invalid_request_error","param":"reference","message":"A transaction with reference {{{reference}}} already exists."}}""");
            }

            int n = Interlocked.Increment(ref transactions);
            string type = r.Path.EndsWith("create_reversal", StringComparison.Ordinal) ? "reversal" : "transaction";
            return (200, $$"""{"id":"tax_{{n}}","object":"tax.transaction","type":"{{type}}","reference":"{{reference}}","currency":"usd","livemode":false}""");
        }
    }

    public static async Task<FakeStripeServer> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        var server = new FakeStripeServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in context.Request.Query)
        {
            parameters[key] = value.ToString();
        }

        if (context.Request.HasFormContentType)
        {
            foreach (var (key, value) in await context.Request.ReadFormAsync())
            {
                parameters[key] = value.ToString();
            }
        }

        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var request = new RecordedRequest(context.Request.Method, context.Request.Path.Value!, parameters, headers);
        Requests.Enqueue(request);
        (int status, string json) = Respond(request);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json);
    }
}
