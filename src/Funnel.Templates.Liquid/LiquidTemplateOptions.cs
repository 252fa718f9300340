using FluentValidation;

namespace Funnel.Templates.Liquid;

/// <summary>The safety limits of the Liquid template renderer.</summary>
/// <threadsafety>Configure once at start-up; do not change afterwards.</threadsafety>
public sealed class LiquidTemplateOptions
{
    /// <summary>Gets or sets the most statements one render may execute, loop iterations included; more is an error.</summary>
    /// <value>Defaults to 10,000.</value>
    public int MaxSteps { get; set; } = 10_000;

    /// <summary>Gets or sets the longest output of one render, in characters; longer is an error.</summary>
    /// <value>Defaults to 1,000,000.</value>
    public int MaxOutputLength { get; set; } = 1_000_000;

    /// <summary>Gets or sets the longest template accepted, in characters; a longer one fails validation.</summary>
    /// <value>Defaults to 100,000.</value>
    public int MaxTemplateLength { get; set; } = 100_000;
}

/// <summary>Validates <see cref="LiquidTemplateOptions"/>.</summary>
internal sealed class LiquidTemplateOptionsValidator : AbstractValidator<LiquidTemplateOptions>
{
    public LiquidTemplateOptionsValidator()
    {
        RuleFor(o => o.MaxSteps).InclusiveBetween(100, 10_000_000);
        RuleFor(o => o.MaxOutputLength).InclusiveBetween(1_000, 100_000_000);
        RuleFor(o => o.MaxTemplateLength).InclusiveBetween(100, 10_000_000);
    }
}
