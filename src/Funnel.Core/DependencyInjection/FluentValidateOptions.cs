using FluentValidation;
using FluentValidation.Results;
using Microsoft.Extensions.Options;

namespace Funnel.DependencyInjection;

/// <summary>Runs a FluentValidation validator as an options validator, like <c>DataAnnotationValidateOptions</c>.</summary>
/// <typeparam name="TOptions">The options type.</typeparam>
internal sealed class FluentValidateOptions<TOptions>(IValidator<TOptions> validator) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        if (name is not null && name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        ArgumentNullException.ThrowIfNull(options);
        ValidationResult result = validator.Validate(options);
        return result.IsValid
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(result.Errors.Select(e => $"{typeof(TOptions).Name}.{e.PropertyName}: {e.ErrorMessage}"));
    }
}
