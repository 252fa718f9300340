using System.Collections.Immutable;
using Funnel.Analytics.Experiments;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of the A/B test section of docs/sequences.md.</summary>
internal static class SubjectTestSnippets
{
    public static SequenceStep Step()
    {
        // <snippet:sequences-variants>
        SequenceStep step = new()
        {
            Key = "nurture-1",
            Subject = "Your Quick Start Guide to E-Book Creation",
            TextBody = "Hi {{ first_name }}, here is your guide ...",
            Variants =
            [
                new EmailVariant { Key = EmailVariant.ControlKey, Weight = 2 },          // the step's own subject
                new EmailVariant { Key = "short", Subject = "Your guide is inside" },
                new EmailVariant { Key = "question", Subject = "Ready to write your e-book, {{ first_name }}?" },
            ],
        };
        // </snippet:sequences-variants>
        return step;
    }

    public static VariantTestResult Evaluate(IEnumerable<FunnelEvent> events)
    {
        // <snippet:sequences-variant-evaluation>
        ImmutableArray<EmailVariantMetrics> metrics =
            EmailVariantMetrics.Compute(events, goal: EventMatch.For(EventTypes.OrderPlaced));
        VariantTestResult opens = VariantTest.Evaluate(
            metrics.Where(m => m.Email == "nurture-1")
                   .ToDictionary(m => m.Variant, m => new ConversionSample(m.Opened, m.Sent)),
            minimumSamplePerVariant: 500,
            settings: new ExperimentStatisticsSettings { Correction = MultipleTestingCorrection.HolmBonferroni });
        string? winner = opens.Winner;                   // null until significant with 500 sends per variant
        // </snippet:sequences-variant-evaluation>
        return opens;
    }

    public static SequenceStep WinnerStep()
    {
        // <snippet:sequences-winner-test>
        SequenceStep step = new()
        {
            Key = "launch-1",
            Subject = "The E-Book Masterclass is open",
            TextBody = "Hi {{ first_name }}, doors are open until Friday ...",
            Variants =
            [
                new EmailVariant { Key = EmailVariant.ControlKey },
                new EmailVariant { Key = "short", Subject = "Doors are open" },
            ],
            WinnerTest = new StepWinnerTest
            {
                Metric = VariantWinnerMetric.Opens,   // or Clicks, for a content test
                Wait = Duration.FromDays(2),          // each send counts once its lead has had two days to open it
                MinimumSamplePerVariant = 500,
            },
        };
        // </snippet:sequences-winner-test>
        return step;
    }

    public static void AddWinnerServices(IServiceCollection services)
    {
        // <snippet:sequences-winner-services>
        services.AddFunnelSequenceDispatcher();  // runs the sequence-tests job every minute
        services.AddFunnelAnalytics();           // the IVariantWinnerSelector that judges the test
        // </snippet:sequences-winner-services>
    }
}
