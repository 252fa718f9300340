using System.Collections.Immutable;
using System.Globalization;
using Funnel.Offers;
using Funnel.Tax;
using Stripe;
using Stripe.Tax;
using Quote = Funnel.Offers.Quote;

namespace Funnel.Payments.Stripe;

/// <summary>An <see cref="ITaxCalculator"/> on Stripe Tax's calculation API (<c>POST /v1/tax/calculations</c>), for US sales tax and the other jurisdictions Stripe Tax covers.</summary>
/// <remarks>
/// One calculation per quote: each quote line becomes a line item (its total in minor units, the offer id and its
/// index as the reference, the tax behaviour and, when configured, the tax code of its <see cref="TaxCategory"/>); the
/// buyer's billing address (country, postal code, state) is the customer's address and a VAT number becomes an
/// <c>eu_vat</c> tax id. Stripe rounds each line's tax on its own, so the breakdown's rounding is
/// <see cref="TaxRounding.PerLine"/>. When Stripe cannot locate the buyer (<c>customer_tax_location_invalid</c>), the
/// breakdown is unresolved with no lines, as the seam asks, and the checkout asks the buyer for their address.
/// </remarks>
internal sealed class StripeTaxCalculator(IStripeClient client, StripeTaxOptions options) : ITaxCalculator
{
    /// <summary>The Stripe error code for a customer address Stripe cannot tax.</summary>
    internal const string LocationInvalid = "customer_tax_location_invalid";

    /// <exception cref="PaymentGatewayException">Stripe refused the calculation for another reason, or could not be reached.</exception>
    public async Task<TaxBreakdown> CalculateAsync(TaxRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        Quote quote = request.Quote;
        LocationEvidence evidence = request.Buyer.Evidence;
        string taxBehavior = options.PricesIncludeTax ? "inclusive" : "exclusive";
        var create = new CalculationCreateOptions
        {
            Currency = quote.Currency.Code.ToLowerInvariant(),
            TaxDate = quote.PricedAt.ToDateTimeUtc(),
            LineItems = [.. quote.Lines.Select((line, i) => new CalculationLineItemOptions
            {
                Amount = line.Total.MinorUnits,
                Reference = Reference(line.Offer, i),
                TaxBehavior = taxBehavior,
                TaxCode = options.TaxCodes.GetValueOrDefault(request.Categories[i]),
            })],
            CustomerDetails = new CalculationCustomerDetailsOptions
            {
                AddressSource = "billing",
                Address = new AddressOptions
                {
                    Country = evidence.BillingCountry ?? evidence.CardCountry ?? evidence.IpCountry,
                    PostalCode = evidence.BillingPostalCode,
                    State = evidence.BillingState,
                },
                TaxIds = request.Buyer.VatNumber is { } vat ? [new CalculationCustomerDetailsTaxIdOptions { Type = "eu_vat", Value = vat }] : null,
            },
            Expand = ["line_items.data.tax_breakdown"],
        };

        Calculation calculation;
        try
        {
            calculation = await new CalculationService(client).CreateAsync(create, requestOptions: null, cancellationToken).ConfigureAwait(false);
        }
        catch (StripeException error) when (error.StripeError?.Code == LocationInvalid)
        {
            PlaceOfSupply unresolved = PlaceOfSupply.Determine(evidence) with { Status = PlaceOfSupplyStatus.Insufficient, Country = null };
            Money zero = Money.Zero(quote.Currency);
            return new TaxBreakdown
            {
                PlaceOfSupply = unresolved, PricesIncludeTax = options.PricesIncludeTax, Rounding = TaxRounding.PerLine,
                Lines = [], Net = zero, Tax = zero, Gross = zero,
            };
        }
        catch (StripeException error)
        {
            throw StripePaymentGateway.Refused(error, "Stripe Tax refused the calculation");
        }
        catch (HttpRequestException error)
        {
            throw new PaymentGatewayException("Stripe could not be reached to calculate tax.", error) { IsTransient = true };
        }

        return Map(request, calculation);
    }

    private TaxBreakdown Map(TaxRequest request, Calculation calculation)
    {
        Quote quote = request.Quote;
        Dictionary<string, CalculationLineItem> byReference = (calculation.LineItems?.Data ?? []).ToDictionary(l => l.Reference, StringComparer.Ordinal);
        var lines = ImmutableArray.CreateBuilder<TaxLine>(quote.Lines.Length);
        bool reverseCharge = false;
        for (int i = 0; i < quote.Lines.Length; i++)
        {
            QuoteLine line = quote.Lines[i];
            if (!byReference.TryGetValue(Reference(line.Offer, i), out CalculationLineItem? item))
            {
                throw new PaymentGatewayException($"Stripe Tax's calculation {calculation.Id} has no line item for quote line {i} ({line.Offer}).");
            }

            var tax = new Money(item.AmountTax, quote.Currency);
            Money net = options.PricesIncludeTax ? line.Total - tax : line.Total;
            decimal rate = 0m;
            string? note = null;
            foreach (CalculationLineItemTaxBreakdown part in item.TaxBreakdown ?? [])
            {
                rate += part.TaxRateDetails?.PercentageDecimal is { } percent ? decimal.Parse(percent, NumberStyles.Float, CultureInfo.InvariantCulture) : 0m;
                if (part.TaxabilityReason == "reverse_charge")
                {
                    reverseCharge = true;
                    note = "Reverse charge";
                }
            }

            lines.Add(new TaxLine(line.Offer, request.Categories[i], rate, net, tax, net + tax, note));
        }

        ImmutableArray<TaxLine> taxLines = lines.MoveToImmutable();
        Money zero = Money.Zero(quote.Currency);
        string? country = calculation.CustomerDetails?.Address?.Country?.ToUpperInvariant();
        return new TaxBreakdown
        {
            PlaceOfSupply = new PlaceOfSupply
            {
                Status = PlaceOfSupplyStatus.Determined,
                Country = country,
                Evidence = request.Buyer.Evidence,
                CountriesNamed = country is null ? [] : [country],
            },
            PricesIncludeTax = options.PricesIncludeTax,
            Rounding = TaxRounding.PerLine,
            ProviderCalculationId = calculation.Id,
            VatNumber = reverseCharge ? request.Buyer.VatNumber : null,
            ReverseCharge = reverseCharge,
            Lines = taxLines,
            Net = taxLines.Aggregate(zero, (sum, l) => sum + l.Net),
            Tax = taxLines.Aggregate(zero, (sum, l) => sum + l.Tax),
            Gross = taxLines.Aggregate(zero, (sum, l) => sum + l.Gross),
        };
    }

    private static string Reference(OfferId offer, int index) => string.Create(CultureInfo.InvariantCulture, $"{index}:{offer}");
}
