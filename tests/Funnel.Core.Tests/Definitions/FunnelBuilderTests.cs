using FluentValidation;
using Funnel.Definitions;
using Funnel.Events;

namespace Funnel.Tests.Definitions;

public class FunnelBuilderTests
{
    private static FunnelBuilder Valid() => FunnelBuilder.Create("ebook", "E-Book")
        .WithDefaultStages()
        .AddStep("visit", "Visitors", "awareness", StepKind.Content, EventMatch.For(EventTypes.PageViewed))
        .AddStep("opt-in", "Leads", "interest", StepKind.OptIn, EventMatch.For(EventTypes.OptedIn, "guide"));

    private static ValidationException BuildFails(FunnelBuilder builder) => Should.Throw<ValidationException>(builder.Build);

    [Fact]
    public void Build_ValidFunnel_KeepsStagesAndStepsInOrder()
    {
        FunnelDefinition funnel = Valid().Build();

        funnel.Id.ShouldBe(new FunnelId("ebook"));
        funnel.Stages.Select(s => s.Key.Value).ShouldBe(["awareness", "interest", "decision", "action", "retention"]);
        funnel.Steps.Select(s => s.Key.Value).ShouldBe(["visit", "opt-in"]);
        funnel.StepsIn("interest").Single().Kind.ShouldBe(StepKind.OptIn);
        funnel.StepsIn("decision").ShouldBeEmpty();
    }

    [Fact]
    public void Build_CustomStages_AreAccepted()
    {
        FunnelDefinition funnel = FunnelBuilder.Create("saas-trial", "SaaS trial")
            .AddStage("trial", "Trial").AddStage("paid", "Paid", "Purchase")
            .AddStep("signup", "Sign-ups", "trial", StepKind.OptIn, EventMatch.For(EventTypes.OptedIn))
            .AddStep("subscribe", "Subscribers", "paid", StepKind.Purchase, EventMatch.For(EventTypes.OrderPlaced))
            .Build();

        funnel.Stages[1].Label.ShouldBe("Purchase");
    }

    [Fact]
    public void Build_NoSteps_FailsNamingSteps()
    {
        ValidationException error = BuildFails(FunnelBuilder.Create("empty", "Empty").WithDefaultStages());

        error.Errors.ShouldContain(e => e.PropertyName == "Steps" && e.ErrorMessage.Contains("at least one step"));
    }

    [Fact]
    public void Build_NoStages_FailsNamingStagesAndTheUnknownStage()
    {
        ValidationException error = BuildFails(FunnelBuilder.Create("f", "F")
            .AddStep("visit", "Visitors", "awareness", StepKind.Content, EventMatch.For(EventTypes.PageViewed)));

        error.Errors.ShouldContain(e => e.PropertyName == "Stages");
        error.Errors.ShouldContain(e => e.PropertyName == "Steps[0].Stage" && e.ErrorMessage.Contains("'awareness'"));
    }

    [Fact]
    public void Build_DuplicateStepKey_FailsNamingTheSecondStep()
    {
        ValidationException error = BuildFails(Valid().AddStep("visit", "Again", "decision", StepKind.SalesPage, EventMatch.For(EventTypes.SalesPageVisited)));

        var failure = error.Errors.ShouldHaveSingleItem();
        failure.PropertyName.ShouldBe("Steps[2].Key");
        failure.ErrorMessage.ShouldContain("Duplicate step key 'visit'");
        failure.ErrorMessage.ShouldContain("Steps[0]");
    }

    [Fact]
    public void Build_DuplicateStageKey_FailsNamingTheStage()
    {
        ValidationException error = BuildFails(Valid().AddStage("interest", "Interest again"));

        error.Errors.ShouldHaveSingleItem().PropertyName.ShouldBe("Stages[5].Key");
    }

    [Fact]
    public void Build_SameDefaultStagesTwice_FailsAsDuplicates()
    {
        ValidationException error = BuildFails(Valid().WithDefaultStages());

        error.Errors.Count().ShouldBe(5);
        error.Errors.First().PropertyName.ShouldBe("Stages[5].Key");
    }

    [Fact]
    public void Build_UnknownStage_FailsNamingTheStepAndKnownStages()
    {
        ValidationException error = BuildFails(Valid().AddStep("buy", "Buyers", "purchase", StepKind.Purchase, EventMatch.For(EventTypes.OrderPlaced)));

        var failure = error.Errors.ShouldHaveSingleItem();
        failure.PropertyName.ShouldBe("Steps[2].Stage");
        failure.ErrorMessage.ShouldContain("'purchase'");
        failure.ErrorMessage.ShouldContain("'action'");
    }

    [Fact]
    public void Build_StepsOutOfStageOrder_FailsNamingTheStep()
    {
        ValidationException error = BuildFails(Valid().AddStep("blog", "Blog", "awareness", StepKind.Content, EventMatch.For(EventTypes.PageViewed)));

        var failure = error.Errors.ShouldHaveSingleItem();
        failure.PropertyName.ShouldBe("Steps[2].Stage");
        failure.ErrorMessage.ShouldContain("stage order");
    }

    [Theory]
    [InlineData("")]
    [InlineData("Has Space")]
    [InlineData("UPPER")]
    [InlineData("-leading-dash")]
    public void Build_InvalidKeys_FailWithTheKeyRule(string key)
    {
        ValidationException error = BuildFails(FunnelBuilder.Create(key, "Name")
            .AddStage(key, "Stage")
            .AddStep(key, "Step", key, StepKind.Custom, EventMatch.For("x")));

        error.Errors.Select(e => e.PropertyName).ShouldBe(["Id", "Stages[0].Key", "Steps[0].Key"], ignoreOrder: true);
        error.Errors.ShouldAllBe(e => e.ErrorMessage.Contains("lowercase"));
    }

    [Fact]
    public void Build_BlankNamesAndTrigger_FailNamingEachField()
    {
        ValidationException error = BuildFails(FunnelBuilder.Create("f", " ")
            .AddStage("s", "")
            .AddStep("a", "", "s", StepKind.Custom, EventMatch.For("")));

        error.Errors.Select(e => e.PropertyName).ShouldBe(["Name", "Stages[0].Name", "Steps[0].Name", "Steps[0].Trigger"], ignoreOrder: true);
    }

    [Fact]
    public void Validate_PlainObjectWithDefaultArrays_ReportsInsteadOfThrowing()
    {
        var funnel = new FunnelDefinition { Id = "f", Name = "F", Stages = default, Steps = default };

        var result = new FunnelDefinitionValidator().Validate(funnel);

        result.Errors.Select(e => e.PropertyName).ShouldBe(["Stages", "Steps"], ignoreOrder: true);
    }
}
