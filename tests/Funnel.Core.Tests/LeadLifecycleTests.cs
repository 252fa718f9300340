using Funnel.Definitions;
using Funnel.Events;
using Funnel.Leads;

namespace Funnel.Tests;

public class LeadLifecycleTests
{
    private static readonly LeadLifecycle Lifecycle = LeadLifecycle.Default;

    [Fact]
    public void Apply_OptIn_MovesVisitorToLead()
    {
        Lifecycle.Apply(LifecycleStage.Visitor, TestEvents.OptIn(1, 0)).ShouldBe(LifecycleStage.Lead);
    }

    [Fact]
    public void Apply_SalesPageVisitByVisitor_DoesNotQualify()
    {
        Lifecycle.Apply(LifecycleStage.Visitor, TestEvents.Sales(1, 0)).ShouldBe(LifecycleStage.Visitor);
        Lifecycle.Apply(LifecycleStage.Lead, TestEvents.Sales(1, 0)).ShouldBe(LifecycleStage.SalesQualified);
    }

    [Fact]
    public void Apply_NeverMovesBackwards()
    {
        Lifecycle.Apply(LifecycleStage.Customer, TestEvents.OptIn(1, 0)).ShouldBe(LifecycleStage.Customer);
    }

    [Fact]
    public void Apply_ScoringEvent_MovesToMarketingQualified()
    {
        var qualified = new LifecycleStageChanged { LeadId = TestEvents.Lead(1), OccurredAt = TestEvents.T0, From = LifecycleStage.Lead, To = LifecycleStage.MarketingQualified };

        Lifecycle.Apply(LifecycleStage.Lead, qualified).ShouldBe(LifecycleStage.MarketingQualified);
    }

    [Fact]
    public void Replay_FullJourney_EndsAsAdvocate()
    {
        FunnelEvent[] journey =
        [
            new ReviewSubmitted { LeadId = TestEvents.Lead(1), OccurredAt = TestEvents.At(50), Product = "course", Rating = 5 },
            TestEvents.View(1, 0),
            TestEvents.Order(1, 30, 49700),
            TestEvents.OptIn(1, 10),
        ];

        Lifecycle.Replay(journey).ShouldBe(LifecycleStage.Advocate);
    }

    [Fact]
    public void Replay_ReviewBeforePurchase_DoesNotMakeAnAdvocate()
    {
        FunnelEvent[] journey =
        [
            new ReviewSubmitted { LeadId = TestEvents.Lead(1), OccurredAt = TestEvents.At(5), Product = "course", Rating = 5 },
            TestEvents.Order(1, 30, 49700),
        ];

        Lifecycle.Replay(journey).ShouldBe(LifecycleStage.Customer);
    }

    [Fact]
    public void Transition_DescribesTheChange()
    {
        LifecycleStageChanged? change = Lifecycle.Transition(LifecycleStage.Lead, TestEvents.Order(1, 3, 100));

        change.ShouldNotBeNull();
        change.From.ShouldBe(LifecycleStage.Lead);
        change.To.ShouldBe(LifecycleStage.Customer);
        change.Subject.ShouldBe("customer");
        change.OccurredAt.ShouldBe(TestEvents.At(3));
        Lifecycle.Transition(LifecycleStage.Customer, TestEvents.Order(1, 4, 100)).ShouldBeNull();
    }

    [Fact]
    public void CustomRules_AreApplied()
    {
        var lifecycle = new LeadLifecycle([new LifecycleRule(EventMatch.For(EventTypes.WebinarRegistered), LifecycleStage.MarketingQualified)]);
        var registered = new WebinarRegistered { LeadId = TestEvents.Lead(1), OccurredAt = TestEvents.T0, Webinar = "launch" };

        lifecycle.Apply(LifecycleStage.Lead, registered).ShouldBe(LifecycleStage.MarketingQualified);
        lifecycle.Apply(LifecycleStage.Lead, TestEvents.OptIn(1, 0)).ShouldBe(LifecycleStage.Lead);
    }

    [Fact]
    public void KeyOf_UnknownStage_Throws()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => ((LifecycleStage)42).ToKey());
    }
}
