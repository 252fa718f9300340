using FluentValidation;
using FluentValidation.Results;
using Microsoft.Extensions.Options;

namespace Funnel.DependencyInjection;

/// <summary>Runs a FluentValidation validator as an options validator, like <c>DataAnnotationValidateOptions</c>.</summary>
/// <remarks>
/// Register it with <c>services.TryAddEnumerable(ServiceDescriptor.Singleton&lt;IValidateOptions&lt;TOptions&gt;, FluentValidateOptions&lt;TOptions&gt;&gt;())</c>
/// next to an <see cref="IValidator{T}"/> for the options, and call <c>ValidateOnStart()</c> on the options builder: an
/// invalid value then stops the host at start-up with an <see cref="OptionsValidationException"/> whose failures read
/// <c>TypeName.Property: message</c>. The Funnel packages validate their own options this way; your own options can too.
/// Only the default (unnamed) options instance is validated.
/// </remarks>
/// <typeparam name="TOptions">The options type.</typeparam>
/// <param name="validator">The validator of the options.</param>
/// <threadsafety>Thread-safe when the validator is, as FluentValidation validators are.</threadsafety>
internal sealed class FluentValidateOptions<TOptions>(IValidator<TOptions> validator) : IValidateOptions<TOptions>
    where TOptions : class
{
    /// <summary>Validates the default options instance; other named instances are skipped.</summary>
    /// <param name="name">The name of the options instance.</param>
    /// <param name="options">The options.</param>
    /// <returns>Success, the failures as <c>TypeName.Property: message</c>, or skip for a named instance.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
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
