using Funnel.Pipeline;
using System.Collections.Immutable;
using Funnel.Payments;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.AspNetCore;

/// <summary>Applies the failed webhook events of one provider again, and records what they cause.</summary>
internal sealed class WebhookRetryJob(string provider, IServiceProvider services, FunnelEventRecorder recorder) : IFunnelJob
{
    public string Name => "webhook-retry:" + provider;

    public TimeSpan Interval => TimeSpan.FromMinutes(1);

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        WebhookProcessor processor = services.GetRequiredKeyedService<WebhookProcessor>(provider);
        ImmutableArray<WebhookResult> results = await processor.RetryFailedAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (WebhookResult result in results)
        {
            FunnelDiagnostics.Webhooks.Add(1, new KeyValuePair<string, object?>("funnel.provider", provider), new KeyValuePair<string, object?>("funnel.outcome", "retried_" + result.Outcome.ToString().ToLowerInvariant()));
            await recorder.RecordAsync(result.Events, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
