using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Segments;
using NodaTime;

namespace Funnel.Tests.Segments;

public class SegmentRuleTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 1, 12, 0);
    private static readonly LeadId Ann = LeadId.New();

    private static LeadProfile Profile => new()
    {
        Id = Ann,
        Email = EmailAddress.Parse("ann@example.com"),
        CreatedAt = Now,
        Stage = LifecycleStage.MarketingQualified,
        Score = 42,
        Tags = ImmutableSortedSet.Create(StringComparer.Ordinal, "vip"),
        CustomFields = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("country", "DE").Add("age", "30"),
        Consent = new ConsentRecord { Purpose = "marketing-email", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "guide", RecordedAt = Now },
    };

    private static PageViewed View(string page, int minutesAgo, string? variant = null) => new()
    {
        LeadId = Ann,
        OccurredAt = Now - Duration.FromMinutes(minutesAgo),
        Page = page,
        Properties = variant is null ? ImmutableDictionary<string, string>.Empty : ImmutableDictionary<string, string>.Empty.Add("variant", variant),
    };

    private static readonly FunnelEvent[] History =
    [
        View("/blog/write-fast", 60 * 24 * 10),
        View("/blog/outline", 30, "a"),
        View("/blog/outline", 20, "b"),
        new OptedIn { LeadId = Ann, OccurredAt = Now - Duration.FromDays(2), Magnet = "quick-start-guide" },
        new EmailOpened { LeadId = Ann, OccurredAt = Now - Duration.FromDays(1), Email = "nurture-1" },
        new EmailClicked { LeadId = Ann, OccurredAt = Now - Duration.FromHours(1), Email = "nurture-2" },
        View("/sales", -5),
    ];

    private static bool Matches(SegmentRule rule, LeadProfile? profile = null, IEnumerable<FunnelEvent>? events = null)
    {
        bool single = new SegmentEvaluator(rule).Matches(profile ?? Profile, events ?? History, Now);
        LeadPopulationBuilder builder = new();
        int index = builder.Add(profile ?? Profile);
        foreach (FunnelEvent e in events ?? History)
        {
            builder.AddEvent(index, e);
        }

        bool bulk = new SegmentEvaluator(rule).Evaluate(builder.Build(), Now).Contains(Ann);
        bulk.ShouldBe(single, "bulk and single-lead evaluation disagree");
        return single;
    }

    [Fact]
    public void EventRule_TypeAndExactOrPrefixSubject_Matches()
    {
        Matches(new EventRule { EventType = EventTypes.OptedIn }).ShouldBeTrue();
        Matches(new EventRule { EventType = EventTypes.OptedIn, Subject = "quick-start-guide" }).ShouldBeTrue();
        Matches(new EventRule { EventType = EventTypes.OptedIn, Subject = "quick-start" }).ShouldBeFalse();
        Matches(new EventRule { EventType = EventTypes.OptedIn, Subject = "quick-*" }).ShouldBeTrue();
        Matches(new EventRule { EventType = EventTypes.OrderPlaced }).ShouldBeFalse();
    }

    [Fact]
    public void EventRule_AtLeastAndWithin_CountOnlyRecentEvents()
    {
        Matches(new EventRule { EventType = EventTypes.PageViewed, Subject = "/blog/*", AtLeast = 3 }).ShouldBeTrue();
        Matches(new EventRule { EventType = EventTypes.PageViewed, Subject = "/blog/*", AtLeast = 4 }).ShouldBeFalse();
        Matches(new EventRule { EventType = EventTypes.PageViewed, Subject = "/blog/*", AtLeast = 2, Within = Duration.FromHours(1) }).ShouldBeTrue();
        Matches(new EventRule { EventType = EventTypes.PageViewed, Subject = "/blog/*", AtLeast = 3, Within = Duration.FromDays(9) }).ShouldBeFalse();
        Matches(new EventRule { EventType = EventTypes.PageViewed, Subject = "/blog/*", Within = Duration.FromMinutes(20) }).ShouldBeTrue();
        Matches(new EventRule { EventType = EventTypes.PageViewed, Subject = "/blog/*", Within = Duration.FromMinutes(19) }).ShouldBeFalse();
    }

    [Fact]
    public void EventRule_EventAfterNow_DoesNotCount()
    {
        Matches(new PageRule("/sales")).ShouldBeFalse();
    }

    [Fact]
    public void EventRule_PropertyFilter_NeedsEqualValues()
    {
        ImmutableSortedDictionary<string, string> a = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("variant", "a");
        Matches(new EventRule { EventType = EventTypes.PageViewed, Properties = a }).ShouldBeTrue();
        Matches(new EventRule { EventType = EventTypes.PageViewed, Properties = a, AtLeast = 2 }).ShouldBeFalse();
        Matches(new EventRule { EventType = EventTypes.PageViewed, Properties = a.SetItem("variant", "c") }).ShouldBeFalse();
    }

    [Fact]
    public void NotEventRule_DidNotHappen_Matches()
    {
        Matches(new NotRule(new EventRule { EventType = EventTypes.SalesPageVisited })).ShouldBeTrue();
        Matches(new NotRule(new EventRule { EventType = EventTypes.OptedIn })).ShouldBeFalse();
    }

    [Fact]
    public void EmailRule_SpecificEmailOpenedOrClicked_Matches()
    {
        Matches(new EmailRule("nurture-1", EmailAction.Opened)).ShouldBeTrue();
        Matches(new EmailRule("nurture-1", EmailAction.Clicked)).ShouldBeFalse();
        Matches(new EmailRule("nurture-2", EmailAction.Clicked, Duration.FromHours(2))).ShouldBeTrue();
        Matches(new EmailRule("nurture-1", EmailAction.Opened, Duration.FromHours(2))).ShouldBeFalse();
        Matches(new NotRule(new EmailRule("nurture-3", EmailAction.Opened))).ShouldBeTrue();
    }

    [Fact]
    public void PageRule_VisitedOrNot_Matches()
    {
        Matches(new PageRule("/blog/*")).ShouldBeTrue();
        Matches(new PageRule("/blog/outline", Duration.FromMinutes(25))).ShouldBeTrue();
        Matches(new PageRule("/free-guide")).ShouldBeFalse();
    }

    [Fact]
    public void TagRule_HasTag_Matches()
    {
        Matches(new TagRule("vip")).ShouldBeTrue();
        Matches(new TagRule("VIP")).ShouldBeFalse();
        Matches(new TagRule("vip"), Profile with { Tags = [] }).ShouldBeFalse();
    }

    [Theory]
    [InlineData("country", FieldOperator.Exists, null, true)]
    [InlineData("city", FieldOperator.Exists, null, false)]
    [InlineData("country", FieldOperator.Equal, "DE", true)]
    [InlineData("country", FieldOperator.Equal, "de", false)]
    [InlineData("country", FieldOperator.NotEqual, "US", true)]
    [InlineData("city", FieldOperator.NotEqual, "Berlin", true)]
    [InlineData("country", FieldOperator.Contains, "E", true)]
    [InlineData("age", FieldOperator.GreaterThan, "29.5", true)]
    [InlineData("age", FieldOperator.GreaterThan, "30", false)]
    [InlineData("age", FieldOperator.GreaterThanOrEqual, "30", true)]
    [InlineData("age", FieldOperator.LessThan, "30", false)]
    [InlineData("age", FieldOperator.LessThanOrEqual, "30.0", true)]
    [InlineData("country", FieldOperator.LessThan, "100", false)]
    public void FieldRule_Comparison_Matches(string field, FieldOperator op, string? value, bool expected)
    {
        Matches(new FieldRule(field, op, value)).ShouldBe(expected);
    }

    [Fact]
    public void StageRule_Range_Matches()
    {
        Matches(new StageRule(LifecycleStage.MarketingQualified)).ShouldBeTrue();
        Matches(new StageRule(LifecycleStage.SalesQualified)).ShouldBeFalse();
        Matches(new StageRule(null, LifecycleStage.Lead)).ShouldBeFalse();
        Matches(new StageRule(LifecycleStage.Lead, LifecycleStage.MarketingQualified)).ShouldBeTrue();
    }

    [Fact]
    public void ScoreRule_InclusiveRange_Matches()
    {
        Matches(new ScoreRule(42)).ShouldBeTrue();
        Matches(new ScoreRule(42.5)).ShouldBeFalse();
        Matches(new ScoreRule(null, 42)).ShouldBeTrue();
        Matches(new ScoreRule(0, 41.9)).ShouldBeFalse();
    }

    [Fact]
    public void ConsentRule_Status_Matches()
    {
        Matches(new ConsentRule(ConsentStatus.Granted)).ShouldBeTrue();
        Matches(new ConsentRule(ConsentStatus.Pending)).ShouldBeFalse();
        Matches(new ConsentRule(ConsentStatus.None), Profile with { Consent = null }).ShouldBeTrue();
    }

    [Fact]
    public void AllAnyNot_Combine_AsBooleanLogic()
    {
        SegmentRule yes = new TagRule("vip");
        SegmentRule no = new TagRule("cold");

        Matches(new AllRule([yes, yes])).ShouldBeTrue();
        Matches(new AllRule([yes, no])).ShouldBeFalse();
        Matches(new AnyRule([no, yes])).ShouldBeTrue();
        Matches(new AnyRule([no, no])).ShouldBeFalse();
        Matches(new NotRule(new AnyRule([no, no]))).ShouldBeTrue();
    }

    [Fact]
    public void Matches_VisitorWithoutProfile_IsVisitorWithNoConsent()
    {
        SegmentEvaluator evaluator = new(new AllRule([new StageRule(null, LifecycleStage.Visitor), new ConsentRule(ConsentStatus.None), new ScoreRule(0, 0)]));

        evaluator.Matches(null, History, Now).ShouldBeTrue();
    }

    [Fact]
    public void Constructor_InvalidRule_ThrowsWithPathOfBadNode()
    {
        SegmentRule bad = new AllRule([new TagRule("vip"), new NotRule(new EventRule { EventType = "Opted In", AtLeast = 0 })]);

        SegmentRuleException ex = Should.Throw<SegmentRuleException>(() => new SegmentEvaluator(bad));

        ex.Errors.Select(e => e.Path).ShouldBe(["rule.rules[1].rule.event", "rule.rules[1].rule.atLeast"]);
        ex.Message.ShouldContain("rule.rules[1].rule.atLeast: 0 is not a valid count");
    }

    [Fact]
    public void Check_EveryKindOfBadValue_IsReportedAtItsPath()
    {
        SegmentRule bad = new AnyRule(
        [
            new AllRule([]),
            new EventRule { EventType = "page_viewed", Subject = "", Within = Duration.FromHours(-1) },
            new EmailRule("", (EmailAction)9),
            new PageRule("", Duration.Zero),
            new TagRule(""),
            new FieldRule("", FieldOperator.GreaterThan, "ten"),
            new FieldRule("age", FieldOperator.Equal),
            new StageRule(null),
            new StageRule(LifecycleStage.Customer, LifecycleStage.Lead),
            new ScoreRule(10, 5),
            new ScoreRule(double.NaN),
            new ConsentRule((ConsentStatus)7),
        ]);

        SegmentRuleValidator.Check(bad).Select(e => e.Path).ShouldBe(
        [
            "rule.rules[0].rules",
            "rule.rules[1].subject", "rule.rules[1].within",
            "rule.rules[2].email", "rule.rules[2].action",
            "rule.rules[3].page", "rule.rules[3].within",
            "rule.rules[4].tag",
            "rule.rules[5].field", "rule.rules[5].value",
            "rule.rules[6].value",
            "rule.rules[7]",
            "rule.rules[8].atMost",
            "rule.rules[9].max",
            "rule.rules[10].min",
            "rule.rules[11].status",
        ]);
    }

    [Fact]
    public void Validator_SegmentDefinition_ReportsKeyAndNodePaths()
    {
        var result = new SegmentRuleValidator().Validate(new SegmentDefinition("Bad Key", new NotRule(new TagRule(""))));

        result.Errors.Select(e => e.PropertyName).ShouldBe(["Key", "rule.rule.tag"]);
    }
}
