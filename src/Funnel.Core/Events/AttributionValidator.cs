using FluentValidation;

namespace Funnel.Events;

/// <summary>Validates an <see cref="Attribution"/> against <see cref="FieldLimits"/>; errors name the property, such as <c>Campaign</c>.</summary>
/// <remarks>
/// Each UTM value and the channel may hold at most <see cref="FieldLimits.AttributionValue"/> characters, the
/// referrer at most <see cref="FieldLimits.Url"/>; none may hold a control character (such as NUL). Lead capture runs
/// it on every opt-in; run it on attribution from any other untrusted source before recording events with it.
/// </remarks>
/// <threadsafety>Instances are stateless and safe to share between threads.</threadsafety>
public sealed class AttributionValidator : AbstractValidator<Attribution>
{
    /// <summary>Initializes the validator.</summary>
    public AttributionValidator()
    {
        Bounded(a => a.Channel, "channel", FieldLimits.AttributionValue);
        Bounded(a => a.Source, "utm_source", FieldLimits.AttributionValue);
        Bounded(a => a.Medium, "utm_medium", FieldLimits.AttributionValue);
        Bounded(a => a.Campaign, "utm_campaign", FieldLimits.AttributionValue);
        Bounded(a => a.Content, "utm_content", FieldLimits.AttributionValue);
        Bounded(a => a.Term, "utm_term", FieldLimits.AttributionValue);
        Bounded(a => a.Referrer, "referrer", FieldLimits.Url);
    }

    private void Bounded(System.Linq.Expressions.Expression<Func<Attribution, string?>> property, string label, int max) =>
        RuleFor(property)
            .Must(v => v is null || v.Length <= max)
            .WithMessage((_, v) => $"The {label} must be at most {max} characters, not {v!.Length}.")
            .Must(v => v is null || !TextRules.HasControl(v, allowLineBreaks: false))
            .WithMessage($"The {label} must not contain control characters such as NUL.");
}
