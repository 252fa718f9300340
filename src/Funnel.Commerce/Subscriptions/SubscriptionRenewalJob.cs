using Funnel.Pipeline;
using Microsoft.Extensions.Options;

namespace Funnel.Subscriptions;

/// <summary>Runs <see cref="SubscriptionService.ProcessDueAsync"/> every <see cref="SubscriptionOptions.Interval"/>.</summary>
internal sealed class SubscriptionRenewalJob(SubscriptionService subscriptions, IOptions<SubscriptionOptions> options) : IFunnelJob
{
    /// <inheritdoc/>
    public string Name => "subscription-renewals";

    /// <inheritdoc/>
    public TimeSpan Interval => options.Value.Interval;

    /// <inheritdoc/>
    public Task RunAsync(CancellationToken cancellationToken = default) => subscriptions.ProcessDueAsync(cancellationToken);
}
