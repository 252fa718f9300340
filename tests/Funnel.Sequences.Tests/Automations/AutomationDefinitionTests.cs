using FluentValidation.Results;
using Funnel.Segments;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Tests.Automations;

/// <summary>Automations are data: validated with their sequence, with errors that name the step and the problem.</summary>
public sealed class AutomationDefinitionTests
{
    private static SequenceStep Email(string key) => new() { Key = key, Subject = "S", TextBody = "T" };

    private static SequenceStep Branch(string key, SequenceStep[] then, SequenceStep[] otherwise) =>
        new() { Key = key, If = new TagRule("x"), Then = [.. then], Else = [.. otherwise] };

    private static string[] Errors(params SequenceStep[] steps)
    {
        ValidationResult result = new SequenceDefinitionValidator().Validate(new SequenceDefinition { Key = "flow", Steps = [.. steps] });
        return [.. result.Errors.Select(e => e.ErrorMessage)];
    }

    [Fact]
    public void A_valid_tree_of_emails_actions_and_nested_branches_passes()
    {
        Errors(
            Email("a"),
            Branch("b", [Email("c"), Branch("d", [new SequenceStep { Key = "e", Action = new AddTag("t") }], [])], [new SequenceStep { Key = "f", Action = new AddScore(-5) }]),
            new SequenceStep { Key = "g", Delay = Period.FromDays(1), Action = new CallWebhook(new Uri("http://127.0.0.1:5000/h")) })
            .ShouldBeEmpty();
    }

    [Fact]
    public void Each_mistake_is_named_by_its_path()
    {
        string[] errors = Errors(
            new SequenceStep { Key = "a", Action = new AddTag("t"), Subject = "S" },
            new SequenceStep { Key = "b", If = new TagRule("x") },
            Branch("c", [Email("a")], []),
            new SequenceStep { Key = "d", Action = new CallWebhook(new Uri("http://crm.example.com/h")) },
            new SequenceStep { Key = "e", Action = new AddScore(double.NaN) },
            new SequenceStep { Key = "f", Action = new SetStage(Funnel.LifecycleStage.Visitor) },
            new SequenceStep { Key = "g", Action = new EnrolInSequence("Not A Key") },
            new SequenceStep { Key = "h", If = new AllRule([]), Then = [Email("i")] },
            new SequenceStep { Key = "j", Then = [Email("k")] },
            new SequenceStep { Key = "l", Action = new NotifySeller("Hi {{ first_name }}", "t") });

        errors.ShouldContain("'Steps[0]' is an action step: it sends no email to the lead, so it takes no Subject, TextBody, HtmlBody, Variants or WinnerTest.");
        errors.ShouldContain("'Steps[1]' is a branch with no steps in Then or Else: give at least one path a step.");
        errors.ShouldContain("'Steps[2].Then[0].Key' repeats the step key 'a'.");
        errors.ShouldContain("'Steps[3].Action.Url' must be an absolute https URL (http only for a loopback address).");
        errors.ShouldContain("'Steps[4].Action.Points' must be a finite number other than 0, at most 1,000,000 either way.");
        errors.ShouldContain("'Steps[5].Action.Stage' must be a defined stage from Lead on: a lead in a sequence is at least a lead.");
        errors.ShouldContain("'Steps[6].Action.Sequence' must be a sequence key: lower-case letters and digits in dash-separated words.");
        errors.ShouldContain(e => e.StartsWith("'Steps[7].If' is not a valid condition: rule", StringComparison.Ordinal));
        errors.ShouldContain("'Steps[8].Subject' is required.");
        errors.ShouldContain("'Steps[8]' is an email step: Then and Else are for a branch, which needs a condition (If or IfInSegment).");
        errors.ShouldContain(e => e.StartsWith("'Steps[9].Action.Subject' uses the field 'first_name'", StringComparison.Ordinal));
    }

    [Fact]
    public void Branches_nest_at_most_eight_deep()
    {
        SequenceStep step = Email("leaf");
        for (int depth = 9; depth >= 1; depth--)
        {
            step = Branch("b" + depth, [step], []);
        }

        Errors(step).ShouldContain("'Steps[0].Then[0].Then[0].Then[0].Then[0].Then[0].Then[0].Then[0].Then[0]' nests branches more than 8 deep.");
    }

    [Fact]
    public void AllSteps_walks_the_tree_depth_first_in_run_order_of_each_path()
    {
        SequenceDefinition definition = new()
        {
            Key = "flow",
            Steps = [Email("a"), Branch("b", [Email("c"), Branch("d", [Email("e")], [Email("f")])], [Email("g")]), Email("h")],
        };

        definition.AllSteps().Select(s => s.Key).ShouldBe(["a", "b", "c", "d", "e", "f", "g", "h"]);
    }
}
