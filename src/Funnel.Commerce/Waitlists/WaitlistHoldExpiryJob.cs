using Funnel.Pipeline;
using Microsoft.Extensions.Options;

namespace Funnel.Waitlists;

/// <summary>Runs <see cref="WaitlistService.ExpireDueAsync"/> every <see cref="WaitlistOptions.Interval"/>.</summary>
internal sealed class WaitlistHoldExpiryJob(WaitlistService waitlists, IOptions<WaitlistOptions> options) : IFunnelJob
{
    /// <inheritdoc/>
    public string Name => "waitlist-holds";

    /// <inheritdoc/>
    public TimeSpan Interval => options.Value.Interval;

    /// <inheritdoc/>
    public Task RunAsync(CancellationToken cancellationToken = default) => waitlists.ExpireDueAsync(cancellationToken);
}
