using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Segments;
using NodaTime;

namespace Funnel.Tests.Segments;

public class SegmentRuleJsonTests
{
    [Fact]
    public void Serialize_DownloadedGuideNotSalesPage_WritesTheVersionedFormat()
    {
        SegmentRule rule = RetargetingSegments.DownloadedGuideNotSalesPage("quick-start-guide", within: Duration.FromDays(30)).Rule;

        SegmentRuleJson.Serialize(rule).ShouldBe(
            """{"version":1,"rule":{"type":"all","rules":[{"type":"event","event":"opted_in","subject":"quick-start-guide","within":"P30D"},{"type":"not","rule":{"type":"event","event":"sales_page_visited"}}]}}""");
    }

    [Fact]
    public void Deserialize_EveryNodeType_ReadsTheRule()
    {
        const string json = """
            {
              "version": 1,
              "rule": {
                "type": "any",
                "rules": [
                  { "type": "event", "event": "page_viewed", "subject": "/blog/*", "atLeast": 3, "within": "PT12H", "properties": { "variant": "a" } },
                  { "type": "email", "email": "nurture-3", "action": "clicked", "within": "P7D" },
                  { "type": "not", "rule": { "type": "page", "page": "/sales" } },
                  { "type": "tag", "tag": "vip" },
                  { "type": "field", "field": "age", "op": "gte", "value": "18" },
                  { "type": "stage", "atLeast": "marketing-qualified", "atMost": "sales-qualified" },
                  { "type": "score", "min": 10.5, "max": 99 },
                  { "type": "consent", "status": "granted" }
                ]
              }
            }
            """;

        AnyRule rule = SegmentRuleJson.Deserialize(json).ShouldBeOfType<AnyRule>();

        rule.Rules.Length.ShouldBe(8);
        EventRule e = rule.Rules[0].ShouldBeOfType<EventRule>();
        (e.EventType, e.Subject, e.AtLeast, e.Within, e.Properties["variant"]).ShouldBe((EventTypes.PageViewed, "/blog/*", 3, Duration.FromHours(12), "a"));
        rule.Rules[1].ShouldBe(new EmailRule("nurture-3", EmailAction.Clicked, Duration.FromDays(7)));
        rule.Rules[2].ShouldBe(new NotRule(new PageRule("/sales")));
        rule.Rules[3].ShouldBe(new TagRule("vip"));
        rule.Rules[4].ShouldBe(new FieldRule("age", FieldOperator.GreaterThanOrEqual, "18"));
        rule.Rules[5].ShouldBe(new StageRule(LifecycleStage.MarketingQualified, LifecycleStage.SalesQualified));
        rule.Rules[6].ShouldBe(new ScoreRule(10.5, 99));
        rule.Rules[7].ShouldBe(new ConsentRule(ConsentStatus.Granted));
    }

    [Property(MaxTest = 300)]
    public Property SerializeThenDeserialize_AnyValidRule_ReturnsAnEqualRule() => Prop.ForAll(
        Arb.From(SegmentArbitraries.Rule),
        rule =>
        {
            string json = SegmentRuleJson.Serialize(rule);
            SegmentRule back = SegmentRuleJson.Deserialize(json);
            return (back.Equals(rule) && SegmentRuleJson.Serialize(back) == json).Label(json);
        });

    [Property(MaxTest = 300)]
    public Property SerializeThenDeserialize_AnyFiniteScoreBounds_KeepsEveryBit() => Prop.ForAll(
        Arb.From(from high in Gen.Choose(int.MinValue, int.MaxValue)
                 from low in Gen.Choose(int.MinValue, int.MaxValue)
                 let value = BitConverter.Int64BitsToDouble(unchecked(((long)high << 32) | (uint)low))
                 where double.IsFinite(value)
                 select value),
        value =>
        {
            ScoreRule back = SegmentRuleJson.Deserialize(SegmentRuleJson.Serialize(new ScoreRule(value))).ShouldBeOfType<ScoreRule>();
            return BitConverter.DoubleToInt64Bits(back.Min!.Value) == BitConverter.DoubleToInt64Bits(value) || (value == 0 && back.Min == 0);
        });

    [Property(MaxTest = 50)]
    public Property SerializeIndented_AnyValidRule_ReadsBackEqual() => Prop.ForAll(
        Arb.From(SegmentArbitraries.Rule),
        rule => SegmentRuleJson.Deserialize(SegmentRuleJson.Serialize(rule, indented: true)).Equals(rule));

    [Theory]
    [InlineData("""{"version":1,"rule":{"type":"tag","tag":"vip"}""", "$", "invalid JSON at line 1")]
    [InlineData("""[1,2]""", "$", "expected a JSON object")]
    [InlineData("""{"rule":{"type":"tag","tag":"vip"}}""", "version", "format version is required")]
    [InlineData("""{"version":2,"rule":{"type":"tag","tag":"vip"}}""", "version", "2 is not a supported version")]
    [InlineData("""{"version":1}""", "rule", "the rule is required")]
    [InlineData("""{"version":1,"rule":{"type":"all","rules":[{"type":"tag","tag":"a"},{"type":"teg","tag":"b"}]}}""", "rule.rules[1].type", "'teg' is not a rule type")]
    [InlineData("""{"version":1,"rule":{"type":"all","rules":[{"type":"tag","tag":"a"},{"type":"tag","tag":"b"},{"type":"page","page":"/x","within":"30 days"}]}}""", "rule.rules[2].within", "'30 days' is not a valid window")]
    [InlineData("""{"version":1,"rule":{"type":"page","page":"/x","within":"P1M"}}""", "rule.within", "'P1M' is not a valid window")]
    [InlineData("""{"version":1,"rule":{"type":"page","page":"/x","within":"PT0S"}}""", "rule.within", "must be positive")]
    [InlineData("""{"version":1,"rule":{"type":"page","page":"/x","within":"P40000D"}}""", "rule.within", "at most 36525 days")]
    [InlineData("""{"version":1,"rule":{"type":"event","event":"opted_in","atLeast":"two"}}""", "rule.atLeast", "expected a whole number")]
    [InlineData("""{"version":1,"rule":{"type":"event","event":"opted_in","atLeast":0}}""", "rule.atLeast", "0 is not a valid count")]
    [InlineData("""{"version":1,"rule":{"type":"event","event":"opted_in","properties":{"variant":1}}}""", "rule.properties.variant", "expected a string")]
    [InlineData("""{"version":1,"rule":{"type":"event","subject":"x"}}""", "rule.event", "'event' is required")]
    [InlineData("""{"version":1,"rule":{"type":"tag","tag":"vip","colour":"red"}}""", "rule.colour", "'colour' is not a property")]
    [InlineData("""{"version":1,"rule":{"type":"email","email":"n-1","action":"read"}}""", "rule.action", "'read' is not an email action")]
    [InlineData("""{"version":1,"rule":{"type":"field","field":"age","op":"between","value":"1"}}""", "rule.op", "'between' is not a field operator")]
    [InlineData("""{"version":1,"rule":{"type":"field","field":"age","op":"gt","value":"old"}}""", "rule.value", "'old' is not a number")]
    [InlineData("""{"version":1,"rule":{"type":"stage","atLeast":"mql"}}""", "rule.atLeast", "'mql' is not a lifecycle stage")]
    [InlineData("""{"version":1,"rule":{"type":"score","min":"10"}}""", "rule.min", "expected a number")]
    [InlineData("""{"version":1,"rule":{"type":"consent","status":"yes"}}""", "rule.status", "'yes' is not a consent status")]
    [InlineData("""{"version":1,"rule":{"type":"not"}}""", "rule.rule", "the rule to negate is required")]
    [InlineData("""{"version":1,"rule":{"type":"any","rules":[]}}""", "rule.rules", "needs at least one rule")]
    [InlineData("""{"version":1,"rule":{"type":"any","rules":{}}}""", "rule.rules", "an array of rules is required")]
    [InlineData("""{"version":1,"rule":{"type":"any","rules":[42]}}""", "rule.rules[0]", "expected a rule object, found a number")]
    [InlineData("""{"version":1,"rule":{"tag":"vip"}}""", "rule.type", "'type' is required")]
    public void Deserialize_BadInput_ThrowsWithThePathOfTheBadNode(string json, string path, string message)
    {
        SegmentRuleException ex = Should.Throw<SegmentRuleException>(() => SegmentRuleJson.Deserialize(json));

        SegmentRuleError error = ex.Errors.ShouldHaveSingleItem();
        error.Path.ShouldBe(path);
        error.Message.ShouldContain(message);
    }

    [Fact]
    public void TryDeserialize_SeveralBadNodes_ReportsEachWithoutThrowing()
    {
        bool ok = SegmentRuleJson.TryDeserialize(
            """{"version":1,"rule":{"type":"all","rules":[{"type":"tag"},{"type":"score","min":5,"max":1}]}}""",
            out SegmentRule? rule,
            out var errors);

        ok.ShouldBeFalse();
        rule.ShouldBeNull();
        errors.Select(e => e.Path).ShouldBe(["rule.rules[0].tag"]);
    }

    [Fact]
    public void Deserialize_NestingDeeperThanTheLimit_IsRejected()
    {
        string json = """{"version":1,"rule":""" + string.Concat(Enumerable.Repeat("""{"type":"not","rule":""", 40)) + """{"type":"tag","tag":"x"}""" + new string('}', 40) + "}";

        SegmentRuleException ex = Should.Throw<SegmentRuleException>(() => SegmentRuleJson.Deserialize(json));

        ex.Errors.ShouldHaveSingleItem().Message.ShouldContain("nested deeper than 32");
    }

    [Fact]
    public void Serialize_InvalidRule_Throws()
    {
        Should.Throw<SegmentRuleException>(() => SegmentRuleJson.Serialize(new TagRule("")));
    }
}
