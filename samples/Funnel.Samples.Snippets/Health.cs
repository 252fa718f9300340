using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Funnel.Samples.Snippets;

/// <summary>The health-check snippets of docs/aspnetcore.md.</summary>
internal static class HealthSnippets
{
    public static void Map(WebApplication app)
    {
        // <snippet:aspnetcore-health-map>
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = FunnelHealthJson.WriteAsync });
        // </snippet:aspnetcore-health-map>
    }
}

// <snippet:aspnetcore-health-writer>
/// <summary>Writes every health check, with its data (each job's and each pipeline handler's state), as JSON.</summary>
internal static class FunnelHealthJson
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),                 // the worst of the checks: Healthy, Degraded, Unhealthy
            checks = report.Entries.ToDictionary(
                entry => entry.Key,                            // "funnel", "funnel-pipeline", and your own checks
                entry => new
                {
                    status = entry.Value.Status.ToString(),
                    description = entry.Value.Description,
                    error = entry.Value.Exception?.Message,
                    data = entry.Value.Data,                   // "job:<name>", "handler:<name>", "parked", ...
                }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, Options), context.RequestAborted);
    }
}
// </snippet:aspnetcore-health-writer>
