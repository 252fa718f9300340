using Funnel.AspNetCore;
using Funnel.Email;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Samples.EbookMasterclass;
using Funnel.Samples.WebShop;
using Funnel.Pipeline;
using Funnel.Sequences;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
ConfigurationManager config = builder.Configuration;
using ILoggerFactory startupLogs = LoggerFactory.Create(logging => logging.AddConsole());
ILogger startup = startupLogs.CreateLogger("Funnel.Samples.WebShop");

// Where the shop is reachable: its tracking links and webhook deliveries point here.
var publicUrl = new Uri(config["Shop:PublicUrl"] ?? config["urls"]?.Split(';')[0] ?? "http://localhost");

// Email: a configured SMTP server (Smtp:Host, Smtp:Port), else smtp4dev started here, else the /dev/outbox page.
Smtp4devProcess? smtp4dev = null;
string? smtpHost = config["Smtp:Host"];
int smtpPort = config.GetValue("Smtp:Port", 25);
if (smtpHost is null && config.GetValue("Smtp4dev:Enabled", true))
{
    (smtp4dev, string? problem) = await Smtp4devProcess.TryStartAsync(TimeSpan.FromSeconds(90));
    if (smtp4dev is null)
    {
        ShopLog.Smtp4devUnavailable(startup, problem);
    }
    else
    {
        (smtpHost, smtpPort) = ("127.0.0.1", smtp4dev.SmtpPort);
        ShopLog.Smtp4devStarted(startup, smtp4dev.WebUi);
    }
}

var mail = new ShopMailSettings(publicUrl, smtp4dev?.WebUi, smtpHost is null ? null : $"{smtpHost}:{smtpPort}");
builder.Services.AddSingleton(mail);
if (smtp4dev is not null)
{
    builder.Services.AddSingleton(smtp4dev);
}

if (smtpHost is not null)
{
    builder.Services.AddFunnelSmtp(o =>
    {
        o.Host = smtpHost;
        o.Port = smtpPort;
        o.Security = Enum.Parse<Funnel.Email.Smtp.SmtpSecurity>(config["Smtp:Security"] ?? (smtp4dev is null ? "Auto" : "None"));
        o.UserName = config["Smtp:UserName"];
        o.Password = config["Smtp:Password"];
        o.DefaultFrom = config["Smtp:From"] ?? "The E-Book Masterclass <hello@masterclass.example>";
        o.MessageIdDomain = "masterclass.example";
    });
}
else
{
    builder.Services.AddSingleton<DevOutbox>();
    builder.Services.AddSingleton<IEmailSender>(sp => sp.GetRequiredService<DevOutbox>());
}

// Storage, picked by one setting, ConnectionStrings:Funnel (ShopStorage): unset, one SQLite file in the shop's data folder
// (Shop:DataFolder, else App_Data under the content root); "Host=..." PostgreSQL, which several instances can share.
// Either way a restart keeps every lead, enrolment, order, scheduled email, event and webhook record.
string dataFolder = Path.GetFullPath(config["Shop:DataFolder"] ?? Path.Combine(builder.Environment.ContentRootPath, "App_Data"));
ShopStorageKind storage = builder.Services.AddShopStorage(config, dataFolder);
ShopLog.StorageChosen(startup, storage);

// Funnel core, sequences and commerce with the Masterclass catalogue and offer path (shared with the E-Book Masterclass sample).
builder.Services.AddFunnel(o => o.DefaultCurrency = "USD");
builder.Services.AddFunnelSequences();
builder.Services.AddFunnelCommerce();
builder.Services.AddSingleton(OfferPathCatalogue.Catalogue);
builder.Services.AddSingleton(OfferPathCatalogue.Path);
builder.Services.AddSingleton<ShopEntitlements>();
builder.Services.AddSingleton<IEntitlementGrantor>(sp => sp.GetRequiredService<ShopEntitlements>());

// The guide's nurture, with signed open, click and unsubscribe links back to the shop.
var tracking = new TrackingOptions
{
    BaseUrl = mail.TrackingBaseUrl,
    // Emailed links must still verify after a restart: a configured key, else one kept in the data folder.
    SigningKey = config["Shop:TrackingKey"] ?? Convert.ToBase64String(ShopKeys.LoadOrCreate(dataFolder, "tracking.key")),
};
builder.Services.Configure<SequenceOptions>(o =>
{
    o.Tracking = tracking;
    o.From = "The E-Book Masterclass <hello@masterclass.example>";
    // Sends claimed by a process that died come back when their lease ends (5 minutes by default).
    if (config.GetValue<TimeSpan?>("Shop:SendLease") is { } lease)
    {
        o.Lease = NodaTime.Duration.FromTimeSpan(lease);
        o.LeaseSafetyMargin = o.Lease / 4;
    }
});
builder.Services.AddSingleton(new TrackingLinks(tracking));
builder.Services.AddSingleton<ITemplateRenderer, TrackedLinkRenderer>();
builder.Services.AddSingleton(ShopSequences.Nurture(publicUrl));
builder.Services.AddSingleton(ShopConfirmation.Sequence);

// After the purchase: the welcome, and once the course is done, the review request and the affiliate invitation.
builder.Services.AddSingleton(GuideSequences.Welcome);
builder.Services.AddSingleton(GuideSequences.Advocacy);
builder.Services.AddSingleton(new Funnel.Onboarding.Course { Key = GuideSequences.Course, Modules = ["plan", "write", "launch"] });
builder.Services.AddFunnelAdvocacy();

// Payments in test mode: Stripe's test cards, signed webhooks delivered to the shop's own endpoint.
byte[] webhookSecret = ShopKeys.LoadOrCreate(dataFolder, "test-webhooks.key"); // a redelivery after a restart still verifies
builder.Services.AddSingleton(sp => new InMemoryPaymentGateway(sp.GetRequiredService<NodaTime.IClock>(), webhookSecret));
builder.Services.AddSingleton<IPaymentGateway>(sp => sp.GetRequiredService<InMemoryPaymentGateway>());
builder.Services.AddSingleton(sp => sp.GetRequiredService<InMemoryPaymentGateway>().Verifier);
builder.Services.AddFunnelPaymentWebhooks(WebhookRelay.Provider);
if (config.GetValue("Payments:RelayWebhooks", true))
{
    builder.Services.AddHttpClient();
    builder.Services.AddFunnelJob<WebhookRelay>();
}

// The web endpoints, the dispatcher job, the event pipeline, health checks, metrics and traces: no glue.
builder.Services.AddFunnelAspNetCore(o =>
{
    o.LeadMagnets.Add(ShopFunnel.Guide);
    o.OptInRedirect = "/check-your-inbox";
    o.ConfirmedRedirect = "/sales";
    o.PublicOrigin = new Uri(publicUrl.GetLeftPart(UriPartial.Authority)); // emailed links never follow a forged Host header
    // Per-client rate limits from configuration (Funnel:RateLimits:FormPermitLimit, …), validated at start-up.
    config.GetSection("Funnel:RateLimits").Bind(o.RateLimits);
});
builder.Services.AddFunnelSequenceDispatcher(TimeSpan.FromSeconds(config.GetValue("Shop:DispatchSeconds", 1.0)));
builder.Services.AddShopAdmin(config, dataFolder, startup); // the Funnel dashboard behind an admin-key cookie (ShopAdmin)

WebApplication app = builder.Build();
if (smtp4dev is not null)
{
    app.Lifetime.ApplicationStopped.Register(smtp4dev.Dispose); // smtp4dev stops with the shop.
}

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRateLimiter(); // The per-client limits of the Funnel endpoints (FunnelAspNetCoreOptions.RateLimits).
app.MapFunnel("/funnel");
app.MapHealthChecks("/health");
app.MapShop();
app.MapShopAdmin(); // /admin/sign-in and the dashboard at /funnel-admin
app.Run();

/// <summary>The entry point, public for <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
