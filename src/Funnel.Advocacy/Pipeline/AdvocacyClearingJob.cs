using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Advocacy;

/// <summary>
/// The <c>advocacy-clearing</c> job: approves affiliate commissions and credits referral rewards whose refund window
/// has passed (<see cref="AffiliateProgram.ApproveClearedAsync"/>, <see cref="ReferralProgram.ReleaseRewardsAsync"/>).
/// </summary>
/// <remarks>Each program runs only when its settings are registered. Both calls change each entry with a
/// replace-if-version, so overlapping runs approve or credit it once.</remarks>
internal sealed class AdvocacyClearingJob(IServiceProvider services) : IFunnelJob
{
    public string Name => "advocacy-clearing";

    public TimeSpan Interval => TimeSpan.FromMinutes(15);

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        if (services.GetService<AffiliateProgramSettings>() is not null)
        {
            await services.GetRequiredService<AffiliateProgram>().ApproveClearedAsync(cancellationToken).ConfigureAwait(false);
        }

        if (services.GetService<ReferralProgramSettings>() is not null)
        {
            await services.GetRequiredService<ReferralProgram>().ReleaseRewardsAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
