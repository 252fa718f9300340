using System.Collections.Immutable;
using System.Runtime.InteropServices;
using FluentValidation;
using Funnel.Offers;
using NodaTime;

namespace Funnel.Tax;

/// <summary>Calculates EU and UK VAT on digital sales from a <see cref="VatRateTable"/>: the <see cref="ITaxCalculator"/> Funnel ships.</summary>
/// <remarks>
/// <para>
/// The rules, in order. A buyer who gives a VAT number that passes <see cref="VatNumbers.Check"/> (and, when an
/// <see cref="IVatNumberVerifier"/> is given, that it confirms) is a business, taxed where the number says it is
/// established. Anyone else is a consumer, taxed where <see cref="PlaceOfSupply.Determine"/> puts them; when the
/// evidence conflicts or is missing the breakdown says so and has no lines. A business in another country than the
/// seller (<see cref="TaxOptions.SellerCountry"/>) is reverse-charged: rate 0 with the reverse-charge wording on each
/// line. A buyer in a country the table does not cover is outside the scope of EU and UK VAT: rate 0. Otherwise each
/// line is taxed at the rate of the place of supply for its <see cref="TaxCategory"/> in force on the UTC date of
/// <see cref="Quote.PricedAt"/>, rounded as <see cref="VatRateTable.RoundingFor"/> says for that country.
/// </para>
/// <para>
/// With <see cref="TaxOptions.PricesIncludeTax"/> the tax is taken out of each line's total (gross = total, net =
/// gross − tax); otherwise it is added (net = total, gross = net + tax). Either way gross = net + tax exactly, and no
/// amount is negative.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class VatCalculator : ITaxCalculator
{
    /// <summary>The note on a reverse-charged line for a buyer in the EU.</summary>
    public const string ReverseChargeNote = "Reverse charge: VAT to be accounted for by the customer (Article 196, Council Directive 2006/112/EC).";

    /// <summary>The note on a reverse-charged line for a buyer in the UK.</summary>
    public const string UkReverseChargeNote = "Reverse charge: customer to account for the VAT to HMRC.";

    /// <summary>The note on a line sold to a buyer outside the EU and the UK.</summary>
    public const string OutsideScopeNote = "Outside the scope of EU and UK VAT.";

    private readonly VatRateTable table;
    private readonly TaxOptions options;
    private readonly IVatNumberVerifier? verifier;

    /// <summary>Initializes the calculator.</summary>
    /// <param name="table">The rates.</param>
    /// <param name="options">The seller's country and whether prices include tax.</param>
    /// <param name="verifier">Checks VAT numbers online, or <see langword="null"/> to accept any number that passes the offline check.</param>
    /// <exception cref="ArgumentNullException"><paramref name="table"/> or <paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException"><paramref name="options"/> is not valid for the table; the message names the property.</exception>
    public VatCalculator(VatRateTable table, TaxOptions options, IVatNumberVerifier? verifier = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(options);
        new TaxOptionsValidator(table).ValidateAndThrow(options);
        this.table = table;
        this.options = new TaxOptions { SellerCountry = options.SellerCountry, PricesIncludeTax = options.PricesIncludeTax };
        this.verifier = verifier;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The request has not one category per quote line, or a piece of location evidence is not a country code.</exception>
    /// <exception cref="InvalidOperationException">The table covers the place of supply but has no rate in force on the date of supply.</exception>
    public async Task<TaxBreakdown> CalculateAsync(TaxRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        Quote quote = request.Quote;
        ImmutableArray<TaxCategory> categories = request.Categories;
        if (categories.IsDefault || categories.Length != quote.Lines.Length)
        {
            throw new ArgumentException(
                $"Categories: the request has {(categories.IsDefault ? 0 : categories.Length)} categories for {quote.Lines.Length} quote lines.", nameof(request));
        }

        BuyerTaxDetails buyer = request.Buyer ?? new BuyerTaxDetails();
        string? vatNumber = null;
        PlaceOfSupply? place = null;
        if (!string.IsNullOrWhiteSpace(buyer.VatNumber))
        {
            VatNumberCheck check = VatNumbers.Check(buyer.VatNumber);
            if (check.IsValid && (verifier is null
                || (await verifier.VerifyAsync(check, cancellationToken).ConfigureAwait(false)).Status == VatNumberVerificationStatus.Confirmed))
            {
                vatNumber = check.Normalized;
                place = PlaceOfSupply.ForBusiness(check.Country!, buyer.Evidence);
            }
        }

        place ??= PlaceOfSupply.Determine(buyer.Evidence);
        bool inclusive = options.PricesIncludeTax;
        Money zero = Money.Zero(quote.Currency);
        if (place.Status != PlaceOfSupplyStatus.Determined)
        {
            return new TaxBreakdown
            {
                PlaceOfSupply = place, PricesIncludeTax = inclusive, Rounding = TaxRounding.PerInvoice, Lines = [], Net = zero, Tax = zero, Gross = zero,
            };
        }

        string country = place.Country!;
        RatesOnDate? rates = table.Resolve(country, quote.PricedAt);
        bool covered = rates is not null;
        bool reverse = covered && vatNumber is not null && country != options.SellerCountry;
        string? note = !covered ? OutsideScopeNote : reverse ? (country == "GB" ? UkReverseChargeNote : ReverseChargeNote) : null;
        int n = quote.Lines.Length;
        Span<long> amounts = n <= 64 ? stackalloc long[n] : new long[n];
        Span<long> scaled = n <= 64 ? stackalloc long[n] : new long[n];
        Span<long> taxes = n <= 64 ? stackalloc long[n] : new long[n];
        for (int i = 0; i < n; i++)
        {
            amounts[i] = quote.Lines[i].Total.MinorUnits;
            if (note is null)
            {
                bool eBook = categories[i] == TaxCategory.EBook;
                _ = (eBook ? rates!.EBook : rates!.Standard)
                    ?? throw new InvalidOperationException($"The VAT rate table has no rate for {country} on {rates.Date:yyyy-MM-dd}.");
                scaled[i] = eBook ? rates.EBookScaled : rates.StandardScaled;
            }
        }

        TaxRounding rounding = rates?.Rounding ?? TaxRounding.PerInvoice;
        TaxMath.Taxes(amounts, scaled, inclusive, rounding, quote.Currency, taxes);
        var lines = new TaxLine[n];
        long net = 0;
        long tax = 0;
        for (int i = 0; i < n; i++)
        {
            long lineNet = inclusive ? amounts[i] - taxes[i] : amounts[i];
            decimal percent = note is not null ? 0m : categories[i] == TaxCategory.EBook ? rates!.EBookPercent : rates!.StandardPercent;
            lines[i] = new TaxLine(quote.Lines[i].Offer, categories[i], percent, new Money(lineNet, quote.Currency),
                new Money(taxes[i], quote.Currency), new Money(lineNet + taxes[i], quote.Currency), note);
            net = checked(net + lineNet);
            tax = checked(tax + taxes[i]);
        }

        return new TaxBreakdown
        {
            PlaceOfSupply = place,
            PricesIncludeTax = inclusive,
            Rounding = rounding,
            VatNumber = vatNumber,
            ReverseCharge = reverse,
            Lines = ImmutableCollectionsMarshal.AsImmutableArray(lines),
            Net = new Money(net, quote.Currency),
            Tax = new Money(tax, quote.Currency),
            Gross = new Money(checked(net + tax), quote.Currency),
        };
    }
}
