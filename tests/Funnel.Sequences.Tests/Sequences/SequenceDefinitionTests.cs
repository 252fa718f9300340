using System.Collections.Immutable;
using FluentValidation.Results;
using Funnel.Definitions;
using Funnel.Email;
using Funnel.Events;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Tests.Sequences;

public class SequenceDefinitionTests
{
    private static SequenceStep Step(string key = "s-1") => new() { Key = key, Subject = "Hello {{ first_name }}", TextBody = "Body for {{ email }}" };

    private static SequenceDefinition Definition(params SequenceStep[] steps) => new()
    {
        Key = "nurture",
        Steps = [.. steps],
        Fields = ImmutableDictionary<string, string>.Empty.Add("first_name", "there"),
    };

    [Fact]
    public void Validate_GuideSequences_AreValid()
    {
        SequenceDefinitionValidator validator = new();

        GuideSequences.All.ShouldAllBe(d => validator.Validate(d).IsValid);
        GuideSequences.Nurture.Steps.Length.ShouldBe(7);
        GuideSequences.Welcome.Steps.Length.ShouldBe(5);
    }

    [Fact]
    public void CartRecovery_IsValidEnrolledByTheAbandonmentAndExitedByTheOrderOfTheOffer()
    {
        SequenceDefinition recovery = GuideSequences.CartRecovery;

        new SequenceDefinitionValidator().Validate(recovery).IsValid.ShouldBeTrue();
        recovery.Triggers.ShouldBe([EventMatch.For(EventTypes.CheckoutAbandoned, GuideSequences.Offer)]);
        recovery.ExitGoals.ShouldBe([EventMatch.For(EventTypes.OrderPlaced, GuideSequences.Offer)]);
        recovery.ReEntry.ShouldBe(ReEntryPolicy.AfterEnded);
        recovery.Steps.Select(s => (s.Key, s.Timing, s.Delay)).ShouldBe(
        [
            ("cart-recovery-1", StepTiming.AfterEnrolment, Period.Zero),
            ("cart-recovery-2", StepTiming.AfterEnrolment, Period.FromHours(24)),
            ("cart-recovery-3", StepTiming.AfterEnrolment, Period.FromHours(72)),
        ]);
        recovery.Steps.ShouldAllBe(s => s.TextBody!.Contains("{{ checkout_url }}") && s.TextBody.Contains("{{ unsubscribe_url }}"));
        GuideSequences.All.ShouldNotContain(recovery, "All keeps the four sequences the sample registers");
    }

    [Fact]
    public void Validate_TemplateWithAnUnknownField_NamesTheStepAndTheField()
    {
        SequenceDefinition definition = Definition(Step(), Step("s-2") with { HtmlBody = "<p>{{ frist_name }}</p>" });

        ValidationResult result = new SequenceDefinitionValidator().Validate(definition);

        ValidationFailure error = result.Errors.ShouldHaveSingleItem();
        error.PropertyName.ShouldBe("Steps[1].HtmlBody");
        error.ErrorMessage.ShouldContain("'frist_name'");
    }

    [Fact]
    public void Validate_MalformedPlaceholder_IsAnError()
    {
        ValidationResult result = new SequenceDefinitionValidator().Validate(Definition(Step() with { Subject = "Hi {{ First Name }}" }));

        result.Errors.ShouldHaveSingleItem().PropertyName.ShouldBe("Steps[0].Subject");
    }

    [Fact]
    public void Validate_NegativeDelayOnANonAnchoredStep_IsAnError()
    {
        ValidationResult result = new SequenceDefinitionValidator().Validate(Definition(Step() with { Delay = Period.FromHours(-1) }));

        result.Errors.ShouldHaveSingleItem().PropertyName.ShouldBe("Steps[0].Delay");
    }

    [Theory]
    [InlineData(20_000, 0)]
    [InlineData(0, int.MaxValue)]
    [InlineData(-20_000, 0)]
    public void Validate_DelayBeyondTenYears_IsAnErrorInsteadOfAnOverflowWhenScheduling(int years, int hours)
    {
        Period delay = Period.FromYears(years) + Period.FromHours(hours);

        ValidationResult result = new SequenceDefinitionValidator().Validate(Definition(Step() with { Delay = delay }));

        result.Errors.ShouldContain(e => e.PropertyName == "Steps[0].Delay" && e.ErrorMessage.Contains("at most 3660 days", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_DelayOfTenYears_IsValid() =>
        new SequenceDefinitionValidator().Validate(Definition(Step() with { Delay = Period.FromDays(3650) })).IsValid.ShouldBeTrue();

    [Fact]
    public void Validate_AnchoredStepWithASendTimeOrDays_IsAnError()
    {
        SequenceStep anchored = Step() with { Timing = StepTiming.RelativeToAnchor, Delay = Period.FromDays(-1), SendAt = new LocalTime(9, 0) };

        ValidationResult result = new SequenceDefinitionValidator().Validate(Definition(anchored));

        result.Errors.Select(e => e.PropertyName).ShouldBe(["Steps[0].Delay", "Steps[0].SendAt"]);
    }

    [Fact]
    public void Validate_SendTimeInsideQuietHoursAndRepeatedStepKeys_AreErrors()
    {
        SequenceDefinition definition = Definition(Step() with { SendAt = new LocalTime(23, 0) }, Step()) with { QuietHours = new QuietHours(new LocalTime(21, 0), new LocalTime(8, 0)) };

        ValidationResult result = new SequenceDefinitionValidator().Validate(definition);

        result.Errors.Select(e => e.PropertyName).ShouldBe(["Steps[0].SendAt", "Steps[1].Key"]);
    }

    [Fact]
    public void Validate_NoStepsAndABadKey_AreErrors()
    {
        ValidationResult result = new SequenceDefinitionValidator().Validate(new SequenceDefinition { Key = "Bad Key", Steps = [] });

        result.Errors.Select(e => e.PropertyName).ShouldBe(["Key", "Steps"]);
    }

    [Fact]
    public void Engine_InvalidDefinition_ThrowsNamingTheSequence()
    {
        SequenceWorld world = new();

        ArgumentException error = Should.Throw<ArgumentException>(() => world.Engine(new RecordingSender(world.Clock), [Definition(Step() with { TextBody = "{{ nope }}" })]));

        error.Message.ShouldContain("Sequence 'nurture'");
        error.Message.ShouldContain("'nope'");
    }

    [Fact]
    public void Engine_FromThatIsNotAMailbox_ThrowsNamingTheOption()
    {
        SequenceWorld world = new();

        ArgumentException error = Should.Throw<ArgumentException>(() => world.Engine(new RecordingSender(world.Clock), [GuideSequences.Nurture], new SequenceOptions { From = "Jane <jane@" }));

        error.Message.ShouldContain("'From' must be a mailbox");
        world.Engine(new RecordingSender(world.Clock), [GuideSequences.Nurture], new SequenceOptions { From = "Jane <jane@example.com>" }).ShouldNotBeNull();
    }

    [Fact]
    public void Render_HtmlBody_EncodesValuesButNotTheTemplate()
    {
        string html = PlaceholderTemplateRenderer.Instance.Render("<b>{{ name }}</b>", new TemplateModel { Fields = new Dictionary<string, string> { ["name"] = "<script>&" } }, html: true);

        html.ShouldBe("<b>&lt;script&gt;&amp;</b>");
    }

    [Fact]
    public void GetFields_Template_ListsEachFieldOnceInOrder()
    {
        PlaceholderTemplateRenderer.Instance.GetFields("{{a}} {{ b_2 }} {{a}}").ShouldBe(["a", "b_2"]);
        Should.Throw<FormatException>(() => PlaceholderTemplateRenderer.Instance.GetFields("{{ a "));
    }
}
