using System.Collections.Immutable;
using Funnel.Offers;

namespace Funnel.Tax;

/// <summary>Calculates the tax of a quote: the seam between checkout and a tax engine.</summary>
/// <remarks>
/// <para>
/// <see cref="OrderService"/> calls it, when one is registered, for every checkout and one-click upsell, and applies the
/// result with <see cref="Quote.WithTax"/>. Funnel ships <see cref="VatCalculator"/> (EU and UK VAT from a
/// <see cref="VatRateTable"/>); another engine, such as a sales-tax service, implements this interface in an adapter
/// package.
/// </para>
/// <para>
/// The result has one <see cref="TaxLine"/> per quote line, in order. With prices that include tax each line's
/// <see cref="TaxLine.Gross"/> is the quote line's total; otherwise its <see cref="TaxLine.Net"/> is. When the place
/// of supply cannot be settled, return a breakdown whose <see cref="TaxBreakdown.PlaceOfSupply"/> says so, with no
/// lines, rather than throwing.
/// </para>
/// </remarks>
public interface ITaxCalculator
{
    /// <summary>Calculates the tax of each line of a quote for a buyer.</summary>
    /// <param name="request">The quote, the lines' categories and the buyer's details.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The breakdown.</returns>
    Task<TaxBreakdown> CalculateAsync(TaxRequest request, CancellationToken cancellationToken = default);
}

/// <summary>What the buyer tells the checkout for tax: the location evidence and, for a business, its VAT number.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record BuyerTaxDetails
{
    /// <summary>Gets the evidence of where the buyer lives.</summary>
    /// <value>Defaults to no evidence.</value>
    public LocationEvidence Evidence { get; init; } = new();

    /// <summary>Gets the VAT number a business buyer entered, with its country prefix, or <see langword="null"/> for a consumer.</summary>
    public string? VatNumber { get; init; }
}

/// <summary>A request to an <see cref="ITaxCalculator"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record TaxRequest
{
    /// <summary>Gets the quote before tax; its <see cref="Quote.PricedAt"/> is the time of supply.</summary>
    public required Quote Quote { get; init; }

    /// <summary>Gets the tax category of each quote line, in the same order.</summary>
    public required ImmutableArray<TaxCategory> Categories { get; init; }

    /// <summary>Gets the buyer's details.</summary>
    public required BuyerTaxDetails Buyer { get; init; }
}

/// <summary>The tax of one quote or order line.</summary>
/// <param name="Offer">The line's offer.</param>
/// <param name="Category">The line's tax category.</param>
/// <param name="Rate">The rate applied, in percent; 0 for a reverse charge or a sale outside the scope of the tax.</param>
/// <param name="Net">The amount before tax.</param>
/// <param name="Tax">The tax; never negative.</param>
/// <param name="Gross">The amount with tax: exactly <paramref name="Net"/> + <paramref name="Tax"/>.</param>
/// <param name="Note">What an invoice must say about a line without tax, such as the reverse-charge wording, or <see langword="null"/>.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct TaxLine(OfferId Offer, TaxCategory Category, decimal Rate, Money Net, Money Tax, Money Gross, string? Note = null);

/// <summary>The tax of a quote or order: where it is taxed, each line's tax and the totals.</summary>
/// <remarks>Recorded on the <see cref="Quote"/> and on the <see cref="Order"/> placed from it.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record TaxBreakdown
{
    /// <summary>Gets where the sale is taxed and the location evidence it was decided from.</summary>
    public required PlaceOfSupply PlaceOfSupply { get; init; }

    /// <summary>Gets whether the prices include tax (tax is taken out of them) rather than being added to them.</summary>
    public required bool PricesIncludeTax { get; init; }

    /// <summary>Gets how the tax was rounded.</summary>
    public required TaxRounding Rounding { get; init; }

    /// <summary>Gets the buyer's VAT number, normalised, when it was accepted for a business sale.</summary>
    public string? VatNumber { get; init; }

    /// <summary>Gets whether the buyer accounts for the tax (a cross-border sale to a business with a valid VAT number).</summary>
    public bool ReverseCharge { get; init; }

    /// <summary>Gets the tax of each line, in the order of the quote's lines; empty when the place of supply is not settled.</summary>
    public required ImmutableArray<TaxLine> Lines { get; init; }

    /// <summary>Gets the sum of the lines' net amounts.</summary>
    public required Money Net { get; init; }

    /// <summary>Gets the sum of the lines' tax.</summary>
    public required Money Tax { get; init; }

    /// <summary>Gets the sum of the lines' gross amounts: <see cref="Net"/> + <see cref="Tax"/>.</summary>
    public required Money Gross { get; init; }

    /// <summary>Gets the tax provider's id of the calculation this breakdown came from, such as Stripe Tax's <c>taxcalc_…</c>.</summary>
    /// <remarks>
    /// An adapter that records the sale with its provider once the order is paid (Stripe Tax's transactions) finds the
    /// calculation by it. Stored with the order; left out of the stored JSON when unset, so orders stored before it
    /// existed read unchanged.
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>: the tax was calculated locally (<see cref="VatCalculator"/>).</value>
    public string? ProviderCalculationId { get; init; }

    /// <summary>Gets whether the place of supply is settled, so the tax can be charged.</summary>
    public bool IsResolved => PlaceOfSupply.Status == PlaceOfSupplyStatus.Determined;
}

/// <summary>What an online check of a VAT number found.</summary>
public enum VatNumberVerificationStatus
{
    /// <summary>The tax authority confirms the number is registered.</summary>
    Confirmed = 0,

    /// <summary>The tax authority says the number is not registered.</summary>
    Rejected = 1,

    /// <summary>The service could not answer (down, or the member state's system is unavailable).</summary>
    Unavailable = 2,
}

/// <summary>The outcome of checking a VAT number online.</summary>
/// <param name="Status">What the check found.</param>
/// <param name="Reference">The service's consultation reference, kept as proof of the check, or <see langword="null"/>.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct VatNumberVerification(VatNumberVerificationStatus Status, string? Reference = null);

/// <summary>Checks a VAT number with the tax authority (such as the EU's VIES or HMRC): the seam to an online service.</summary>
/// <remarks>
/// Funnel's core does no network I/O, so it ships no implementation. When one is registered, <see cref="VatCalculator"/>
/// reverse-charges a business only when it answers <see cref="VatNumberVerificationStatus.Confirmed"/>; any other answer
/// taxes the sale as one to a consumer. Without one, a number that passes <see cref="VatNumbers.Check"/> is accepted.
/// </remarks>
public interface IVatNumberVerifier
{
    /// <summary>Checks that a VAT number is registered.</summary>
    /// <param name="number">A number that passed the offline check.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>What the tax authority says.</returns>
    Task<VatNumberVerification> VerifyAsync(VatNumberCheck number, CancellationToken cancellationToken = default);
}
