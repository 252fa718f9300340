using FluentValidation;
using Funnel.Tax;

namespace Funnel.Invoices;

/// <summary>The seller named on invoices and the numbering series.</summary>
/// <remarks>
/// Validated when the host starts: the seller's name, address and country are required, the VAT number must pass the
/// offline check of <see cref="VatNumbers.Check"/>, and the two series must be distinct, non-empty and made of letters,
/// digits, <c>-</c> or <c>/</c>. The buyer's name and address come from the lead's custom fields named by
/// <see cref="BuyerNameField"/> and <see cref="BuyerAddressField"/> when the checkout stored them.
/// </remarks>
/// <threadsafety>Configure it while building services; read it only afterwards.</threadsafety>
public sealed class InvoiceOptions
{
    /// <summary>Gets or sets the seller's full legal name.</summary>
    /// <value>Required; defaults to empty, which fails validation.</value>
    public string SellerName { get; set; } = string.Empty;

    /// <summary>Gets the seller's address lines, in print order.</summary>
    /// <value>Required: at least one line.</value>
    public IList<string> SellerAddress { get; } = [];

    /// <summary>Gets or sets the ISO 3166-1 alpha-2 country where the seller is established, such as <c>DE</c>.</summary>
    /// <value>Required; defaults to empty, which fails validation.</value>
    public string SellerCountry { get; set; } = string.Empty;

    /// <summary>Gets or sets the seller's VAT identification number with its country prefix, such as <c>DE136695976</c>.</summary>
    /// <remarks>It also scopes the numbering: each seller's series run 1, 2, 3… on their own.</remarks>
    /// <value>Required; defaults to empty, which fails validation.</value>
    public string SellerVatNumber { get; set; } = string.Empty;

    /// <summary>Gets or sets the seller's contact email printed on invoices, or <see langword="null"/>.</summary>
    public string? SellerEmail { get; set; }

    /// <summary>Gets or sets the series of invoices.</summary>
    /// <value>Defaults to <c>INV</c>.</value>
    public string Series { get; set; } = "INV";

    /// <summary>Gets or sets the series of credit notes, numbered separately from invoices.</summary>
    /// <value>Defaults to <c>CN</c>.</value>
    public string CreditNoteSeries { get; set; } = "CN";

    /// <summary>Gets or sets the lead custom field that holds the buyer's name.</summary>
    /// <remarks>Without it (or when empty) the buyer is named by their email address.</remarks>
    /// <value>Defaults to <c>name</c>.</value>
    public string BuyerNameField { get; set; } = "name";

    /// <summary>Gets or sets the lead custom field that holds the buyer's address, lines separated by new lines.</summary>
    /// <value>Defaults to <c>address</c>.</value>
    public string BuyerAddressField { get; set; } = "address";
}

/// <summary>Validates <see cref="InvoiceOptions"/>.</summary>
internal sealed class InvoiceOptionsValidator : AbstractValidator<InvoiceOptions>
{
    public InvoiceOptionsValidator()
    {
        RuleFor(o => o.SellerName).NotEmpty().WithMessage("SellerName is required: the seller's full legal name.");
        RuleFor(o => o.SellerAddress)
            .Must(a => a.Count > 0 && a.All(l => !string.IsNullOrWhiteSpace(l)))
            .WithMessage("SellerAddress needs at least one line, none empty.");
        RuleFor(o => o.SellerCountry)
            .Must(c => c is { Length: 2 } && char.IsAsciiLetterUpper(c[0]) && char.IsAsciiLetterUpper(c[1]))
            .WithMessage(o => $"SellerCountry '{o.SellerCountry}' must be an upper-case ISO 3166-1 alpha-2 code such as DE.");
        RuleFor(o => o.SellerVatNumber)
            .Must(n => !string.IsNullOrWhiteSpace(n) && VatNumbers.Check(n).IsValid)
            .WithMessage(o => $"SellerVatNumber '{o.SellerVatNumber}' is not a valid VAT number with a country prefix, such as DE136695976.");
        RuleFor(o => o.Series).Must(IsSeries)
            .WithMessage(o => $"Series '{o.Series}' must be 1 to 16 letters, digits, '-' or '/'.");
        RuleFor(o => o.CreditNoteSeries).Must(IsSeries)
            .WithMessage(o => $"CreditNoteSeries '{o.CreditNoteSeries}' must be 1 to 16 letters, digits, '-' or '/'.");
        RuleFor(o => o.CreditNoteSeries).Must((o, s) => !string.Equals(s, o.Series, StringComparison.Ordinal))
            .WithMessage("CreditNoteSeries must differ from Series: credit notes are numbered in their own series.");
    }

    private static bool IsSeries(string? series) =>
        series is { Length: > 0 and <= 16 } && series.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '/');
}
