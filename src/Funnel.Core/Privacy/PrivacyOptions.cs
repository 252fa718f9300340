using FluentValidation;

namespace Funnel.Privacy;

/// <summary>Options of <see cref="LeadPrivacyService"/>.</summary>
/// <threadsafety>Set the options while configuring services; read them from any thread afterwards.</threadsafety>
public sealed class PrivacyOptions
{
    /// <summary>The fewest characters a <see cref="SuppressionKey"/> may have.</summary>
    public const int MinSuppressionKeyLength = 32;

    /// <summary>Gets or sets the secret key of the tombstones of erased email addresses.</summary>
    /// <remarks>
    /// An erased email address is replaced by <c>erased-&lt;HMAC-SHA256 of the address with this key&gt;@erased.invalid</c>,
    /// so <see cref="LeadPrivacyService.IsSuppressedAsync"/> can recognise the address later while the stores no
    /// longer hold it. Keep the key secret (anyone with it can test guessed addresses) and stable (a new key forgets
    /// which addresses were erased). At least <see cref="MinSuppressionKeyLength"/> characters, for example 32 random
    /// bytes in base64 from a secret store.
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>, which fails validation at start-up.</value>
    public string? SuppressionKey { get; set; }
}

/// <summary>Validates <see cref="PrivacyOptions"/>.</summary>
internal sealed class PrivacyOptionsValidator : AbstractValidator<PrivacyOptions>
{
    public PrivacyOptionsValidator()
    {
        RuleFor(o => o.SuppressionKey)
            .NotEmpty()
            .WithMessage("A suppression key is required: a secret of at least 32 characters, such as 32 random bytes in base64.")
            .MinimumLength(PrivacyOptions.MinSuppressionKeyLength)
            .WithMessage(o => $"The suppression key must be at least {PrivacyOptions.MinSuppressionKeyLength} characters, not {o.SuppressionKey!.Length}.");
    }
}
