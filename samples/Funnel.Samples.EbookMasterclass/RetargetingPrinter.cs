using System.Globalization;
using Funnel.Events;
using Funnel.Segments;
using NodaTime;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>Evaluates the guide's two retargeting audiences over the simulated launch and prints their sizes.</summary>
public static class RetargetingPrinter
{
    /// <summary>The retargeting segments of the case study: blog readers who did not open the guide page, and guide downloaders who did not visit the sales page.</summary>
    public static IReadOnlyList<SegmentDefinition> Segments { get; } =
    [
        RetargetingSegments.VisitedBlogNotLeadMagnetPage("/quick-start-guide"),
        RetargetingSegments.DownloadedGuideNotSalesPage(MasterclassScenario.GuideMagnet, MasterclassScenario.Masterclass),
    ];

    /// <summary>Returns the number of leads in each retargeting segment at the end of the launch.</summary>
    /// <param name="events">The launch's events.</param>
    /// <returns>Each segment key with its member count.</returns>
    public static IReadOnlyList<(string Segment, int Members)> Measure(IReadOnlyList<FunnelEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        LeadPopulationBuilder builder = new();
        Dictionary<LeadId, int> index = [];
        Instant end = Instant.MinValue;
        foreach (LeadEvent e in events.OfType<LeadEvent>())
        {
            if (!index.TryGetValue(e.LeadId, out int lead))
            {
                index[e.LeadId] = lead = builder.AddVisitor(e.LeadId);
            }

            builder.AddEvent(lead, e);
            end = Instant.Max(end, e.OccurredAt);
        }

        LeadPopulation population = builder.Build();
        return [.. Segments.Select(s => (s.Key, new SegmentEvaluator(s.Rule).Evaluate(population, end).Count))];
    }

    /// <summary>Prints the retargeting audience sizes.</summary>
    /// <param name="events">The launch's events.</param>
    /// <param name="output">Where to print.</param>
    public static void Print(IReadOnlyList<FunnelEvent> events, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine();
        output.WriteLine("Retargeting audiences (segments at the end of the launch)");
        foreach ((string segment, int members) in Measure(events))
        {
            output.WriteLine($"  {segment,-34} {members.ToString("#,0", CultureInfo.InvariantCulture),8}");
        }
    }
}
