using FluentValidation;
using Funnel.Tax;

namespace Funnel.Payments.Stripe;

/// <summary>Options of the Stripe Tax calculator, set through <c>AddFunnelStripeTax</c>.</summary>
/// <remarks>Validated when the host starts; an invalid value throws <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> naming it.</remarks>
/// <threadsafety>Set while configuring services; read-only afterwards.</threadsafety>
public sealed class StripeTaxOptions
{
    /// <summary>Gets or sets whether the catalogue's prices include tax (tax is taken out of them) rather than having it added.</summary>
    /// <value>Defaults to <see langword="false"/>: US prices are shown before sales tax.</value>
    public bool PricesIncludeTax { get; set; }

    /// <summary>Gets the Stripe product tax code (<c>txcd_…</c>) of each tax category, such as an e-book code for <see cref="TaxCategory.EBook"/>.</summary>
    /// <value>Defaults to none: Stripe applies the account's preset product tax code (Dashboard, Tax settings).</value>
    public Dictionary<TaxCategory, string> TaxCodes { get; } = [];
}

/// <summary>Validates <see cref="StripeTaxOptions"/>, and that the Stripe adapter it calls through has an API key.</summary>
internal sealed class StripeTaxOptionsValidator : AbstractValidator<StripeTaxOptions>
{
    /// <param name="stripe">The Stripe adapter's options, or <see langword="null"/> when <c>AddFunnelStripe</c> was not called.</param>
    public StripeTaxOptionsValidator(FunnelStripeOptions? stripe)
    {
        RuleFor(o => o).Must(_ => !string.IsNullOrEmpty(stripe?.ApiKey)).WithName("ApiKey")
            .WithMessage("AddFunnelStripeTax calls Stripe with the Stripe adapter's key: call AddFunnelStripe(o => o.ApiKey = \"sk_…\") too.");
        RuleForEach(o => o.TaxCodes).Must(c => Enum.IsDefined(c.Key)).WithName("TaxCodes").WithMessage("'TaxCodes' names a tax category that does not exist.")
            .Must(c => c.Value is { Length: > 5 } code && code.StartsWith("txcd_", StringComparison.Ordinal) && !code.Any(char.IsWhiteSpace))
            .WithMessage(c => $"'TaxCodes[{c.TaxCodes.FirstOrDefault(p => p.Value is not { Length: > 5 } v || !v.StartsWith("txcd_", StringComparison.Ordinal) || v.Any(char.IsWhiteSpace)).Key}]' must be a Stripe product tax code (txcd_…).");
    }
}
