using Funnel.Pipeline;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Funnel.Hosting;

/// <summary>Reports the pipeline's health: degraded while events are parked, a handler is retrying, or production runs on in-memory stores.</summary>
internal sealed class FunnelPipelineHealthCheck(FunnelPipeline pipeline, FunnelStorageCheck storage, IHostEnvironment environment) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        Dictionary<string, object> data = new(StringComparer.Ordinal);
        List<string> problems = [];
        foreach (PipelineHandlerStatus status in await pipeline.GetStatusAsync(cancellationToken).ConfigureAwait(false))
        {
            data["handler:" + status.Handler] = status.LastError is null
                ? $"position {status.Position}, {status.Pending} pending"
                : $"position {status.Position}, {status.Pending} pending, attempt {status.Attempts} failed: {status.LastError}";
            if (status.Attempts > 0)
            {
                problems.Add($"handler '{status.Handler}' is retrying ({status.LastError})");
            }
        }

        int parked = (await pipeline.ListParkedAsync(1000, cancellationToken).ConfigureAwait(false)).Count;
        data["parked"] = parked;
        if (parked > 0)
        {
            problems.Add($"{parked} parked event(s)");
        }

        if (environment.IsProduction() && storage.InMemoryStores.Count > 0)
        {
            data["in-memory"] = string.Join(", ", storage.InMemoryStores);
            problems.Add("in-memory stores in Production: " + string.Join(", ", storage.InMemoryStores));
        }

        return problems.Count == 0
            ? HealthCheckResult.Healthy("The Funnel pipeline is running.", data)
            : HealthCheckResult.Degraded("Funnel: " + string.Join("; ", problems) + ".", data: data);
    }
}
