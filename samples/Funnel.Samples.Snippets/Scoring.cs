using Funnel.Leads;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of the scoring sections of docs/segmentation-and-scoring.md.</summary>
internal static class ScoringSnippets
{
    public static async Task<ScoreExplanation> ExplainAsync(IFunnelEventLog eventLog, ScoringModel model, LeadId leadId, Instant now)
    {
        // <snippet:scoring-explain>
        IReadOnlyList<LoggedEvent> history = await eventLog.ReadPersonAsync(leadId, max: 10_000);
        ScoreExplanation why = new LeadScorer(model).Explain(history.Select(e => e.Event), now);
        foreach (RuleScore rule in why.Rules.Where(r => r.Events.Length > 0))
        {
            Console.WriteLine($"{rule.Rule.When}: {rule.Points:0.#} points from {rule.Events.Length} events{(rule.Capped ? " (capped)" : "")}");
        }
        // </snippet:scoring-explain>
        return why;
    }

    public static ScoringModel Banded(ScoringModel model)
    {
        // <snippet:scoring-hysteresis>
        ScoringModel banded = model with
        {
            MarketingQualifiedAt = 50,
            Hysteresis = new ScoreHysteresis
            {
                MarketingQualifiedLeaveBelow = 35,   // an MQL becomes a Lead again below 35, and an MQL again only at 50
                SalesQualifiedLeaveBelow = null,     // SQLs never move back (sales-page visits also make SQLs)
            },
        };
        // </snippet:scoring-hysteresis>
        return banded;
    }
}
