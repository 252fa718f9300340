using FluentValidation;

namespace Funnel.Definitions;

/// <summary>Validates a <see cref="FunnelDefinition"/>: keys, names, references and order.</summary>
/// <remarks>
/// Each error names the offending property path, such as <c>Steps[2].Stage</c>, and the problem. The rules:
/// the id and every stage and step key are valid keys (see <see cref="Key.IsValid"/>); names are not blank;
/// there is at least one stage and one step; stage keys and step keys are unique; every step names a stage of
/// the funnel; steps are listed in stage order; every trigger names an event type.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads; register one as a singleton.</threadsafety>
public sealed class FunnelDefinitionValidator : AbstractValidator<FunnelDefinition>
{
    private const string KeyRule = "use 1-100 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit.";

    /// <summary>Initializes the validator.</summary>
    public FunnelDefinitionValidator()
    {
        RuleFor(f => f.Id.Value).Must(Key.IsValid).OverridePropertyName(nameof(FunnelDefinition.Id))
            .WithMessage(f => $"'{f.Id}' is not a valid funnel id: {KeyRule}");
        RuleFor(f => f.Name).NotEmpty().WithMessage("The funnel needs a name.");
        RuleFor(f => f.Stages).Must(s => !s.IsDefaultOrEmpty)
            .WithMessage("A funnel needs at least one stage (for example FunnelBuilder.WithDefaultStages()).");
        RuleFor(f => f.Steps).Must(s => !s.IsDefaultOrEmpty)
            .WithMessage("A funnel needs at least one step: an empty funnel measures nothing.");
        RuleFor(f => f).Custom(ValidateStagesAndSteps);
    }

    private static void ValidateStagesAndSteps(FunnelDefinition funnel, ValidationContext<FunnelDefinition> context)
    {
        var stageIndex = new Dictionary<StageKey, int>();
        if (!funnel.Stages.IsDefault)
        {
            for (int i = 0; i < funnel.Stages.Length; i++)
            {
                string path = $"{nameof(FunnelDefinition.Stages)}[{i}]";
                StageDefinition? stage = funnel.Stages[i];
                if (stage is null)
                {
                    context.AddFailure(path, "A stage must not be null.");
                    continue;
                }

                if (!Key.IsValid(stage.Key.Value))
                {
                    context.AddFailure(path + ".Key", $"'{stage.Key}' is not a valid stage key: {KeyRule}");
                    _ = stage.Key.Value is not null && stageIndex.TryAdd(stage.Key, i); // steps may still refer to it
                }
                else if (!stageIndex.TryAdd(stage.Key, i))
                {
                    context.AddFailure(path + ".Key", $"Duplicate stage key '{stage.Key}': Stages[{stageIndex[stage.Key]}] uses it already.");
                }

                if (string.IsNullOrWhiteSpace(stage.Name))
                {
                    context.AddFailure(path + ".Name", $"Stage '{stage.Key}' needs a name.");
                }
            }
        }

        if (funnel.Steps.IsDefault)
        {
            return;
        }

        var stepIndex = new Dictionary<StepKey, int>();
        StepDefinition? previous = null;
        int previousStage = -1;
        for (int i = 0; i < funnel.Steps.Length; i++)
        {
            string path = $"{nameof(FunnelDefinition.Steps)}[{i}]";
            StepDefinition? step = funnel.Steps[i];
            if (step is null)
            {
                context.AddFailure(path, "A step must not be null.");
                continue;
            }

            if (!Key.IsValid(step.Key.Value))
            {
                context.AddFailure(path + ".Key", $"'{step.Key}' is not a valid step key: {KeyRule}");
            }
            else if (!stepIndex.TryAdd(step.Key, i))
            {
                context.AddFailure(path + ".Key", $"Duplicate step key '{step.Key}': Steps[{stepIndex[step.Key]}] uses it already.");
            }

            if (string.IsNullOrWhiteSpace(step.Name))
            {
                context.AddFailure(path + ".Name", $"Step '{step.Key}' needs a name.");
            }

            if (step.Stage.Value is null || !stageIndex.TryGetValue(step.Stage, out int current))
            {
                string known = string.Join(", ", stageIndex.Keys.Select(k => "'" + k + "'"));
                context.AddFailure(path + ".Stage", $"Step '{step.Key}' names stage '{step.Stage}', which the funnel does not define (stages: {known}).");
            }
            else
            {
                if (current < previousStage)
                {
                    context.AddFailure(path + ".Stage",
                        $"Step '{step.Key}' belongs to stage '{step.Stage}', which comes before stage '{previous!.Stage}' of the previous step '{previous.Key}': list steps in stage order.");
                }

                previous = step;
                previousStage = current;
            }

            if (step.Trigger is null || string.IsNullOrWhiteSpace(step.Trigger.EventType))
            {
                context.AddFailure(path + ".Trigger", $"Step '{step.Key}' needs a trigger with an event type (for example EventMatch.For(EventTypes.OptedIn)).");
            }
        }
    }
}
