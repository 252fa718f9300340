namespace Funnel.Tax;

/// <summary>Which VAT rate of the buyer's country a line is taxed at.</summary>
/// <remarks>
/// A line is <see cref="EBook"/> when every product its offer grants is a <see cref="Offers.ProductKind.EBook"/>;
/// any other line (a course, a bundle of a course and an e-book, a membership) is <see cref="Standard"/>.
/// </remarks>
public enum TaxCategory
{
    /// <summary>An electronically supplied service taxed at the country's standard rate.</summary>
    Standard = 0,

    /// <summary>An electronically supplied book, taxed at the country's e-book rate where it has one.</summary>
    EBook = 1,
}

/// <summary>How a jurisdiction rounds its tax to the minor unit.</summary>
/// <remarks>Both round half away from zero; see <see cref="VatRateTable.RoundingFor"/> for who uses which.</remarks>
public enum TaxRounding
{
    /// <summary>The tax of each rate is computed on the invoice's total at that rate, rounded once, then spread over the lines.</summary>
    PerInvoice = 0,

    /// <summary>The tax of each line is computed and rounded on its own; the invoice's tax is their sum.</summary>
    PerLine = 1,
}
