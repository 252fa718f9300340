using System.Globalization;
using Funnel;
using Funnel.Definitions;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql;
using Funnel.Storage.PostgreSql.InstanceHost;
using NodaTime;

// Usage:
//   seed  <connectionString> <leads>
//         adds the leads and enrols each in the "scale-out-test" sequence (three emails, no delays); prints "seeded N".
//   serve <connectionString> <port> <name> <journalFolder> <webhookSecretHex>
//         runs the app on http://127.0.0.1:<port> until killed; prints "started" once it serves. Each accepted send,
//         each event the "journal" handler sees and each entitlement grant is appended to a journal file of this
//         process in <journalFolder> (sends-, handled-, grants-<name>-<pid>.log) and flushed to the OS before the call
//         returns, so a SIGKILL loses none (only an OS crash could).
if (args.Length < 3 || args[0] is not ("seed" or "serve") || args[0] == "serve" && args.Length < 6)
{
    await Console.Error.WriteLineAsync(
        "usage: seed <connectionString> <leads> | serve <connectionString> <port> <name> <journalFolder> <webhookSecretHex>");
    return 2;
}

string connectionString = args[1];
if (args[0] == "seed")
{
    return await Seeding.RunAsync(connectionString, int.Parse(args[2], CultureInfo.InvariantCulture));
}

int port = int.Parse(args[2], CultureInfo.InvariantCulture);
string name = args[3];
using var journals = new HostJournals(args[4], $"{name}-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}");
byte[] webhookSecret = Convert.FromHexString(args[5]);

WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
builder.WebHost.UseUrls($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);

// Storage: every store on the shared database; the pipeline's work split into 6 partitions leased for 5 seconds, and
// sends claimed for 10 seconds, so a killed instance's share moves to the others within seconds. Every instance also
// runs the analytics segment writer each second (one writes at a time), so kills land in its transactions too.
builder.Services.AddFunnelPostgreSql(connectionString, o => o.AnalyticsSegmentInterval = TimeSpan.FromSeconds(1));
builder.Services.AddFunnel(o =>
{
    o.DefaultCurrency = "USD";
    o.TimeZoneId = "UTC";
});
builder.Services.Configure<FunnelPipelineOptions>(o =>
{
    o.Partitions = 6;
    o.LeaseDuration = Duration.FromSeconds(5);
    o.PollInterval = Duration.FromMilliseconds(100);
    o.BatchSize = 1000;
    o.InstanceId = journals.Instance;
});

// Sequences: the journalling sender, the test sequence, a short claim lease.
builder.Services.AddFunnelSequences();
builder.Services.AddSingleton(journals);
builder.Services.AddSingleton<IEmailSender, JournallingSender>();
builder.Services.AddSingleton(ScaleOutTest.Sequence);
builder.Services.Configure<SequenceOptions>(o =>
{
    o.Lease = Duration.FromSeconds(10);
    o.LeaseSafetyMargin = Duration.FromSeconds(4);
});
builder.Services.AddFunnelHandler<JournallingHandler>("journal");

// Commerce and payments in test mode, as the WebShop sample wires them: the in-memory gateway (its webhooks signed with
// a secret every instance shares), its verifier, and the webhook endpoint POST /funnel/webhooks/test.
builder.Services.AddFunnelCommerce();
builder.Services.AddSingleton(ScaleOutTest.Catalogue);
builder.Services.AddSingleton(ScaleOutTest.Path);
builder.Services.AddSingleton<IEntitlementGrantor, JournallingGrantor>();
builder.Services.AddSingleton(sp => new InMemoryPaymentGateway(sp.GetRequiredService<IClock>(), webhookSecret));
builder.Services.AddSingleton<IPaymentGateway>(sp => sp.GetRequiredService<InMemoryPaymentGateway>());
builder.Services.AddSingleton(sp => sp.GetRequiredService<InMemoryPaymentGateway>().Verifier);
builder.Services.AddFunnelPaymentWebhooks(ScaleOutTest.Provider);

// The endpoints, the dispatcher job and the event pipeline.
builder.Services.AddFunnelAspNetCore(o => o.LeadMagnets.Add(ScaleOutTest.Guide));
builder.Services.AddFunnelSequenceDispatcher(TimeSpan.FromMilliseconds(250));
builder.Services.AddFunnelHosting();

WebApplication app = builder.Build();
app.MapFunnel("/funnel");
app.MapHealthChecks("/health");

// The buyer's side of a payment that the provider confirms only by webhook: an order paid with the card that needs
// authentication (nothing granted yet), authenticated, and the provider's signed "payment succeeded" webhook returned
// for the test to deliver (to two instances at once).
app.MapPost("/test/checkout/{lead:int}", async (int lead, OrderService orders, PaymentService payments, InMemoryPaymentGateway gateway,
    CancellationToken cancellationToken) =>
{
    Checkout checkout = await orders.StartCheckoutAsync(
        ScaleOutTest.Lead(lead), new Cart { Lines = [new CartLine(ScaleOutTest.Course)] }, DateTimeZone.Utc, cancellationToken);
    Order order = (await orders.PlaceOrderAsync(checkout, paymentMethod: null, cancellationToken)).Order
        ?? throw new InvalidOperationException("The order was rejected.");
    PaymentAttempt attempt = await payments.PayAsync(order.Id, InMemoryPaymentGateway.AuthenticationCard, cancellationToken);
    if (attempt.Payment is not { Outcome: PaymentOutcome.RequiresAction, PaymentId: { } paymentId })
    {
        throw new InvalidOperationException($"The payment was {attempt.Payment?.Outcome}, not awaiting authentication.");
    }

    int before = gateway.Webhooks.Length;
    gateway.CompleteAuthentication(paymentId);
    WebhookRequest webhook = gateway.Webhooks[before];
    return Results.Json(new CheckoutWebhook(
        order.Id.ToString(), Convert.ToBase64String(webhook.Body.Span), webhook.Headers[InMemoryPaymentGateway.SignatureHeader]));
});

app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine("started"));
await app.RunAsync();
return 0;
