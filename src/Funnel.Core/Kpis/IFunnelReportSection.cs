namespace Funnel.Kpis;

/// <summary>A section of the <see cref="FunnelReport"/> contributed by a package, such as payments or advocacy.</summary>
/// <remarks>
/// The core report knows no feature built on it: a package that owns a feature implements this seam and registers it
/// (its <c>AddFunnel…</c> method does so), and <see cref="FunnelReporter"/> adds the section's result to
/// <see cref="FunnelReport.Sections"/> under <see cref="Key"/>. Read it back with <see cref="FunnelReport.Section{T}"/>.
/// </remarks>
/// <threadsafety>Implementations must be safe to share between threads; each report gets its own builder.</threadsafety>
public interface IFunnelReportSection
{
    /// <summary>Gets the key of the section in <see cref="FunnelReport.Sections"/>, such as <c>payments</c>.</summary>
    string Key { get; }

    /// <summary>Starts the section of one report.</summary>
    /// <param name="settings">The settings of the report, for its currency.</param>
    /// <returns>A builder that sees every distinct event of the report once.</returns>
    IFunnelReportSectionBuilder CreateBuilder(FunnelReportSettings settings);
}
