using Funnel.AspNetCore;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Email.Smtp;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Sequences;
using Microsoft.Extensions.FileProviders;
using NodaTime;
using OpenTelemetry.Metrics;   // AddMeter, AddConsoleExporter (OpenTelemetry.Exporter.Console)
using OpenTelemetry.Trace;     // AddSource

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/aspnetcore.md (the "Register and map" one is Program.cs).</summary>
internal static class AspNetCoreSnippets
{
    public static void SignIn(WebApplication app)
    {
        // <snippet:aspnetcore-sign-in-link>
        app.MapPost("/account/sign-in", async (HttpContext context, ILeadStore leads) =>
        {
            IFormCollection form = await context.Request.ReadFormAsync();
            // … check the password or the magic link first; then:
            if (EmailAddress.TryParse(form["email"], out EmailAddress email, out _)
                && await leads.FindByEmailAsync(email) is { } lead)
            {
                await context.LinkVisitorAsync(lead.Id); // this browser's anonymous visits now count as the lead's
            }

            return Results.Redirect("/account");
        });
        // </snippet:aspnetcore-sign-in-link>
    }

    public static void Confirmation(WebApplicationBuilder builder)
    {
        // <snippet:aspnetcore-confirmation>
        builder.Services.AddSingleton(FunnelSequences.OptInConfirmation with
        {
            Steps =
            [
                FunnelSequences.OptInConfirmation.Steps[0] with
                {
                    Subject = "One click to get {{ magnet_title }}",
                    TextBody = "Confirm your address to get {{ magnet_title }}: {{ confirmation_url }}",
                },
            ],
        });
        // </snippet:aspnetcore-confirmation>
    }

    public static void MagnetDelivery(WebApplicationBuilder builder)
    {
        // <snippet:aspnetcore-magnet-delivery>
        builder.Services.AddFunnelAspNetCore(o =>
        {
            o.LeadMagnets.Add(new LeadMagnet
            {
                Key = "launch-checklist",
                Title = "The Launch Checklist",
                Kind = LeadMagnetKind.Checklist,
                AssetFile = "checklists/launch.pdf",      // served from MagnetFiles behind a signed link
                AssetContentType = "application/pdf",     // else inferred from the extension
            });
            o.LeadMagnets.Add(new LeadMagnet
            {
                Key = "video-class",
                Title = "The Free Video Class",
                Kind = LeadMagnetKind.MiniCourse,
                DoubleOptIn = true,                       // delivered only once the lead confirms
                AssetUrl = new Uri("https://videos.example.com/free-class"),
            });
            o.MagnetFiles = new PhysicalFileProvider(Path.Combine(builder.Environment.ContentRootPath, "Magnets"));
            o.MagnetLinkLifetime = TimeSpan.FromDays(14); // the emailed link answers 410 Gone after it
        });
        builder.Services.Configure<SequenceOptions>(o => o.Tracking = new TrackingOptions
        {
            BaseUrl = "https://shop.example.com/funnel/email",
            SigningKey = builder.Configuration["Funnel:TrackingKey"], // also signs the download links
        });
        // </snippet:aspnetcore-magnet-delivery>
    }

    public static void MagnetDeliveryWording(WebApplicationBuilder builder)
    {
        // <snippet:aspnetcore-magnet-delivery-wording>
        builder.Services.AddSingleton(FunnelSequences.LeadMagnetDelivery with
        {
            Steps =
            [
                FunnelSequences.LeadMagnetDelivery.Steps[0] with
                {
                    Subject = "Your copy of {{ magnet_title }}",
                    TextBody = "Here it is: {{ download_url }}\n\nThe link works for 14 days.",
                },
            ],
        });
        // </snippet:aspnetcore-magnet-delivery-wording>
    }

    public static void Security(WebApplicationBuilder builder)
    {
        // <snippet:security-limits>
        builder.Services.AddFunnelAspNetCore(o =>
        {
            o.RateLimits.FormPermitLimit = 5;                // opt-in, confirm, unsubscribe: per client IP and window
            o.RateLimits.TrackingPermitLimit = 600;          // page views, opens, clicks
            o.RateLimits.Window = TimeSpan.FromMinutes(1);
            o.TrackingWindow = TimeSpan.FromHours(1);        // repeats of one open, click or page view count once
            o.MaxPageViewsPerVisitor = 200;                  // page views stored per visitor and tracking window
            o.UnprocessableWebhooksThreshold = 5;            // "funnel-webhooks" health check turns Degraded
        });
        builder.Services.AddSingleton(new ConfirmationPolicy
        {
            MaxEmailsPerWindow = 2,                          // confirmation emails per address...
            EmailWindow = Duration.FromHours(1),             // ...per hour
            MaxOutstandingLinks = 3,                         // links of one address valid at once
        });
        // </snippet:security-limits>
    }

    public static void RecordYourOwn(WebApplication app)
    {
        // <snippet:aspnetcore-record>
        app.MapPost("/buy", async (HttpContext http, OrderService orders, FunnelEventRecorder recorder) =>
        {
            IFormCollection form = await http.Request.ReadFormAsync();
            LeadId lead = LeadId.Parse(http.Request.Cookies["funnel_vid"]!);   // the visitor cookie of the opt-in
            Cart cart = new() { Lines = [new CartLine(form["offer"].ToString())] };
            DateTimeZone zone = DateTimeZoneProviders.Tzdb[form["timezone"].ToString()];

            Checkout checkout = await orders.StartCheckoutAsync(lead, cart, zone);
            await recorder.RecordAsync(checkout.Events);
            return Results.Redirect("/pay");
        });
        // </snippet:aspnetcore-record>
    }

    public static void Sequences(WebApplicationBuilder builder)
    {
        // <snippet:aspnetcore-sequences>
        builder.Services.AddFunnelSmtp(o =>
        {
            o.Host = builder.Configuration["Smtp:Host"]!;          // your provider, or smtp4dev on 127.0.0.1 while developing
            o.Port = builder.Configuration.GetValue("Smtp:Port", 587);
            o.Security = builder.Configuration.GetValue("Smtp:Security", SmtpSecurity.Auto);   // None for smtp4dev
            o.UserName = builder.Configuration["Smtp:UserName"];
            o.Password = builder.Configuration["Smtp:Password"];
            o.DefaultFrom = "The E-Book Masterclass <hello@example.com>";
        });
        builder.Services.AddSingleton(GuideSequences.Nurture);    // any SequenceDefinition you register is used
        builder.Services.Configure<SequenceOptions>(o => o.Tracking = new TrackingOptions
        {
            BaseUrl = "https://shop.example.com/funnel/email",    // {your site}{MapFunnel prefix}/email
            SigningKey = builder.Configuration["Funnel:TrackingKey"], // a secret of at least 32 bytes
        });
        builder.Services.AddFunnelSequenceDispatcher(TimeSpan.FromSeconds(15));
        // </snippet:aspnetcore-sequences>
    }

    public static void Stripe(WebApplicationBuilder builder)
    {
        // <snippet:aspnetcore-stripe>
        builder.Services.AddFunnelStripe(o =>
        {
            o.ApiKey = builder.Configuration["Stripe:ApiKey"];
            o.WebhookSecrets.Add(builder.Configuration["Stripe:WebhookSecret"]!);
        });
        builder.Services.AddFunnelPaymentWebhooks("stripe");   // POST /funnel/webhooks/stripe
        // </snippet:aspnetcore-stripe>
    }

    public static void TestMode(WebApplicationBuilder builder)
    {
        // <snippet:aspnetcore-test-mode>
        builder.Services.AddSingleton<InMemoryPaymentGateway>();
        builder.Services.AddSingleton<IPaymentGateway>(sp => sp.GetRequiredService<InMemoryPaymentGateway>());
        builder.Services.AddSingleton(sp => sp.GetRequiredService<InMemoryPaymentGateway>().Verifier);
        builder.Services.AddFunnelPaymentWebhooks("test");
        // </snippet:aspnetcore-test-mode>
    }

    public static void OpenTelemetry(WebApplicationBuilder builder)
    {
        // <snippet:aspnetcore-opentelemetry>
        builder.Services.AddOpenTelemetry()
            .WithMetrics(m => m.AddMeter(FunnelDiagnostics.MeterName)            // "Funnel"
                               .AddConsoleExporter())                            // or .AddOtlpExporter()
            .WithTracing(t => t.AddSource(FunnelDiagnostics.ActivitySourceName)  // "Funnel"
                               .AddConsoleExporter());
        // </snippet:aspnetcore-opentelemetry>
    }
}
