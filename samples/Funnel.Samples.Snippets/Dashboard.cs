using Funnel.Definitions;
using Funnel.Events;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/dashboard.md.</summary>
internal static class DashboardSnippets
{
    public static void Setup(WebApplicationBuilder builder)
    {
        // <snippet:dashboard-setup>
        FunnelDefinition funnel = FunnelBuilder.Create("guide", "Blog to guide to purchase")
            .WithDefaultStages()
            .AddStep("visit", "Blog visitors", DefaultStages.Awareness.Key, StepKind.Content, EventMatch.For(EventTypes.PageViewed, "/blog/*"))
            .AddStep("opt-in", "Guide downloads", DefaultStages.Interest.Key, StepKind.OptIn, EventMatch.For(EventTypes.OptedIn, "quick-start-guide"))
            .Build();

        // Your operators sign in as they do elsewhere in your app; the dashboard only names the policy.
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie();
        builder.Services.AddAuthorization(o => o.AddPolicy("funnel-admin", p => p.RequireRole("marketing-ops")));
        builder.Services.AddFunnelDashboard(o =>
        {
            o.AuthorizationPolicy = "funnel-admin"; // required: the start fails without it, or if it is not registered
            o.Funnel = funnel;                      // the funnel the overview charts
            o.PageSize = 50;                        // rows per list page
            o.MaxReportEvents = 100_000;            // events Experiments and Affiliates read
        });
        // </snippet:dashboard-setup>
    }

    public static void Map(WebApplication app)
    {
        // <snippet:dashboard-map>
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapFunnelDashboard("/funnel-admin")
            .RequireHost("admin.example.com");      // the returned group takes more conventions
        // </snippet:dashboard-map>
    }

    public static void Development(WebApplicationBuilder builder)
    {
        // <snippet:dashboard-development>
        builder.Services.AddFunnelDashboard(o =>
        {
            o.AllowAnonymousInDevelopment = true;   // no policy needed when the environment is Development
            o.ReadOnly = true;                      // hide retry and cancel, refuse their POSTs
        });
        // </snippet:dashboard-development>
    }
}
