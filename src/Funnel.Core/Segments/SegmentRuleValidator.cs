using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using FluentValidation;
using NodaTime;

namespace Funnel.Segments;

/// <summary>A problem with a segment rule, at a path such as <c>rule.rules[2].within</c>.</summary>
/// <param name="Path">Where the problem is: <c>rule</c> is the root node, <c>rules[i]</c> a child of all/any, <c>rule</c> the child of not, then the property name.</param>
/// <param name="Message">What is wrong.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SegmentRuleError(string Path, string Message)
{
    /// <summary>Returns the error as <c>path: message</c>.</summary>
    /// <returns>The text form.</returns>
    public override string ToString() => Path + ": " + Message;
}

/// <summary>Thrown when a segment rule or its JSON is invalid; <see cref="Errors"/> names each bad node.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class SegmentRuleException : Exception
{
    /// <summary>Initializes the exception with the errors found.</summary>
    /// <param name="errors">The errors; the message lists them.</param>
    public SegmentRuleException(ImmutableArray<SegmentRuleError> errors)
        : base("Invalid segment rule: " + string.Join("; ", errors))
    {
        Errors = errors;
    }

    /// <summary>Initializes the exception with no errors (for serialisers).</summary>
    public SegmentRuleException()
        : this([])
    {
    }

    /// <summary>Initializes the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public SegmentRuleException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public SegmentRuleException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the errors, each with the path of the bad node.</summary>
    public ImmutableArray<SegmentRuleError> Errors { get; } = [];
}

/// <summary>A named segment: a stable key and a rule, such as <c>downloaded-not-visited-sales</c>.</summary>
/// <param name="Key">The stable key (see <see cref="Funnel.Key"/>), carried by <see cref="Leads.SegmentEntered"/> and <see cref="Leads.SegmentLeft"/>.</param>
/// <param name="Rule">The rule.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SegmentDefinition(string Key, SegmentRule Rule);

/// <summary>Validates segment rules and definitions, with errors that point to the bad node.</summary>
/// <remarks>
/// As a FluentValidation validator of <see cref="SegmentDefinition"/> it reports the key and, for the rule, one
/// failure per bad node whose property name is the node path, such as <c>rule.rules[2].within</c>.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed partial class SegmentRuleValidator : AbstractValidator<SegmentDefinition>
{
    /// <summary>The deepest nesting of rules allowed.</summary>
    public const int MaxDepth = 32;

    /// <summary>Gets the longest event window allowed: 36,525 days (100 years); leave the window out for all time.</summary>
    public static Duration MaxWindow { get; } = Duration.FromDays(36_525);

    /// <summary>Initializes the validator.</summary>
    public SegmentRuleValidator()
    {
        RuleFor(d => d.Key).Must(Funnel.Key.IsValid)
            .WithMessage(d => $"'{d.Key}' is not a valid key: use 1-100 lowercase letters, digits, '-', '_' or '.'.");
        RuleFor(d => d.Rule).Custom((rule, context) =>
        {
            foreach (SegmentRuleError error in Check(rule))
            {
                context.AddFailure(error.Path, error.Message);
            }
        });
    }

    /// <summary>Checks a rule tree.</summary>
    /// <param name="rule">The root rule.</param>
    /// <returns>The errors, empty when the rule is valid.</returns>
    public static ImmutableArray<SegmentRuleError> Check(SegmentRule? rule)
    {
        ImmutableArray<SegmentRuleError>.Builder errors = ImmutableArray.CreateBuilder<SegmentRuleError>();
        Check(rule, "rule", 1, errors);
        return errors.ToImmutable();
    }

    /// <summary>Throws when a rule tree is invalid.</summary>
    /// <param name="rule">The root rule.</param>
    /// <exception cref="SegmentRuleException">The rule is invalid.</exception>
    public static void ThrowIfInvalid(SegmentRule? rule)
    {
        ImmutableArray<SegmentRuleError> errors = Check(rule);
        if (!errors.IsEmpty)
        {
            throw new SegmentRuleException(errors);
        }
    }

    internal static bool IsEventType(string? type) => type is not null && EventTypePattern().IsMatch(type);

    internal static bool IsNumber(string? text) =>
        decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    private static void Check(SegmentRule? rule, string path, int depth, ImmutableArray<SegmentRuleError>.Builder errors)
    {
        void Error(string property, string message) => errors.Add(new(property.Length == 0 ? path : path + "." + property, message));
        void Window(Duration? within)
        {
            if (within is { } w && w <= Duration.Zero)
            {
                Error("within", $"{w} is not a valid window: it must be positive.");
            }
            else if (within > MaxWindow)
            {
                Error("within", $"{within} is not a valid window: it must be at most {MaxWindow.Days} days.");
            }
        }

        if (depth > MaxDepth)
        {
            Error(string.Empty, $"rules are nested deeper than {MaxDepth} levels.");
            return;
        }

        switch (rule)
        {
            case null:
                Error(string.Empty, "a rule is required.");
                break;
            case AllRule { Rules: var rules }:
                Children(rules, "all");
                break;
            case AnyRule { Rules: var rules }:
                Children(rules, "any");
                break;
            case NotRule not:
                Check(not.Rule, path + ".rule", depth + 1, errors);
                break;
            case EventRule e:
                if (!IsEventType(e.EventType))
                {
                    Error("event", $"'{e.EventType}' is not an event type: use snake_case, such as opted_in.");
                }

                if (e.Subject is { Length: 0 })
                {
                    Error("subject", "the subject must not be empty: leave it out to match any subject.");
                }

                if (e.AtLeast is < 1 or > 1_000_000)
                {
                    Error("atLeast", $"{e.AtLeast} is not a valid count: it must be 1 to 1000000.");
                }

                Window(e.Within);
                if (e.Properties is null)
                {
                    Error("properties", "the properties must not be null.");
                }
                else
                {
                    foreach (KeyValuePair<string, string> p in e.Properties)
                    {
                        if (string.IsNullOrEmpty(p.Key) || p.Value is null)
                        {
                            Error("properties", "a property filter needs a name and a value.");
                        }
                    }
                }

                break;
            case EmailRule email:
                if (string.IsNullOrEmpty(email.Email))
                {
                    Error("email", "the email key is required, such as nurture-3.");
                }

                if (!Enum.IsDefined(email.Action))
                {
                    Error("action", $"{(int)email.Action} is not an email action: use opened or clicked.");
                }

                Window(email.Within);
                break;
            case PageRule page:
                if (string.IsNullOrEmpty(page.Page))
                {
                    Error("page", "the page is required, such as /sales or /blog/*.");
                }

                Window(page.Within);
                break;
            case TagRule tag:
                if (string.IsNullOrEmpty(tag.Tag))
                {
                    Error("tag", "the tag is required.");
                }

                break;
            case FieldRule field:
                if (string.IsNullOrEmpty(field.Field))
                {
                    Error("field", "the field name is required.");
                }

                if (!Enum.IsDefined(field.Operator))
                {
                    Error("op", $"{(int)field.Operator} is not a field operator.");
                }
                else if (field.Operator != FieldOperator.Exists && field.Value is null)
                {
                    Error("value", "a value is required for this operator.");
                }
                else if (field.Operator >= FieldOperator.GreaterThan && !IsNumber(field.Value))
                {
                    Error("value", $"'{field.Value}' is not a number, which this operator compares with.");
                }

                break;
            case StageRule stage:
                if (stage.AtLeast is null && stage.AtMost is null)
                {
                    Error(string.Empty, "a stage rule needs atLeast, atMost or both.");
                }

                if (stage.AtLeast is { } least && !Enum.IsDefined(least))
                {
                    Error("atLeast", $"{(int)least} is not a lifecycle stage.");
                }

                if (stage.AtMost is { } most && !Enum.IsDefined(most))
                {
                    Error("atMost", $"{(int)most} is not a lifecycle stage.");
                }

                if (stage.AtLeast > stage.AtMost)
                {
                    Error("atMost", "atMost is earlier than atLeast, so no lead can match.");
                }

                break;
            case ScoreRule score:
                if (score.Min is null && score.Max is null)
                {
                    Error(string.Empty, "a score rule needs min, max or both.");
                }

                if (score.Min is { } min && !double.IsFinite(min))
                {
                    Error("min", "the minimum must be a finite number.");
                }

                if (score.Max is { } max && !double.IsFinite(max))
                {
                    Error("max", "the maximum must be a finite number.");
                }

                if (score.Min > score.Max)
                {
                    Error("max", "max is less than min, so no lead can match.");
                }

                break;
            case ConsentRule consent:
                if (!Enum.IsDefined(consent.Status))
                {
                    Error("status", $"{(int)consent.Status} is not a consent status.");
                }

                break;
            default:
                Error(string.Empty, $"{rule.GetType().Name} is not a known rule.");
                break;
        }

        void Children(ImmutableArray<SegmentRule> rules, string kind)
        {
            if (rules.IsDefaultOrEmpty)
            {
                Error("rules", $"an '{kind}' rule needs at least one rule.");
                return;
            }

            for (int i = 0; i < rules.Length; i++)
            {
                Check(rules[i], $"{path}.rules[{i}]", depth + 1, errors);
            }
        }
    }

    [GeneratedRegex("^[a-z]+(_[a-z]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex EventTypePattern();
}
