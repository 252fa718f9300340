using FluentValidation;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Tests.Leads;

public class LeadScoringTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 31, 12, 0);

    private static readonly ScoringModel Model = new()
    {
        Rules =
        [
            new ScoringRule(EventMatch.For(EventTypes.EmailOpened), Points: 2, Cap: 10),
            new ScoringRule(EventMatch.For(EventTypes.EmailClicked), Points: 5, Cap: 25),
            new ScoringRule(EventMatch.For(EventTypes.PageViewed, "/sales*"), Points: 20, Cap: 40),
            new ScoringRule(EventMatch.For(EventTypes.EmailUnsubscribed), Points: -50, Cap: 50),
        ],
        MarketingQualifiedAt = 20,
        SalesQualifiedAt = 50,
    };

    private static readonly LeadId Ann = LeadId.New();

    private static EmailOpened Opened(Instant at) => new() { LeadId = Ann, OccurredAt = at, Email = "nurture-1" };

    private static EmailClicked Clicked(Instant at) => new() { LeadId = Ann, OccurredAt = at, Email = "nurture-1" };

    private static PageViewed Sales(Instant at) => new() { LeadId = Ann, OccurredAt = at, Page = "/sales" };

    private static LeadProfile Lead(LifecycleStage stage = LifecycleStage.Lead, double score = 0) =>
        new() { Id = Ann, Email = EmailAddress.Parse("ann@example.com"), CreatedAt = Now - Duration.FromDays(30), Stage = stage, Score = score };

    [Fact]
    public void Score_WithoutDecay_SumsPointsPerRuleUpToItsCap()
    {
        LeadScorer scorer = new(Model);
        FunnelEvent[] events = [.. Enumerable.Range(0, 8).Select(i => Opened(Now - Duration.FromHours(i))), Clicked(Now), Clicked(Now)];

        scorer.Score(events, Now).ShouldBe(10 + 10);
    }

    [Fact]
    public void Score_NegativePoints_Subtract()
    {
        LeadScorer scorer = new(Model);

        scorer.Score([Clicked(Now), new EmailUnsubscribed { LeadId = Ann, OccurredAt = Now, Email = "nurture-1" }], Now).ShouldBe(5 - 50);
    }

    [Fact]
    public void Score_EventsAfterNow_AreIgnored()
    {
        new LeadScorer(Model).Score([Clicked(Now + Duration.FromSeconds(1))], Now).ShouldBe(0);
    }

    [Fact]
    public void Score_OneHalfLifeLater_IsHalved()
    {
        LeadScorer scorer = new(Model with { HalfLife = Duration.FromDays(7) });
        FunnelEvent[] events = [Clicked(Now), Clicked(Now)];

        scorer.Score(events, Now).ShouldBe(10, tolerance: 1e-9);
        scorer.Score(events, Now + Duration.FromDays(7)).ShouldBe(5, tolerance: 1e-9);
        scorer.Score(events, Now + Duration.FromDays(14)).ShouldBe(2.5, tolerance: 1e-9);
    }

    [Fact]
    public void Update_ScoreReachesMqlThreshold_MovesLeadToMqlAndEmitsEvents()
    {
        LeadScorer scorer = new(Model);

        ScoringResult result = scorer.Update(Lead(), [Clicked(Now), Clicked(Now), Clicked(Now), Clicked(Now)], Now);

        result.Lead.Score.ShouldBe(20);
        result.Lead.Stage.ShouldBe(LifecycleStage.MarketingQualified);
        result.Events.Length.ShouldBe(2);
        ScoreChanged changed = result.Events.OfType<ScoreChanged>().Single();
        (changed.From, changed.To).ShouldBe((0d, 20d));
        LifecycleStageChanged stage = result.Events.OfType<LifecycleStageChanged>().Single();
        (stage.From, stage.To, stage.Subject).ShouldBe((LifecycleStage.Lead, LifecycleStage.MarketingQualified, "marketing-qualified"));
        LeadLifecycle.Default.Apply(LifecycleStage.Lead, stage).ShouldBe(LifecycleStage.MarketingQualified);
    }

    [Fact]
    public void Update_ScoreReachesSqlThreshold_SkipsStraightToSql()
    {
        ScoringResult result = new LeadScorer(Model).Update(Lead(), [Sales(Now), Sales(Now), Clicked(Now), Clicked(Now)], Now);

        result.Lead.Stage.ShouldBe(LifecycleStage.SalesQualified);
    }

    [Fact]
    public void Update_ScoreDecaysBelowThreshold_StageDoesNotMoveBack()
    {
        LeadScorer scorer = new(Model with { HalfLife = Duration.FromDays(7) });
        FunnelEvent[] events = [Sales(Now)];

        ScoringResult first = scorer.Update(Lead(), events, Now);
        ScoringResult later = scorer.Update(first.Lead, events, Now + Duration.FromDays(30));

        first.Lead.Stage.ShouldBe(LifecycleStage.MarketingQualified);
        later.Lead.Score.ShouldBeLessThan(2);
        later.Lead.Stage.ShouldBe(LifecycleStage.MarketingQualified);
        later.Events.ShouldHaveSingleItem().ShouldBeOfType<ScoreChanged>();
    }

    [Fact]
    public void Update_VisitorWithHighScore_StaysVisitor()
    {
        new LeadScorer(Model).StageFor(LifecycleStage.Visitor, 1000).ShouldBe(LifecycleStage.Visitor);
    }

    [Fact]
    public void Update_SameScore_EmitsNothing()
    {
        new LeadScorer(Model).Update(Lead(score: 5), [Clicked(Now)], Now).Events.ShouldBeEmpty();
    }

    [Fact]
    public void Constructor_InvalidModel_ThrowsNamingTheFields()
    {
        ScoringModel bad = Model with
        {
            Rules = [new ScoringRule(EventMatch.For(EventTypes.EmailOpened), 0, -1)],
            HalfLife = Duration.Zero,
            SalesQualifiedAt = 10,
        };

        ValidationException ex = Should.Throw<ValidationException>(() => new LeadScorer(bad));

        ex.Errors.Select(e => e.PropertyName).ShouldBe(["Rules[0].Points", "Rules[0].Cap", "HalfLife", "SalesQualifiedAt"], ignoreOrder: true);
    }

    private static readonly Gen<(ScoringModel Model, FunnelEvent[] Events)> Scenario =
        from rules in Gen.Elements(
                (EventTypes.EmailOpened, 1.0), (EventTypes.EmailClicked, 3.5), (EventTypes.PageViewed, 7.0), (EventTypes.OptedIn, 10.0))
            .Select(r => from cap in Gen.Choose(1, 60) select new ScoringRule(EventMatch.For(r.Item1), r.Item2, cap))
            .SelectMany(g => g)
            .NonEmptyListOf()
        from halfLifeDays in Gen.Choose(0, 30)
        from events in (from type in Gen.Elements(0, 1, 2, 3)
                        from minutesAgo in Gen.Choose(0, 60 * 24 * 60)
                        select (FunnelEvent)(type switch
                        {
                            0 => Opened(Now - Duration.FromMinutes(minutesAgo)),
                            1 => Clicked(Now - Duration.FromMinutes(minutesAgo)),
                            2 => Sales(Now - Duration.FromMinutes(minutesAgo)),
                            _ => new OptedIn { LeadId = Ann, OccurredAt = Now - Duration.FromMinutes(minutesAgo), Magnet = "guide" },
                        })).ArrayOf()
        select (new ScoringModel { Rules = [.. rules], HalfLife = halfLifeDays == 0 ? null : Duration.FromDays(halfLifeDays) }, events);

    [Property]
    public Property Score_PositivePoints_NeverExceedsTheSumOfCaps() => Prop.ForAll(Arb.From(Scenario), s =>
    {
        double score = new LeadScorer(s.Model).Score(s.Events, Now);
        return score >= 0 && score <= s.Model.Rules.Sum(r => r.Cap) + 1e-9;
    });

    [Property]
    public Property Score_WithoutNewEvents_NeverGrowsOverTime() => Prop.ForAll(
        Arb.From(from s in Scenario from laterMinutes in Gen.Choose(0, 60 * 24 * 90) select (s, laterMinutes)),
        t =>
        {
            LeadScorer scorer = new(t.s.Model);
            double now = scorer.Score(t.s.Events, Now);
            double later = scorer.Score(t.s.Events, Now + Duration.FromMinutes(t.laterMinutes));
            return t.s.Model.HalfLife is null ? later == now : later <= now + 1e-9;
        });

    [Property]
    public Property Score_MoreEvents_NeverLowersTheScore() => Prop.ForAll(
        Arb.From(from s in Scenario from extra in Gen.Choose(0, 3) select (s, extra)),
        t =>
        {
            LeadScorer scorer = new(t.s.Model);
            FunnelEvent[] more = [.. t.s.Events, Clicked(Now - Duration.FromMinutes(t.extra)), Opened(Now)];
            return scorer.Score(more, Now) >= scorer.Score(t.s.Events, Now) - 1e-9;
        });

    [Fact]
    public void Explain_ShowsEachRulesEventsDecayedPointsTheCapAndTheAdjustments()
    {
        LeadScorer scorer = new(Model with { HalfLife = Duration.FromDays(7) });
        EmailClicked lastWeek = Clicked(Now - Duration.FromDays(7));
        PageViewed[] sales = [Sales(Now), Sales(Now), Sales(Now - Duration.FromDays(1))];
        ScoreAdjusted bonus = new() { LeadId = Ann, OccurredAt = Now, Points = 15, Reason = "guide-nurture/opened-bonus" };

        ScoreExplanation why = scorer.Explain([lastWeek, .. sales, bonus], Now);

        why.Score.ShouldBe(scorer.Score([lastWeek, .. sales, bonus], Now));
        why.Score.ShouldBe(15 + 2.5 + 40, tolerance: 1e-9);
        why.At.ShouldBe(Now);
        why.Rules.Select(r => r.Rule).ShouldBe(Model.Rules);
        RuleScore clicks = why.Rules[1];
        clicks.Events.ShouldHaveSingleItem().ShouldSatisfyAllConditions(
            c => c.Event.ShouldBe(lastWeek.Id),
            c => c.EventType.ShouldBe(EventTypes.EmailClicked),
            c => c.Points.ShouldBe(5),
            c => c.DecayedPoints.ShouldBe(2.5, tolerance: 1e-12));
        RuleScore salesPage = why.Rules[2];
        (salesPage.Events.Length, salesPage.Capped, salesPage.Points).ShouldBe((3, true, 40.0));
        salesPage.Uncapped.ShouldBe(20 + 20 + 20 * Math.Pow(0.5, 1.0 / 7), tolerance: 1e-9);
        why.Rules[0].Events.ShouldBeEmpty();
        why.Rules[0].Points.ShouldBe(0);
        why.Adjustments.ShouldHaveSingleItem().ShouldSatisfyAllConditions(
            a => a.Reason.ShouldBe("guide-nurture/opened-bonus"),
            a => a.DecayedPoints.ShouldBe(15));
    }

    [Property]
    public Property Explain_AddsUpToTheScoreExactly() => Prop.ForAll(Arb.From(Scenario), s =>
    {
        LeadScorer scorer = new(s.Model);
        ScoreExplanation why = scorer.Explain(s.Events, Now);
        return why.Score == scorer.Score(s.Events, Now)
            && why.Rules.All(r => r.Uncapped == r.Events.Aggregate(0.0, (sum, e) => sum + e.DecayedPoints)
                && r.Points == Math.Clamp(r.Uncapped, -r.Rule.Cap, r.Rule.Cap))
            && why.Rules.Sum(r => r.Events.Length) == s.Events.Sum(e => s.Model.Rules.Count(r => r.When.Matches(e)));
    });

    [Fact]
    public void StageFor_WithAHysteresisBand_EntersAtTheThresholdAndLeavesOnlyBelowTheLowerEdge()
    {
        LeadScorer scorer = new(Model with { Hysteresis = new ScoreHysteresis { MarketingQualifiedLeaveBelow = 12, SalesQualifiedLeaveBelow = 40 } });
        LifecycleStage stage = LifecycleStage.Lead;
        List<LifecycleStage> path = [];
        foreach (double score in new[] { 19.9, 20, 15, 12, 11.9, 15, 19.9, 20, 55, 45, 40, 39.9, 20, 12, 5, 60, 11 })
        {
            stage = scorer.StageFor(stage, score);
            path.Add(stage);
        }

        const LifecycleStage L = LifecycleStage.Lead, M = LifecycleStage.MarketingQualified, S = LifecycleStage.SalesQualified;
        path.ShouldBe([L, M, M, M, L, L, L, M, S, S, S, M, M, M, L, S, L]);
        scorer.StageFor(LifecycleStage.Customer, 0).ShouldBe(LifecycleStage.Customer);
        scorer.StageFor(LifecycleStage.Visitor, 90).ShouldBe(LifecycleStage.Visitor);
    }

    [Fact]
    public void Update_WithABandWithoutAnSqlEdge_MovesAnMqlBackButNeverAnSql()
    {
        LeadScorer scorer = new(Model with { HalfLife = Duration.FromDays(7), Hysteresis = new ScoreHysteresis { MarketingQualifiedLeaveBelow = 10 } });
        FunnelEvent[] events = [Sales(Now)];

        ScoringResult mql = scorer.Update(Lead(LifecycleStage.MarketingQualified, 20), events, Now + Duration.FromDays(7));
        ScoringResult sql = scorer.Update(Lead(LifecycleStage.SalesQualified, 20), events, Now + Duration.FromDays(21));

        mql.Lead.Stage.ShouldBe(LifecycleStage.MarketingQualified, "10 is in the band");
        scorer.Update(Lead(LifecycleStage.MarketingQualified, 20), events, Now + Duration.FromDays(8)).Events.OfType<LifecycleStageChanged>()
            .ShouldHaveSingleItem().ShouldSatisfyAllConditions(c => c.From.ShouldBe(LifecycleStage.MarketingQualified), c => c.To.ShouldBe(LifecycleStage.Lead));
        sql.Lead.Stage.ShouldBe(LifecycleStage.SalesQualified);
    }

    [Fact]
    public void Constructor_InvalidBand_ThrowsNamingTheEdges()
    {
        ScoringModel bad = Model with { Hysteresis = new ScoreHysteresis { MarketingQualifiedLeaveBelow = 20, SalesQualifiedLeaveBelow = double.NaN } };

        ValidationException ex = Should.Throw<ValidationException>(() => new LeadScorer(bad));

        ex.Errors.Select(e => e.PropertyName).ShouldBe(["Hysteresis.MarketingQualifiedLeaveBelow", "Hysteresis.SalesQualifiedLeaveBelow"], ignoreOrder: true);
        ex.Message.ShouldContain("below the MQL threshold 20");
    }
}
