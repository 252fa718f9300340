using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Funnel.Hosting;

/// <summary>The job runner's traces and metrics, on the same <c>Funnel</c> activity source and meter as the other packages.</summary>
internal static class HostingDiagnostics
{
    internal static readonly ActivitySource Source = new("Funnel");
    internal static readonly Meter Meter = new("Funnel");
    internal static readonly Counter<long> JobRuns = Meter.CreateCounter<long>("funnel.job.runs", "{run}", "Background job runs.");
}
