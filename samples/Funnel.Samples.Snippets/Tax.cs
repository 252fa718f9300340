using Funnel.Offers;
using Funnel.Pipeline;
using Funnel.Tax;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/tax.md.</summary>
internal static class TaxSnippets
{
    public static void Register(IServiceCollection services)
    {
        // <snippet:tax-register>
        services.AddFunnelCommerce();
        services.AddFunnelTax(o =>
        {
            o.SellerCountry = "IE";        // where you are established; must be in the rate table
            o.PricesIncludeTax = false;    // false: VAT is added to the catalogue's prices
        });
        // </snippet:tax-register>
    }

    public static Cart StripeTax(IServiceCollection services, string stripeSecretKey, string webhookSecret)
    {
        // <snippet:tax-stripe>
        services.AddFunnelStripe(o =>
        {
            o.ApiKey = stripeSecretKey;
            o.WebhookSecrets.Add(webhookSecret);
        });
        services.AddFunnelStripeTax(o =>
        {
            o.PricesIncludeTax = false;                       // US prices are shown before sales tax
            o.TaxCodes[TaxCategory.EBook] = "txcd_10302000";  // a Stripe product tax code; none: the account's preset
        });

        var cart = new Cart
        {
            Lines = [new CartLine("masterclass", 1, null)],
            Buyer = new BuyerTaxDetails
            {
                Evidence = new LocationEvidence { BillingCountry = "US", BillingPostalCode = "10001", BillingState = "NY", IpCountry = "US" },
            },
        };
        // </snippet:tax-stripe>
        return cart;
    }

    public static async Task RetryStripeTaxRecordingsAsync(FunnelPipeline pipeline)
    {
        // <snippet:tax-stripe-retry>
        // After fixing the cause (or recording the sale in the Stripe Dashboard and deciding to skip it), deliver the
        // events the stripe-tax handler parked again: the payment first, then its refunds, as they were parked.
        foreach (ParkedEvent parked in await pipeline.ListParkedAsync())
        {
            if (parked.Handler == "stripe-tax")
            {
                Console.WriteLine($"{parked.EventType} {parked.EventId}: {parked.Error}");
                await pipeline.RetryParkedAsync(parked);
            }
        }
        // </snippet:tax-stripe-retry>
    }

    public static async Task CheckoutAsync(OrderService orders, LeadId lead, string billingCountry, string ipCountry)
    {
        // <snippet:tax-checkout>
        var cart = new Cart
        {
            Lines = [new CartLine("masterclass-basic")],
            Buyer = new BuyerTaxDetails
            {
                Evidence = new LocationEvidence { BillingCountry = billingCountry, IpCountry = ipCountry },
                VatNumber = null,          // or the business buyer's number, such as "FR40303265045"
            },
        };
        Checkout checkout = await orders.StartCheckoutAsync(lead, cart, DateTimeZone.Utc);
        if (checkout.Rejection == OrderRejection.LocationUnresolved)
        {
            // checkout.PlaceOfSupply.Status is Conflict or Insufficient; CountriesNamed lists what the evidence said.
            // Ask the buyer to confirm their country, then start a new checkout.
            return;
        }

        TaxBreakdown tax = checkout.Quote!.Tax!;   // a German consumer: 19% on $497.00 = $94.43
        Money total = checkout.Quote.Total;        // $591.43 with prices that exclude VAT
        // </snippet:tax-checkout>
    }

    public static void Evidence()
    {
        // <snippet:tax-evidence>
        PlaceOfSupply two = PlaceOfSupply.Determine(new LocationEvidence { BillingCountry = "FR", IpCountry = "BE", CardCountry = "FR" });
        // Determined, Country "FR": two pieces agree, the Belgian IP address is kept in Evidence but does not count.
        PlaceOfSupply conflict = PlaceOfSupply.Determine(new LocationEvidence { BillingCountry = "IE", IpCountry = "GB" });
        // Conflict, Country null: no two pieces agree.
        // </snippet:tax-evidence>
    }

    public static void VatNumber()
    {
        // <snippet:tax-vat-number>
        VatNumberCheck ok = VatNumbers.Check("DE 136 308 783");   // Valid; Normalized "DE136308783", Country "DE"
        VatNumberCheck typo = VatNumbers.Check("DE136308784");    // BadChecksum
        VatNumberCheck greek = VatNumbers.Check("EL094012834");   // Valid; Country "GR"
        // </snippet:tax-vat-number>
    }

    public static void CustomTable(IServiceCollection services)
    {
        // <snippet:tax-custom-table>
        string json = File.ReadAllText("vat-rates-2027.json");   // a copy of Tax/VatRates.json, edited
        services.AddSingleton(VatRateTable.Parse(json));         // replaces VatRateTable.Default
        services.AddFunnelTax(o => o.SellerCountry = "DE");
        // </snippet:tax-custom-table>
    }

    public static void Lookup()
    {
        // <snippet:tax-lookup>
        VatRateTable rates = VatRateTable.Default;
        VatRate? ebook = rates.Find("FI", TaxCategory.EBook, new LocalDate(2026, 3, 1));      // 13.5%
        VatRate? before = rates.Find("EE", TaxCategory.Standard, new LocalDate(2025, 6, 30)); // 22%, 24% from 1 July
        TaxRounding uk = rates.RoundingFor("GB");                                               // PerLine
        // </snippet:tax-lookup>
    }

    public static async Task ByHandAsync(PriceBook prices, Cart cart, Instant now)
    {
        // <snippet:tax-by-hand>
        var calculator = new VatCalculator(VatRateTable.Default, new TaxOptions { SellerCountry = "DE" });
        Quote quote = prices.Price(cart, now, DateTimeZone.Utc);
        TaxBreakdown tax = await calculator.CalculateAsync(new TaxRequest
        {
            Quote = quote,
            Categories = [.. quote.Lines.Select(_ => TaxCategory.Standard)],
            Buyer = new BuyerTaxDetails { Evidence = new LocationEvidence { BillingCountry = "FR", CardCountry = "FR" } },
        });
        Quote taxed = quote.WithTax(tax);   // total and schedule now include the VAT
        // </snippet:tax-by-hand>
    }
}
