using Funnel.Payments;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Funnel.AspNetCore;

/// <summary>Reports Degraded while webhook events that can never apply pile up (<see cref="WebhookEventStatus.Unprocessable"/>).</summary>
/// <remarks>Reads at most the threshold's worth of events, oldest first, through the store's <c>(status, received_at)</c> index.</remarks>
internal sealed class FunnelWebhooksHealthCheck(IWebhookEventStore store, IOptions<FunnelAspNetCoreOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        int threshold = options.Value.UnprocessableWebhooksThreshold;
        var parked = await store.ListAsync(WebhookEventStatus.Unprocessable, threshold, cancellationToken).ConfigureAwait(false);
        var data = new Dictionary<string, object>(StringComparer.Ordinal) { ["unprocessable"] = parked.Length, ["threshold"] = threshold };
        if (parked.Length < threshold)
        {
            return HealthCheckResult.Healthy("No pile of webhook events that can never apply.", data);
        }

        StoredWebhookEvent oldest = parked[0];
        return new HealthCheckResult(
            context.Registration.FailureStatus,
            $"{parked.Length} or more webhook events can never apply and are parked; the oldest, {oldest.EventId}, because: {oldest.Error}",
            data: data);
    }
}
