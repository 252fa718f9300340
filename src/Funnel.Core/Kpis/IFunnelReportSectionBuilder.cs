using Funnel.Events;

namespace Funnel.Kpis;

/// <summary>Computes one <see cref="IFunnelReportSection"/> of one report from its events.</summary>
/// <threadsafety>Used from one thread by one report computation.</threadsafety>
public interface IFunnelReportSectionBuilder
{
    /// <summary>Adds an event of the report.</summary>
    /// <remarks>Each distinct event (by <see cref="FunnelEvent.Id"/>) is added once, in the order read.</remarks>
    /// <param name="funnelEvent">The event.</param>
    void Add(FunnelEvent funnelEvent);

    /// <summary>Returns the section after the last event.</summary>
    /// <returns>The section's value, stored in <see cref="FunnelReport.Sections"/>.</returns>
    object Build();
}
