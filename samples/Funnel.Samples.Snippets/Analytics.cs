using Funnel.Analytics;
using Funnel.Analytics.Experiments;
using Funnel.Definitions;
using Funnel.Events;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/analytics.md.</summary>
internal static class AnalyticsSnippets
{
    public static FunnelAnalysis Analyze(IServiceCollection services, IEnumerable<FunnelEvent> events, FunnelDefinition funnel)
    {
        // <snippet:analytics-analyze>
        services.AddFunnelAnalytics(); // also calls AddFunnel(); registers ExperimentAssigner and validators

        AnalyticsEventStore store = AnalyticsEventStore.Load(events);          // or LoadAsync(IAsyncEnumerable<FunnelEvent>)
        FunnelAnalysis analysis = FunnelAnalyzer.Analyze(store, new FunnelQuery
        {
            Funnel = funnel,                            // any FunnelDefinition: its steps' triggers are the funnel steps
            Window = Duration.FromDays(7),
            Breakdown = FunnelBreakdown.Channel,
            IncludeTimeToConvert = true,
        });
        // </snippet:analytics-analyze>
        return analysis;
    }

    public static ExperimentExposed? Expose(ExperimentAssigner assigner, LeadId leadId, IClock clock)
    {
        // <snippet:analytics-experiment>
        var experiment = new Experiment
        {
            Key = "sales-page-headline",
            Variants = [new ExperimentVariant("control"), new ExperimentVariant("transformation")],
            HoldoutPercent = 10m,
        };
        ExperimentExposed? exposure = assigner.Expose(experiment, leadId, clock.GetCurrentInstant()); // null when held out
        // </snippet:analytics-experiment>
        return exposure;
    }
}
