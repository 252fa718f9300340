using System.Collections.Immutable;
using System.Text.RegularExpressions;
using FluentValidation;
using Funnel.Email;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>Validates a <see cref="SequenceDefinition"/>; errors name the path, such as <c>Steps[2].Subject</c>, and the problem.</summary>
/// <remarks>
/// Checks keys, delays (negative only for anchored steps, which take no send time or days), calendar-day steps (a
/// day from 0 to 3,660 that does not decrease from one calendar-day step to the next, a send time and no
/// delay), send times outside the quiet hours, triggers and exit goals, and every template: a placeholder that is neither a built-in field nor
/// declared in <see cref="SequenceDefinition.Fields"/> is an error naming the step and the field. Automations are
/// checked as data too: a step is an email, an action or a branch, never two; branches have a valid condition and a
/// step in at least one path, nest at most 8 deep, and their steps are named by path (<c>Steps[1].Then[0]</c>); step
/// keys are unique across the tree; and each action's tag, points, stage, URL or sequence key is checked.
/// </remarks>
/// <threadsafety>Instances are safe to share between threads.</threadsafety>
public sealed partial class SequenceDefinitionValidator : AbstractValidator<SequenceDefinition>
{
    /// <summary>Gets the fields every template may use: <c>email</c>, <c>lead_id</c>, <c>stage</c>, <c>unsubscribe_url</c> and <c>tags</c>.</summary>
    public static ImmutableArray<string> BuiltInFields { get; } = ["email", "lead_id", "stage", "unsubscribe_url", "tags"];

    private const int MaxDay = 3660; // ten years: "day N" steps are a nurture, not a calendar.

    /// <summary>Initializes the rules with the built-in template renderer.</summary>
    public SequenceDefinitionValidator()
        : this(PlaceholderTemplateRenderer.Instance)
    {
    }

    /// <summary>Initializes the rules with the template renderer the engine uses.</summary>
    /// <param name="renderer">The renderer that reads the templates' fields.</param>
    /// <exception cref="ArgumentNullException"><paramref name="renderer"/> is <see langword="null"/>.</exception>
    public SequenceDefinitionValidator(ITemplateRenderer renderer)
    {
        ArgumentNullException.ThrowIfNull(renderer);
        RuleFor(d => d.Key).NotEmpty().Matches(KeyPattern()).WithMessage("'Key' must be lower-case letters and digits in dash-separated words, such as 'guide-nurture'.");
        RuleFor(d => d.Steps).Must(s => !s.IsDefaultOrEmpty).WithMessage("'Steps' must contain at least one step.");
        RuleFor(d => d.QuietHours).Must(q => q is null || q.Start != q.End).WithMessage("'QuietHours' must have different start and end times.");
        RuleFor(d => d.Fields).Must(f => f is not null && f.Keys.All(k => FieldPattern().IsMatch(k) && !BuiltInFields.Contains(k)))
            .WithMessage("'Fields' names must be lower-case letters, digits and '_', and must not repeat a built-in field.");
        RuleFor(d => d).Custom((d, context) => CheckMatches(d.Triggers, "Triggers", context));
        RuleFor(d => d).Custom((d, context) => CheckMatches(d.ExitGoals, "ExitGoals", context));
        RuleFor(d => d).Custom((d, context) =>
        {
            if (d.Steps.IsDefaultOrEmpty)
            {
                return;
            }

            int count = SequencePlan.SizeOf(d.Steps);
            if (count > MaxSteps)
            {
                context.AddFailure("Steps", $"'Steps' has {count} steps, branches included; at most {MaxSteps} are allowed.");
                return;
            }

            CheckSteps(renderer, d, d.Steps, "Steps", new HashSet<string>(StringComparer.Ordinal), depth: 0, context);
        });
    }

    /// <summary>The most steps in a sequence, branches' paths included.</summary>
    private const int MaxSteps = 200;

    /// <summary>How deep branches may nest.</summary>
    private const int MaxBranchDepth = 8;

    private static void CheckSteps(ITemplateRenderer renderer, SequenceDefinition d, ImmutableArray<SequenceStep> steps, string listPath, HashSet<string> keys, int depth, ValidationContext<SequenceDefinition> context)
    {
        int? lastDay = null;
        for (int i = 0; i < steps.Length; i++)
        {
            SequenceStep? step = steps[i];
            string path = $"{listPath}[{i}]";
            if (step is null)
            {
                context.AddFailure(path, $"'{path}' must not be null.");
                continue;
            }

            if (step.Key is null || !KeyPattern().IsMatch(step.Key))
            {
                context.AddFailure(path + ".Key", $"'{path}.Key' must be lower-case letters and digits in dash-separated words, such as 'nurture-3'.");
            }
            else if (!keys.Add(step.Key))
            {
                context.AddFailure(path + ".Key", $"'{path}.Key' repeats the step key '{step.Key}'.");
            }

            CheckTiming(d, step, path, context);
            if (step.Timing == StepTiming.OnDay)
            {
                if (lastDay is { } previous && step.Day < previous)
                {
                    context.AddFailure(path + ".Day", $"'{path}.Day' ({step.Day}) is before the previous calendar-day step's day ({previous}): calendar days must not decrease.");
                }

                lastDay = Math.Max(lastDay ?? 0, step.Day);
            }

            if (step.IsBranch)
            {
                CheckBranch(renderer, d, step, path, keys, depth, context);
            }
            else if (step.Action is { } action)
            {
                CheckAction(renderer, d, step, action, path, context);
            }
            else
            {
                CheckTemplate(renderer, d, step, step.Subject, path + ".Subject", required: true, context);
                CheckTemplate(renderer, d, step, step.TextBody, path + ".TextBody", required: true, context);
                CheckTemplate(renderer, d, step, step.HtmlBody, path + ".HtmlBody", required: false, context);
                CheckVariants(renderer, d, step, path, context);
                CheckWinnerTest(step, path, context);
                CheckNoPaths(step, path, "an email step", context);
            }
        }
    }

    private static void CheckBranch(ITemplateRenderer renderer, SequenceDefinition d, SequenceStep step, string path, HashSet<string> keys, int depth, ValidationContext<SequenceDefinition> context)
    {
        CheckNoEmail(step, path, "a branch", context);
        if (step.Action is not null)
        {
            context.AddFailure(path + ".Action", $"'{path}' is a branch (it has a condition), so it takes no Action: put the action in Then or Else.");
        }

        if (step.If is { } rule)
        {
            foreach (Segments.SegmentRuleError error in Segments.SegmentRuleValidator.Check(rule))
            {
                context.AddFailure(path + ".If", $"'{path}.If' is not a valid condition: {error}");
            }
        }

        if (step.IfInSegment is { } segment && !Funnel.Key.IsValid(segment))
        {
            context.AddFailure(path + ".IfInSegment", $"'{path}.IfInSegment' ('{segment}') is not a valid segment key.");
        }

        if (step.Then.IsDefault || step.Else.IsDefault)
        {
            context.AddFailure(path, $"'{path}.Then' and '{path}.Else' must not be default; use an empty array.");
            return;
        }

        if (step.Then.IsEmpty && step.Else.IsEmpty)
        {
            context.AddFailure(path, $"'{path}' is a branch with no steps in Then or Else: give at least one path a step.");
        }

        if (depth + 1 > MaxBranchDepth)
        {
            context.AddFailure(path, $"'{path}' nests branches more than {MaxBranchDepth} deep.");
            return;
        }

        CheckSteps(renderer, d, step.Then, path + ".Then", keys, depth + 1, context);
        CheckSteps(renderer, d, step.Else, path + ".Else", keys, depth + 1, context);
    }

    private static void CheckAction(ITemplateRenderer renderer, SequenceDefinition d, SequenceStep step, AutomationAction action, string path, ValidationContext<SequenceDefinition> context)
    {
        CheckNoEmail(step, path, "an action step", context);
        CheckNoPaths(step, path, "an action step", context);
        string at = path + ".Action";
        switch (action)
        {
            case AddTag { Tag: var tag }:
                CheckTag(tag, at + ".Tag", context);
                break;
            case RemoveTag { Tag: var tag }:
                CheckTag(tag, at + ".Tag", context);
                break;
            case AddScore { Points: var points }:
                if (!double.IsFinite(points) || points == 0 || Math.Abs(points) > 1_000_000)
                {
                    context.AddFailure(at + ".Points", $"'{at}.Points' must be a finite number other than 0, at most 1,000,000 either way.");
                }

                break;
            case SetStage { Stage: var stage }:
                if (!Enum.IsDefined(stage) || stage < LifecycleStage.Lead)
                {
                    context.AddFailure(at + ".Stage", $"'{at}.Stage' must be a defined stage from Lead on: a lead in a sequence is at least a lead.");
                }

                break;
            case NotifySeller notify:
                CheckTemplate(renderer, d, step, notify.Subject, at + ".Subject", required: true, context);
                CheckTemplate(renderer, d, step, notify.TextBody, at + ".TextBody", required: true, context);
                break;
            case CallWebhook { Url: var url }:
                if (url is null || !url.IsAbsoluteUri || !(url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp && url.IsLoopback))
                {
                    context.AddFailure(at + ".Url", $"'{at}.Url' must be an absolute https URL (http only for a loopback address).");
                }

                break;
            case EnrolInSequence { Sequence: var target }:
                CheckSequenceKey(target, at + ".Sequence", context);
                break;
            case ExitSequence { Sequence: var target }:
                CheckSequenceKey(target, at + ".Sequence", context);
                break;
        }
    }

    private static void CheckTag(string? tag, string path, ValidationContext<SequenceDefinition> context)
    {
        if (string.IsNullOrWhiteSpace(tag) || tag.Length > MaxTagLength || tag.Any(char.IsControl))
        {
            context.AddFailure(path, $"'{path}' must be 1 to {MaxTagLength} characters with no control characters.");
        }
    }

    private const int MaxTagLength = 64;

    private static void CheckSequenceKey(string? key, string path, ValidationContext<SequenceDefinition> context)
    {
        if (key is null || !KeyPattern().IsMatch(key))
        {
            context.AddFailure(path, $"'{path}' must be a sequence key: lower-case letters and digits in dash-separated words.");
        }
    }

    private static void CheckNoEmail(SequenceStep step, string path, string what, ValidationContext<SequenceDefinition> context)
    {
        if (step.Subject is not null || step.TextBody is not null || step.HtmlBody is not null || !step.Variants.IsDefaultOrEmpty || step.WinnerTest is not null)
        {
            context.AddFailure(path, $"'{path}' is {what}: it sends no email to the lead, so it takes no Subject, TextBody, HtmlBody, Variants or WinnerTest.");
        }
    }

    private static void CheckNoPaths(SequenceStep step, string path, string what, ValidationContext<SequenceDefinition> context)
    {
        if (!step.Then.IsDefaultOrEmpty || !step.Else.IsDefaultOrEmpty)
        {
            context.AddFailure(path, $"'{path}' is {what}: Then and Else are for a branch, which needs a condition (If or IfInSegment).");
        }
    }

    private static void CheckTiming(SequenceDefinition d, SequenceStep step, string path, ValidationContext<SequenceDefinition> context)
    {
        if (!Enum.IsDefined(step.Timing))
        {
            context.AddFailure(path + ".Timing", $"'{path}.Timing' is not a defined timing.");
            return;
        }

        if (step.Delay is null)
        {
            context.AddFailure(path + ".Delay", $"'{path}.Delay' is required; use Period.Zero.");
        }
        else if (step.Timing == StepTiming.RelativeToAnchor)
        {
            if (step.Delay.HasDateComponent)
            {
                context.AddFailure(path + ".Delay", $"'{path}.Delay' must use hours, minutes or seconds only: an anchored step is an exact time before or after the anchor.");
            }

            if (step.SendAt is not null || !step.Days.IsDefaultOrEmpty)
            {
                context.AddFailure(path + ".SendAt", $"'{path}' is anchored: it is sent at the exact instant, so it takes no SendAt or Days.");
            }
        }

        if (step.Timing == StepTiming.OnDay)
        {
            if (step.Day is < 0 or > MaxDay)
            {
                context.AddFailure(path + ".Day", $"'{path}.Day' must be from 0 (the enrolment's local date) to {MaxDay}.");
            }

            if (step.SendAt is null)
            {
                context.AddFailure(path + ".SendAt", $"'{path}' is a calendar-day step: it needs a SendAt, such as 09:00.");
            }

            if (step.Delay is not null && !step.Delay.Equals(Period.Zero))
            {
                context.AddFailure(path + ".Delay", $"'{path}.Delay' must be zero: a calendar-day step is timed by its Day and SendAt.");
            }
        }
        else if (step.Day != 0)
        {
            context.AddFailure(path + ".Day", $"'{path}.Day' is only for calendar-day steps (Timing = OnDay); leave it 0.");
        }

        if (step.Delay is { } longDelay && ApproximateDays(longDelay) > MaxDay)
        {
            context.AddFailure(path + ".Delay", $"'{path}.Delay' must be at most {MaxDay} days (ten years) either way: a sequence step is a nurture, not a calendar.");
        }

        if (step.Timing != StepTiming.RelativeToAnchor && step.Delay is { } delay && HasNegativePart(delay))
        {
            context.AddFailure(path + ".Delay", $"'{path}.Delay' must not be negative: a step is never sent before the event that caused it (only anchored steps count backwards).");
        }

        if (step.SendAt is { } at && d.QuietHours is { } quiet && quiet.Contains(at))
        {
            context.AddFailure(path + ".SendAt", $"'{path}.SendAt' ({at:HH:mm}) is inside the quiet hours ({quiet.Start:HH:mm}–{quiet.End:HH:mm}).");
        }

        if (!step.Days.IsDefault && step.Days.Any(day => day is < IsoDayOfWeek.Monday or > IsoDayOfWeek.Sunday))
        {
            context.AddFailure(path + ".Days", $"'{path}.Days' contains a day that is not Monday to Sunday.");
        }
    }

    /// <summary>The size of a period in days, in doubles so that no unit can overflow (a month counts 31 days, a year 366).</summary>
    private static double ApproximateDays(Period p) =>
        Math.Abs((double)p.Years) * 366 + Math.Abs((double)p.Months) * 31 + Math.Abs((double)p.Weeks) * 7 + Math.Abs((double)p.Days)
        + Math.Abs((double)p.Hours) / 24 + Math.Abs((double)p.Minutes) / 1440 + Math.Abs((double)p.Seconds) / 86_400
        + Math.Abs((double)p.Milliseconds) / 86_400_000 + Math.Abs((double)p.Ticks) / 864_000_000_000
        + Math.Abs((double)p.Nanoseconds) / 86_400_000_000_000;

    private static bool HasNegativePart(Period p) =>
        p.Years < 0 || p.Months < 0 || p.Weeks < 0 || p.Days < 0 || p.Hours < 0 || p.Minutes < 0 || p.Seconds < 0
        || p.Milliseconds < 0 || p.Ticks < 0 || p.Nanoseconds < 0;

    private static void CheckTemplate(ITemplateRenderer renderer, SequenceDefinition d, SequenceStep step, string? template, string path, bool required, ValidationContext<SequenceDefinition> context)
    {
        if (template is null)
        {
            if (required)
            {
                context.AddFailure(path, $"'{path}' is required.");
            }

            return;
        }

        if (required && string.IsNullOrWhiteSpace(template))
        {
            context.AddFailure(path, $"'{path}' must not be empty.");
            return;
        }

        ImmutableArray<string> fields;
        try
        {
            fields = renderer.GetFields(template);
        }
        catch (FormatException e)
        {
            context.AddFailure(path, $"'{path}' (step '{step.Key}') is not a valid template: {e.Message}");
            return;
        }

        foreach (string field in fields)
        {
            if (!BuiltInFields.Contains(field) && (d.Fields is null || !d.Fields.ContainsKey(field)))
            {
                context.AddFailure(path, $"'{path}' uses the field '{field}', which the lead profile cannot supply: use a built-in field ({string.Join(", ", BuiltInFields)}) or declare it in Fields.");
            }
        }
    }

    private static void CheckVariants(ITemplateRenderer renderer, SequenceDefinition d, SequenceStep step, string path, ValidationContext<SequenceDefinition> context)
    {
        if (step.Variants.IsDefault)
        {
            context.AddFailure(path + ".Variants", $"'{path}.Variants' must not be default; use an empty array.");
            return;
        }

        if (step.Variants.IsEmpty)
        {
            return;
        }

        if (step.Variants.Length > EmailVariants.MaxVariants)
        {
            context.AddFailure(path + ".Variants", $"'{path}.Variants' has {step.Variants.Length} variants; at most {EmailVariants.MaxVariants} are allowed.");
        }

        HashSet<string> keys = new(StringComparer.Ordinal);
        for (int i = 0; i < step.Variants.Length; i++)
        {
            EmailVariant? variant = step.Variants[i];
            string at = $"{path}.Variants[{i}]";
            if (variant is null)
            {
                context.AddFailure(at, $"'{at}' must not be null.");
                continue;
            }

            if (variant.Key is null || !KeyPattern().IsMatch(variant.Key))
            {
                context.AddFailure(at + ".Key", $"'{at}.Key' must be lower-case letters and digits in dash-separated words, such as 'short-subject'.");
            }
            else if (!keys.Add(variant.Key))
            {
                context.AddFailure(at + ".Key", $"'{at}.Key' repeats the variant key '{variant.Key}'.");
            }

            if (variant.Weight is < 1 or > EmailVariants.MaxWeight)
            {
                context.AddFailure(at + ".Weight", $"'{at}.Weight' must be from 1 to {EmailVariants.MaxWeight}.");
            }

            if (variant.Key != EmailVariant.ControlKey && variant.Subject is null && variant.TextBody is null && variant.HtmlBody is null)
            {
                context.AddFailure(at, $"'{at}' overrides nothing: set its Subject, TextBody or HtmlBody, or remove it.");
            }

            CheckTemplate(renderer, d, step, variant.Subject, at + ".Subject", required: false, context);
            CheckTemplate(renderer, d, step, variant.TextBody, at + ".TextBody", required: false, context);
            CheckTemplate(renderer, d, step, variant.HtmlBody, at + ".HtmlBody", required: false, context);
            foreach ((string? text, string name) in new[] { (variant.Subject, "Subject"), (variant.TextBody, "TextBody") })
            {
                if (text is not null && string.IsNullOrWhiteSpace(text))
                {
                    context.AddFailure($"{at}.{name}", $"'{at}.{name}' must not be empty; leave it null to use the step's.");
                }
            }
        }

        if (!keys.Contains(EmailVariant.ControlKey))
        {
            context.AddFailure(path + ".Variants", $"'{path}.Variants' must include the control, a variant keyed '{EmailVariant.ControlKey}'.");
        }
    }

    private static void CheckWinnerTest(SequenceStep step, string path, ValidationContext<SequenceDefinition> context)
    {
        if (step.WinnerTest is not { } test)
        {
            return;
        }

        string at = path + ".WinnerTest";
        if (step.Variants.IsDefaultOrEmpty)
        {
            context.AddFailure(at, $"'{at}' needs Variants: a control and at least one challenger.");
        }

        if (test.Wait < StepWinnerTest.MinWait || test.Wait > StepWinnerTest.MaxWait)
        {
            context.AddFailure(at + ".Wait", $"'{at}.Wait' must be from 1 hour to 30 days.");
        }

        if (!Enum.IsDefined(test.Metric))
        {
            context.AddFailure(at + ".Metric", $"'{at}.Metric' is not a defined metric.");
        }

        if (test.MinimumSamplePerVariant < 1)
        {
            context.AddFailure(at + ".MinimumSamplePerVariant", $"'{at}.MinimumSamplePerVariant' must be at least 1.");
        }
    }

    private static void CheckMatches(ImmutableArray<Definitions.EventMatch> matches, string name, ValidationContext<SequenceDefinition> context)
    {
        if (matches.IsDefault)
        {
            context.AddFailure(name, $"'{name}' must not be default; use an empty array.");
            return;
        }

        for (int i = 0; i < matches.Length; i++)
        {
            if (matches[i] is null || string.IsNullOrWhiteSpace(matches[i].EventType))
            {
                context.AddFailure($"{name}[{i}].EventType", $"'{name}[{i}].EventType' is required.");
            }
        }
    }

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();

    [GeneratedRegex("^[a-z][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex FieldPattern();
}
