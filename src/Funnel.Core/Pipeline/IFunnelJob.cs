namespace Funnel.Pipeline;

/// <summary>A piece of recurring background work, such as the sequence dispatcher or an entitlement retry.</summary>
/// <remarks>
/// Register it with <c>AddFunnelJob&lt;TJob&gt;()</c>; the job runner of <c>AddFunnelHosting()</c> (in an ASP.NET Core app or a
/// worker service) runs it once at start and then
/// <see cref="Interval"/> after each run ends, never two runs of one job at once. When the host stops, the runner
/// lets the current run finish and cancels its token only when the host's shutdown timeout passes.
/// </remarks>
/// <threadsafety>One job instance is used by one runner loop; it may be called from different threads in turn.</threadsafety>
public interface IFunnelJob
{
    /// <summary>Gets the job's name, used in logs, traces, metrics and health data.</summary>
    string Name { get; }

    /// <summary>Gets the pause between the end of one run and the start of the next.</summary>
    /// <remarks>Must be positive: the host fails to start with an <see cref="InvalidOperationException"/> naming the job otherwise.</remarks>
    TimeSpan Interval { get; }

    /// <summary>Runs the job once.</summary>
    /// <param name="cancellationToken">Cancelled when the host's shutdown timeout passes.</param>
    /// <returns>A task that completes when the run is done.</returns>
    Task RunAsync(CancellationToken cancellationToken = default);

    /// <summary>Gets the <see cref="FunnelWorkSignal"/> topic that wakes this job before its interval has passed.</summary>
    /// <value><see langword="null"/> (the default) when the job runs on its interval only.</value>
    string? WakeTopic => null;
}
