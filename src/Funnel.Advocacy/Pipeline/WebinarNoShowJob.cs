using Funnel.Pipeline;

namespace Funnel.Webinars;

/// <summary>The <c>webinar-no-shows</c> job: records <c>webinar_missed</c> for ended, unattended registrations.</summary>
/// <remarks>A no-show is marked recorded with a replace-if-version, so overlapping runs (several hosts) report it once.</remarks>
internal sealed class WebinarNoShowJob(WebinarRegistrar registrar) : IFunnelJob
{
    public string Name => "webinar-no-shows";

    public TimeSpan Interval => TimeSpan.FromMinutes(1);

    public Task RunAsync(CancellationToken cancellationToken = default) => registrar.RecordNoShowsAsync(cancellationToken);
}
