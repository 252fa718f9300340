using System.Globalization;
using Funnel.Offers;
using Funnel.Tax;
using NodaTime;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>One buyer of the VAT walk-through and what their checkout came to.</summary>
/// <param name="Buyer">Who bought, such as <c>DE consumer</c>.</param>
/// <param name="Checkout">The checkout, taxed or rejected.</param>
public sealed record VatDemoRow(string Buyer, Checkout Checkout);

/// <summary>
/// Checks out the $497 Basic Masterclass, sold from Ireland with prices that exclude VAT, for consumers in Germany,
/// France, Ireland, the UK and the US, for a French business with a VAT number, and for a buyer whose evidence
/// conflicts.
/// </summary>
public static class VatDemo
{
    public static async Task<IReadOnlyList<VatDemoRow>> RunAsync()
    {
        var clock = new FixedClock(Instant.FromUtc(2026, 12, 5, 14, 0));
        var orders = new OrderService(new PriceBook(OfferPathCatalogue.Catalogue), OfferPathCatalogue.Path, new InMemoryOrderStore(), new NoGrantor(),
            new InMemoryCouponRedemptionStore(), new InMemorySeatInventory(clock), new DeadlineTracker(new InMemoryDeadlineStore(), clock), clock,
            new Funnel.Pipeline.InMemoryFunnelEventLog(), new VatCalculator(VatRateTable.Default, new TaxOptions { SellerCountry = "IE" }));
        (string Buyer, BuyerTaxDetails Details)[] buyers =
        [
            ("DE consumer", In("DE")),
            ("FR consumer", In("FR")),
            ("IE consumer", In("IE")),
            ("GB consumer", In("GB")),
            ("US consumer", In("US")),
            ("FR business", In("FR") with { VatNumber = "FR40303265045" }),
            ("conflicting evidence", new BuyerTaxDetails { Evidence = new LocationEvidence { BillingCountry = "DE", IpCountry = "FR", CardCountry = "IT" } }),
        ];
        var rows = new List<VatDemoRow>();
        foreach ((string buyer, BuyerTaxDetails details) in buyers)
        {
            var cart = new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic)], Buyer = details };
            rows.Add(new VatDemoRow(buyer, await orders.StartCheckoutAsync(LeadId.New(), cart, DateTimeZone.Utc)));
        }

        return rows;
    }

    public static void Print(IReadOnlyList<VatDemoRow> rows, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(output);
        CultureInfo c = CultureInfo.InvariantCulture;
        output.WriteLine();
        output.WriteLine("VAT by buyer country: Basic Masterclass ($497, sold from Ireland, VAT added)");
        foreach (VatDemoRow row in rows)
        {
            if (row.Checkout.Quote is not { Tax: { } tax } quote)
            {
                output.WriteLine(string.Create(c, $"  {row.Buyer,-21} rejected ({row.Checkout.Rejection}): {string.Join(", ", row.Checkout.PlaceOfSupply!.CountriesNamed)}"));
                continue;
            }

            TaxLine line = tax.Lines[0];
            string how = line.Note is null ? string.Create(c, $"{line.Rate}% VAT {tax.Tax}") : (tax.ReverseCharge ? "reverse charge" : "outside EU/UK VAT");
            output.WriteLine(string.Create(c, $"  {row.Buyer,-21} {tax.PlaceOfSupply.Country}: {tax.Net} + {how} = {quote.Total}"));
        }
    }

    private static BuyerTaxDetails In(string country) =>
        new() { Evidence = new LocationEvidence { BillingCountry = country, IpCountry = country } };

    private sealed class FixedClock(Instant now) : IClock
    {
        public Instant GetCurrentInstant() => now;
    }

    private sealed class NoGrantor : IEntitlementGrantor
    {
        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
