using Funnel.Currencies;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Offers;
using Funnel.Tax;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of the "Prices in several currencies" section of docs/offers.md.</summary>
internal static class PriceListSnippets
{
    public static (Offer Offer, Coupon Coupon) Define()
    {
        // <snippet:price-lists-offer>
        var basic = new Offer
        {
            Id = "masterclass-basic",
            Name = "Basic Masterclass",
            Price = Money.FromMajor(497m, Currency.USD),                 // the catalogue's currency
            Prices = [Money.FromMajor(449m, Currency.EUR), Money.FromMajor(397m, Currency.GBP), Money.FromMajor(74_800m, Currency.JPY)],
            Products = ["masterclass-videos", "masterclass-templates", "masterclass-community"],
            PaymentPlans =
            [
                new PaymentPlan
                {
                    Key = "3-monthly",
                    Installments = 3,
                    InstallmentAmount = Money.FromMajor(180m, Currency.USD),
                    InstallmentAmounts = [Money.FromMajor(163m, Currency.EUR), Money.FromMajor(143m, Currency.GBP), Money.FromMajor(27_000m, Currency.JPY)],
                    Interval = Period.FromMonths(1),
                },
            ],
        };
        var vip = new Coupon
        {
            Code = "VIP100",
            AmountOff = Money.FromMajor(100m, Currency.USD),
            AmountsOff = [Money.FromMajor(90m, Currency.EUR), Money.FromMajor(80m, Currency.GBP)],   // none in yen: rejected there
        };
        // </snippet:price-lists-offer>
        return (basic, vip);
    }

    public static Quote Choose(Catalogue catalogue, IClock clock, DateTimeZone buyerZone)
    {
        // <snippet:price-lists-choose>
        var prices = new PriceBook(catalogue, CurrencySelector.Default.With("CH", Currency.EUR));   // Swiss buyers pay in euros
        var cart = new Cart
        {
            Lines = [new CartLine("masterclass-basic"), new CartLine("cover-design-pack")],
            Buyer = new BuyerTaxDetails { Evidence = new LocationEvidence { BillingCountry = "DE", IpCountry = "DE" } },
        };
        Currency shown = prices.ChooseCurrency(cart);              // EUR: Germany pays in euros when every offer has a euro price
        Quote euros = prices.Price(cart, clock.GetCurrentInstant(), buyerZone);
        Quote pounds = prices.Price(cart with { Currency = Currency.GBP }, clock.GetCurrentInstant(), buyerZone);  // the buyer's pick
        // </snippet:price-lists-choose>
        return pounds;
    }

    public static async Task CheckoutAsync(OrderService orders, PriceBook prices, LeadId lead, Cart cart, Currency picked, DateTimeZone buyerZone)
    {
        // <snippet:price-lists-checkout>
        Checkout checkout = await orders.StartCheckoutAsync(lead, cart with { Currency = picked }, buyerZone);
        if (checkout.Rejection == OrderRejection.CurrencyNotOffered)
        {
            // An offer of the cart has no price in the picked currency: offer the ones it has.
            Currency[] choices = [.. prices.Currencies.Where(c => cart.Lines.All(l => prices.GetOffer(l.Offer).PriceIn(c) is not null))];
        }
        // </snippet:price-lists-checkout>
    }

    public static void Register(IServiceCollection services)
    {
        // <snippet:price-lists-register>
        services.AddSingleton(sp => new PriceBook(sp.GetRequiredService<Catalogue>(), CurrencySelector.Default.With("CH", Currency.EUR)));
        // </snippet:price-lists-register>
    }

    public static void Report(IReadOnlyList<FunnelEvent> events, FunnelReportSettings settings, IServiceCollection services)
    {
        // <snippet:price-lists-report>
        RevenueByCurrency revenue = RevenueByCurrency.Create(events);
        foreach (CurrencyRevenue r in revenue.Currencies)
        {
            Console.WriteLine($"{r.Currency}: {r.Orders} orders, collected {r.Collected}, refunded {r.Refunded}, net {r.Net}");
        }

        IExchangeRates rates = FixedExchangeRates.Empty
            .With(Currency.GBP, Currency.EUR, 1.1650m)
            .With(Currency.USD, Currency.EUR, 0.9210m)
            .With(Currency.JPY, Currency.EUR, 0.0061m);
        CombinedRevenue combined = revenue.Combine(rates, Currency.EUR, new LocalDate(2026, 12, 31));
        Console.WriteLine($"Net in all: {combined.Net} at the rates of {combined.RatesOn}");
        // </snippet:price-lists-report>

        // <snippet:price-lists-rates>
        services.AddSingleton<IExchangeRates>(FixedExchangeRates.Empty
            .With(Currency.EUR, Currency.USD, 1.0850m)
            .With(Currency.GBP, Currency.USD, 1.2710m));
        // </snippet:price-lists-rates>

        // <snippet:price-lists-section>
        settings = settings with { Sections = settings.Sections.Add(RevenueByCurrency.ReportSection) };
        // later: RevenueByCurrency byCurrency = report.Section<RevenueByCurrency>();
        // </snippet:price-lists-section>
    }
}
