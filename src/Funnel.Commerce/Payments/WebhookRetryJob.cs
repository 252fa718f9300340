using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Payments;

/// <summary>Retries a provider's webhook events whose processing failed or stalled, once a minute.</summary>
/// <remarks>
/// Uses <see cref="WebhookProcessor.RetryFailedAsync"/>, which claims the events with a lease of the
/// <see cref="IWebhookEventStore"/>, so two instances of a host never apply one event at the same time. The processor
/// records the events it causes in the <see cref="IFunnelEventLog"/> itself; this job records nothing.
/// </remarks>
/// <param name="provider">The provider whose keyed <see cref="WebhookProcessor"/> the job uses.</param>
/// <param name="services">Resolves the processor when the job runs.</param>
internal sealed class WebhookRetryJob(string provider, IServiceProvider services) : IFunnelJob
{
    /// <inheritdoc/>
    public string Name => "webhook-retry:" + provider;

    /// <inheritdoc/>
    public TimeSpan Interval => TimeSpan.FromMinutes(1);

    /// <inheritdoc/>
    public Task RunAsync(CancellationToken cancellationToken = default) =>
        services.GetRequiredKeyedService<WebhookProcessor>(provider).RetryFailedAsync(cancellationToken: cancellationToken);
}
