using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Currencies;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Tax;
using Funnel.Tests.Offers;
using NodaTime;

namespace Funnel.Tests.Currencies;

[Properties(Arbitrary = new[] { typeof(PriceListArbitraries), typeof(OfferArbitraries) }, MaxTest = 200)]
public class PriceListProperties
{
    private static readonly string[] Countries = ["DE", "GB", "JP", "US", "CH", "FR", "AU", "BV"];

    [Property]
    public Property RevenueByCurrency_AnyEvents_NeverMixesCurrenciesAndCombinesToTheSumOfConversions(RevenueCase c)
    {
        RevenueByCurrency report = RevenueByCurrency.Create(c.Events);
        var rates = FixedExchangeRates.Empty;
        foreach ((Currency source, decimal rate) in c.Rates.Where(r => r.Key != c.Target))
        {
            rates = rates.With(source, c.Target, rate);
        }

        CombinedRevenue combined = report.Combine(rates, c.Target, new LocalDate(2026, 12, 31));
        long Sum<T>(Currency currency, Func<T, Money> amount) where T : FunnelEvent =>
            c.Events.OfType<T>().Select(amount).Where(m => m.Currency == currency).Sum(m => m.MinorUnits);
        Money Converted(Money amount) => CurrencyConversion.Convert(amount, c.Rates[amount.Currency], c.Target);

        return report.Currencies.All(r => r.Ordered.Currency == r.Currency && r.Collected.Currency == r.Currency && r.Refunded.Currency == r.Currency)
                .Label("every amount is in its row's currency")
            .And((report.Currencies.Select(r => r.Currency).Distinct().Count() == report.Currencies.Length).Label("one row per currency"))
            .And(report.Currencies.All(r =>
                    r.Ordered.MinorUnits == Sum<OrderPlaced>(r.Currency, o => o.Total)
                    && r.Collected.MinorUnits == Sum<PaymentSucceeded>(r.Currency, p => p.Amount)
                    && r.Refunded.MinorUnits == Sum<RefundIssued>(r.Currency, x => x.Amount)
                    && r.Orders == c.Events.OfType<OrderPlaced>().Count(o => o.Total.Currency == r.Currency))
                .Label("each row sums exactly the events in its currency"))
            .And((report.Currencies.Sum(r => r.Orders) == c.Events.OfType<OrderPlaced>().Count()).Label("every order counted once"))
            .And((combined.Collected == Money.Sum(report.Currencies.Select(r => Converted(r.Collected)), c.Target)).Label("combined collected = sum of converted"))
            .And((combined.Refunded == Money.Sum(report.Currencies.Select(r => Converted(r.Refunded)), c.Target)).Label("combined refunded = sum of converted"))
            .And((combined.Ordered == Money.Sum(report.Currencies.Select(r => Converted(r.Ordered)), c.Target)).Label("combined ordered = sum of converted"))
            .And(report.Currencies.Where(r => r.Currency == c.Target).All(r => combined.Conversions.Single(x => x.Source.Currency == c.Target).Collected == r.Collected)
                .Label("the target currency is taken as it is"));
    }

    [Property]
    public Property Price_SingleCurrencyCatalogue_IgnoresTheBuyersCountry(PricingCase c, byte country)
    {
        var prices = new PriceBook(c.Catalogue);
        Quote before = prices.Price(c.Cart, c.At, DateTimeZone.Utc);
        Quote located = prices.Price(c.Cart with { Buyer = new BuyerTaxDetails { Evidence = new LocationEvidence { BillingCountry = Countries[country % Countries.Length] } } }, c.At, DateTimeZone.Utc);
        Quote picked = prices.Price(c.Cart with { Currency = Currency.USD }, c.At, DateTimeZone.Utc);

        return Same(before, located).Label("a buyer's country changes nothing")
            .And(Same(before, picked).Label("picking the catalogue's currency changes nothing"))
            .And((before.Currency == Currency.USD).Label("quoted in the catalogue's currency"));
    }

    [Property]
    public Property Price_EuroPricesEqualToTheDollarPrices_GiveTheSameQuoteInEuros(PricingCase c)
    {
        static ImmutableArray<Money> InEuros(Money m) => [new Money(m.MinorUnits, Currency.EUR)];
        Catalogue both = c.Catalogue with
        {
            Offers = [.. c.Catalogue.Offers.Select(o => o with
            {
                Prices = InEuros(o.Price),
                PaymentPlans = [.. o.PaymentPlans.Select(p => p with { InstallmentAmounts = InEuros(p.InstallmentAmount) })],
            })],
            Coupons = [.. c.Catalogue.Coupons.Select(x => x.AmountOff is { } off ? x with { AmountsOff = InEuros(off) } : x)],
        };
        Quote dollars = new PriceBook(c.Catalogue).Price(c.Cart, c.At, DateTimeZone.Utc);
        Quote euros = new PriceBook(both).Price(c.Cart with { Buyer = new BuyerTaxDetails { Evidence = new LocationEvidence { IpCountry = "DE" } } }, c.At, DateTimeZone.Utc);

        return (euros.Currency == Currency.EUR).Label("quoted in euros")
            .And(Same(dollars, euros with { Currency = Currency.USD }, ignoreCurrency: true).Label("same minor units everywhere"));
    }

    private static bool Same(Quote a, Quote b, bool ignoreCurrency = false)
    {
        bool M(Money x, Money y) => x.MinorUnits == y.MinorUnits && (ignoreCurrency || x.Currency == y.Currency);
        return a.Currency == b.Currency && a.PricedAt == b.PricedAt
            && M(a.Subtotal, b.Subtotal) && M(a.Discount, b.Discount) && M(a.Total, b.Total)
            && a.Lines.Length == b.Lines.Length
            && a.Lines.Zip(b.Lines).All(p => p.First.Offer == p.Second.Offer && p.First.Quantity == p.Second.Quantity && p.First.PaymentPlan == p.Second.PaymentPlan
                && M(p.First.UnitPrice, p.Second.UnitPrice) && M(p.First.Subtotal, p.Second.Subtotal) && M(p.First.Discount, p.Second.Discount) && M(p.First.Total, p.Second.Total))
            && a.Coupons.Select(x => (x.Code, x.Discount.MinorUnits)).SequenceEqual(b.Coupons.Select(x => (x.Code, x.Discount.MinorUnits)))
            && a.RejectedCoupons.SequenceEqual(b.RejectedCoupons)
            && a.Schedule.Length == b.Schedule.Length
            && a.Schedule.Zip(b.Schedule).All(p => p.First.Number == p.Second.Number && p.First.DueAt == p.Second.DueAt && M(p.First.Amount, p.Second.Amount));
    }
}
