using Funnel.AspNetCore;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Funnel.Samples.WebShop;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);

// Funnel core with the Masterclass catalogue and offer path (shared with the E-Book Masterclass sample).
builder.Services.AddFunnel(o => o.DefaultCurrency = "USD");
builder.Services.AddSingleton(OfferPathCatalogue.Catalogue);
builder.Services.AddSingleton(OfferPathCatalogue.Path);
builder.Services.AddSingleton<ShopEntitlements>();
builder.Services.AddSingleton<IEntitlementGrantor>(sp => sp.GetRequiredService<ShopEntitlements>());

// The web endpoints: opt-in, confirmation, page views, the job runner, health checks, metrics and traces.
builder.Services.AddFunnelAspNetCore(o =>
{
    o.LeadMagnets.Add(ShopFunnel.Guide);
    o.OptInRedirect = "/check-your-inbox";
    o.ConfirmedRedirect = "/sales";
});

// The sample's own parts: where the guide email goes for now, and the one class that takes payments.
builder.Services.AddSingleton<DevOutbox>();
builder.Services.AddSingleton<IOptInNotifier>(sp => sp.GetRequiredService<DevOutbox>());
builder.Services.AddSingleton<CheckoutPayment>();

WebApplication app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapFunnel("/funnel");
app.MapHealthChecks("/health");
app.MapShop();
app.Run();

/// <summary>The entry point, public for <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
