using System.Collections.Immutable;
using Funnel.Analytics;
using Funnel.Analytics.Experiments;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Leads;
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

    public static (Money? Cac, Duration? Payback) Money(AnalyticsEventStore store, FunnelDefinition funnel)
    {
        // <snippet:analytics-money>
        FunnelAnalysis analysis = FunnelAnalyzer.Analyze(store, new FunnelQuery
        {
            Funnel = funnel,
            Breakdown = FunnelBreakdown.Channel,         // each channel's row gets that channel's ad spend
            IncludeMoney = true,
        });

        FunnelMoney buyers = analysis.Steps[^1].Money!;
        Money? cac = buyers.AcquisitionCost;            // ad spend ÷ leads who reached the last step
        Ratio roas = buyers.ReturnOnAdSpend;            // their revenue ÷ ad spend
        Duration? payback = analysis.Steps[0].Money!.PaybackPeriod; // when the visitors' payments covered the spend
        // </snippet:analytics-money>
        return (roas.IsDefined ? cac : null, payback);
    }

    public static async Task<int> IdentityAsync(LeadCapture capture, LeadId visitorId, LeadProfile lead, IReadOnlyList<FunnelEvent> events)
    {
        // <snippet:analytics-identity>
        // At login: the browser's anonymous visitor id now counts as the lead.
        IdentityLinkStatus status = await capture.LinkAsync(visitorId, lead.Id); // Linked, AlreadyLinked or SameLead

        // Your own per-person counts resolve ids the way the reports do.
        LeadAliases aliases = LeadAliases.From(events.OfType<IdentityLinked>());
        int people = events.OfType<LeadEvent>().Select(e => aliases.Resolve(e.LeadId)).Distinct().Count();
        // </snippet:analytics-identity>
        return status == IdentityLinkStatus.Linked ? people : -people;
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

    public static (BayesianLiftResult? Normal, BayesianLiftResult? Exact) Bayesian()
    {
        // <snippet:analytics-bayesian>
        ConversionTestResult r = ExperimentStatistics.CompareConversions(
            new ConversionSample(Conversions: 182, Visitors: 4057), new ConversionSample(293, 3943));

        BayesianLiftResult normal = r.Bayesian!;      // GrowthBook's engine: normal posterior on the relative lift
        BayesianLiftResult exact = r.BetaBinomial!;   // exact Beta(1, 1) posteriors, by quadrature
        bool ship = normal.TreatmentRisk < 0.005;     // expected loss of shipping the treatment below 0.5 %
        // </snippet:analytics-bayesian>
        return ship ? (normal, exact) : (null, null);
    }

    public static MeanTestResult Cuped(IEnumerable<FunnelEvent> events)
    {
        // <snippet:analytics-cuped>
        ImmutableDictionary<string, CovariateSample> revenue =
            ExperimentCovariates.Revenue(events, "sales-page-headline", prePeriod: Duration.FromDays(30));

        MeanTestResult r = ExperimentStatistics.CompareWithCovariate(revenue["control"], revenue["transformation"]);
        Console.WriteLine($"theta {r.Cuped!.Theta:0.000}, variance cut by {r.Cuped.VarianceReduction:P0}");
        // </snippet:analytics-cuped>
        return r;
    }

    public static ImmutableArray<ExperimentVerdict> Verdicts(ConversionTestResult purchase, MeanTestResult revenuePerVisitor)
    {
        // <snippet:analytics-verdicts>
        ImmutableArray<ExperimentVerdict> verdicts = ExperimentStatistics.Verdicts(
            [
                MetricComparison.Of("purchase", "transformation", purchase),
                MetricComparison.Of("revenue per visitor", "transformation", revenuePerVisitor),
            ],
            new ExperimentStatisticsSettings { Correction = MultipleTestingCorrection.HolmBonferroni });
        // verdicts[i].AdjustedPValue, verdicts[i].Outcome: Better, Worse or Inconclusive
        // </snippet:analytics-verdicts>
        return verdicts;
    }

    public static ExperimentExposed? Bandit(Experiment experiment, IEnumerable<ExperimentExposed> recorded, LeadId leadId,
        IReadOnlyList<ConversionSample> countsPerVariant, IClock clock)
    {
        // <snippet:analytics-bandit>
        var bandit = new ThompsonSamplingBandit(experiment, new BanditSettings
        {
            UpdateInterval = Duration.FromHours(6),   // weights change at most this often
            MinimumWeight = 0.01,                     // every variant keeps at least 1 % of new traffic
            Seed = 1,                                 // same counts, same weights
        });
        bandit.Restore(recorded);                     // leads already exposed keep their variant

        bandit.Update(countsPerVariant, clock.GetCurrentInstant());   // ignored until the interval has passed
        ExperimentExposed? exposure = bandit.Expose(leadId, clock.GetCurrentInstant());
        // </snippet:analytics-bandit>
        return exposure;
    }

    public static (FunnelAnalysis Now, AnalyticsEventStore Merged) Append(IEnumerable<FunnelEvent> history, IEnumerable<FunnelEvent> arriving, FunnelQuery query)
    {
        // <snippet:analytics-append>
        IncrementalAnalyticsStore live = IncrementalAnalyticsStore.Load(history);   // remembers ids and identity links
        foreach (FunnelEvent e in arriving)
        {
            live.Append(e);                                  // no rebuild; a replayed id is skipped
        }

        FunnelAnalysis now = FunnelAnalyzer.Analyze(live, query);   // the same answer as a full Load
        AnalyticsEventStore merged = live.Compact();          // for KPI series, attribution and WriteTo
        // </snippet:analytics-append>
        return (now, merged);
    }
}
