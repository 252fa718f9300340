using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Funnel.Hosting;

/// <summary>Reports Funnel's health: unhealthy while a background job's last run failed.</summary>
internal sealed class FunnelJobsHealthCheck(FunnelJobStatus status) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        IReadOnlyDictionary<string, string?> jobs = status.Snapshot();
        Dictionary<string, object> data = jobs.ToDictionary(j => "job:" + j.Key, j => (object)(j.Value ?? "ok"), StringComparer.Ordinal);
        string[] failing = [.. jobs.Where(j => j.Value is not null).Select(j => j.Key).Order(StringComparer.Ordinal)];
        return Task.FromResult(failing.Length == 0
            ? HealthCheckResult.Healthy("Funnel is running.", data)
            : new HealthCheckResult(context.Registration.FailureStatus, $"Funnel jobs failing: {string.Join(", ", failing)}.", data: data));
    }
}
