using Funnel.Definitions;
using Funnel.Events;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Tests.Leads;

/// <summary>The events automations record change scores and stages as the scoring model and the lifecycle say.</summary>
public sealed class ActionEventsTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 7, 9, 0);
    private static readonly LeadId Lead = new(Guid.Parse("0193f5a0-1111-7000-8000-000000000001"));

    [Fact]
    public void Score_adjustments_add_outside_the_rules_caps_and_decay_with_the_half_life()
    {
        LeadScorer scorer = new(new ScoringModel { Rules = [new ScoringRule(EventMatch.For(EventTypes.PageViewed), 10, 15)], HalfLife = Duration.FromDays(7) });
        FunnelEvent[] events =
        [
            new PageViewed { LeadId = Lead, OccurredAt = Now, Page = "/a" },
            new PageViewed { LeadId = Lead, OccurredAt = Now, Page = "/b" },
            new ScoreAdjusted { LeadId = Lead, OccurredAt = Now, Points = 40, Reason = "flow/bonus" },
            new ScoreAdjusted { LeadId = Lead, OccurredAt = Now - Duration.FromDays(7), Points = -8, Reason = "flow/penalty" },
        ];

        scorer.Score(events, Now).ShouldBe(15 + 40 - 4, 1e-9);
    }

    [Fact]
    public void A_stage_set_moves_a_lead_forward_and_never_back()
    {
        LifecycleStageSet set = new() { LeadId = Lead, OccurredAt = Now, Stage = LifecycleStage.SalesQualified };

        LeadLifecycle.Default.Apply(LifecycleStage.Lead, set).ShouldBe(LifecycleStage.SalesQualified);
        LeadLifecycle.Default.Apply(LifecycleStage.Customer, set).ShouldBe(LifecycleStage.Customer);
        LeadLifecycle.Default.Transition(LifecycleStage.Lead, set).ShouldNotBeNull().To.ShouldBe(LifecycleStage.SalesQualified);
    }
}
