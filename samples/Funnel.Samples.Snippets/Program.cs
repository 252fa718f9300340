// docs/aspnetcore.md, "Register and map": the whole Program.cs of a minimal ASP.NET Core app.
// <snippet:aspnetcore-register>
using Funnel.AspNetCore;   // FunnelDiagnostics, FunnelEventRecorder
using Funnel.Leads;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);

builder.Services.AddFunnel(o => o.DefaultCurrency = "USD");          // the core, as in getting-started.md
builder.Services.AddFunnelAspNetCore(o =>
{
    o.LeadMagnets.Add(new LeadMagnet
    {
        Key = "quick-start-guide",
        Title = "The E-Book Quick-Start Guide",
        Kind = LeadMagnetKind.Guide,
        DoubleOptIn = true,
    });
    o.OptInRedirect = "/check-your-inbox";   // where the browser goes after the form (else 202 + JSON)
    o.ConfirmedRedirect = "/welcome";        // where the confirmation link lands (else 200 + JSON)
    o.PublicOrigin = new Uri("https://shop.example.com"); // the emailed confirmation link points here
});

WebApplication app = builder.Build();
app.UseExceptionHandler();                   // unhandled errors become ProblemDetails
app.UseRateLimiter();                        // the per-client limits of the Funnel endpoints (docs/security.md)
app.MapFunnel("/funnel");                    // the prefix is yours to choose
app.MapHealthChecks("/health");              // the "funnel" (jobs) and "funnel-pipeline" checks
app.Run();
// </snippet:aspnetcore-register>
