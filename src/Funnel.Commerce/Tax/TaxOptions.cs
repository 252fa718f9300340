using FluentValidation;

namespace Funnel.Tax;

/// <summary>How the seller charges tax: where it is established and whether its prices include tax.</summary>
/// <remarks>Validated when the host starts: <see cref="SellerCountry"/> must be a country of the registered <see cref="VatRateTable"/>.</remarks>
/// <threadsafety>Configure it while building services; read it only afterwards.</threadsafety>
public sealed class TaxOptions
{
    /// <summary>Gets or sets the ISO 3166-1 alpha-2 country where the seller is established, such as <c>DE</c>.</summary>
    /// <remarks>A business buyer in the same country is charged VAT; one in another country is reverse-charged.</remarks>
    /// <value>Required; defaults to empty, which fails validation.</value>
    public string SellerCountry { get; set; } = string.Empty;

    /// <summary>Gets or sets whether the catalogue's prices include tax (the buyer pays the price shown) rather than tax being added on top.</summary>
    /// <value>Defaults to <see langword="false"/>: tax is added to the prices.</value>
    public bool PricesIncludeTax { get; set; }
}

/// <summary>Validates <see cref="TaxOptions"/> against the rate table.</summary>
internal sealed class TaxOptionsValidator : AbstractValidator<TaxOptions>
{
    public TaxOptionsValidator(VatRateTable table)
    {
        RuleFor(o => o.SellerCountry)
            .NotEmpty()
            .Must(c => c is { Length: 2 } && char.IsAsciiLetterUpper(c[0]) && char.IsAsciiLetterUpper(c[1]) && table.Covers(c))
            .WithMessage(o => $"SellerCountry '{o.SellerCountry}' must be an upper-case country code of the VAT rate table ({string.Join(", ", table.Countries)}).");
    }
}
