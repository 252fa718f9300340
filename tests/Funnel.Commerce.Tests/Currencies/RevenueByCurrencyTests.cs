using Funnel.Currencies;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tests.Offers;
using NodaTime;
using static Funnel.Tests.Offers.OfferTestKit;
using static Funnel.Tests.Offers.PriceListKit;

namespace Funnel.Tests.Currencies;

public class RevenueByCurrencyTests
{
    private static readonly LocalDate Dec31 = new(2026, 12, 31);

    private static readonly FixedExchangeRates Rates = FixedExchangeRates.Empty
        .With(Currency.GBP, Currency.EUR, 1.1650m)
        .With(Currency.USD, Currency.EUR, 0.9210m)
        .With(Currency.JPY, Currency.EUR, 0.0061m);

    /// <summary>A German, a British and a Japanese buyer pay; the British one is refunded £100; an American order is not paid yet.</summary>
    private static async Task<IReadOnlyList<FunnelEvent>> SalesAsync()
    {
        var kit = new OfferTestKit(PriceListKit.Catalogue);
        async Task<Order> BuyAsync(int lead, string country)
        {
            Checkout checkout = await kit.Service.StartCheckoutAsync(Lead(lead), new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic)], Buyer = From(country) }, NewYork);
            Order order = (await kit.Service.PlaceOrderAsync(checkout, "pm_card_on_file")).Order!;
            return order;
        }

        Order german = await BuyAsync(1, "DE");
        Order british = await BuyAsync(2, "GB");
        Order japanese = await BuyAsync(3, "JP");
        await BuyAsync(4, "US");
        await kit.Service.RecordPaymentAsync(german.Id, german.Total);
        await kit.Service.RecordPaymentAsync(british.Id, british.Total);
        await kit.Service.RecordPaymentAsync(japanese.Id, japanese.Total);
        await kit.Service.RefundAsync(british.Id, Gbp(100m));
        return kit.Log.Snapshot();
    }

    [Fact]
    public async Task Create_OrdersPaymentsAndARefund_KeepsEachCurrencyApart()
    {
        RevenueByCurrency report = RevenueByCurrency.Create(await SalesAsync());

        report.Currencies.Select(c => c.Currency).ShouldBe([Currency.EUR, Currency.GBP, Currency.JPY, Currency.USD]);
        report.In(Currency.EUR).ShouldBe(new CurrencyRevenue(Currency.EUR, 1, Eur(449m), Eur(449m), Eur(0m)));
        report.In(Currency.GBP).ShouldBe(new CurrencyRevenue(Currency.GBP, 1, Gbp(397m), Gbp(397m), Gbp(100m)));
        report.In(Currency.GBP).Net.ShouldBe(Gbp(297m));
        report.In(Currency.JPY).Collected.ShouldBe(new Money(74_800, Currency.JPY));
        report.In(Currency.USD).ShouldBe(new CurrencyRevenue(Currency.USD, 1, Usd(497m), Usd(0m), Usd(0m)));
        report.In(Currency.CHF).Orders.ShouldBe(0);
    }

    [Fact]
    public async Task Create_SameEventTwice_CountsItOnce()
    {
        IReadOnlyList<FunnelEvent> events = await SalesAsync();

        RevenueByCurrency.Create(events.Concat(events)).ShouldBe(RevenueByCurrency.Create(events), new RevenueComparer());
    }

    [Fact]
    public async Task Combine_WithRates_ConvertsEachCurrencyOnceHalfToEven()
    {
        RevenueByCurrency report = RevenueByCurrency.Create(await SalesAsync());

        CombinedRevenue combined = report.Combine(Rates, Currency.EUR, Dec31);

        // £397.00 x 1.1650 = €462.505 -> €462.50 (half to even); £100.00 -> €116.50; ¥74,800 x 0.0061 = €456.28; $497.00 x 0.9210 = €457.737 -> €457.74.
        combined.Conversions.Select(c => (c.Source.Currency, c.Rate, c.Collected)).ShouldBe(
        [
            (Currency.EUR, 1m, Eur(449m)),
            (Currency.GBP, 1.1650m, Eur(462.50m)),
            (Currency.JPY, 0.0061m, Eur(456.28m)),
            (Currency.USD, 0.9210m, Eur(0m)),
        ]);
        combined.Collected.ShouldBe(Eur(449m + 462.50m + 456.28m));
        combined.Refunded.ShouldBe(Eur(116.50m));
        combined.Net.ShouldBe(Eur(449m + 462.50m + 456.28m - 116.50m));
        combined.Ordered.ShouldBe(Eur(449m + 462.50m + 456.28m + 457.74m));
        combined.RatesOn.ShouldBe(Dec31);
    }

    [Fact]
    public void Combine_IntoYen_RoundsToWholeYen()
    {
        RevenueByCurrency report = RevenueByCurrency.Create(
        [
            new PaymentSucceeded { LeadId = Lead(1), OccurredAt = T0, Order = OrderId.New(), Amount = Eur(10.01m) },
        ]);

        CombinedRevenue combined = report.Combine(FixedExchangeRates.Empty.With(Currency.EUR, Currency.JPY, 163.5m), Currency.JPY, Dec31);

        // 1,001 cents x 163.5 / 100 = ¥1,636.635 -> ¥1,637.
        combined.Collected.ShouldBe(new Money(1_637, Currency.JPY));
    }

    [Fact]
    public async Task Combine_MissingRate_ThrowsNamingThePairAndDate()
    {
        RevenueByCurrency report = RevenueByCurrency.Create(await SalesAsync());

        var error = Should.Throw<InvalidOperationException>(() => report.Combine(FixedExchangeRates.Empty.With(Currency.GBP, Currency.EUR, 1.165m), Currency.EUR, Dec31));

        error.Message.ShouldBe("No exchange rate from JPY to EUR on 2026-12-31.");
    }

    [Fact]
    public async Task ReportSection_FedTheEvents_BuildsTheSameReport()
    {
        IReadOnlyList<FunnelEvent> events = await SalesAsync();
        IFunnelReportSectionBuilder builder = RevenueByCurrency.ReportSection.CreateBuilder(new FunnelReportSettings { Currency = Currency.EUR });
        foreach (FunnelEvent e in events)
        {
            builder.Add(e);
        }

        RevenueByCurrency.ReportSection.Key.ShouldBe(RevenueByCurrency.SectionKey);
        ((RevenueByCurrency)builder.Build()).ShouldBe(RevenueByCurrency.Create(events), new RevenueComparer());
    }

    [Fact]
    public void FixedExchangeRates_DatedEntries_ApplyFromTheirDateUntilTheNext()
    {
        FixedExchangeRates rates = FixedExchangeRates.Empty
            .With(Currency.GBP, Currency.EUR, 1.15m, new LocalDate(2026, 1, 1))
            .With(Currency.GBP, Currency.EUR, 1.17m, new LocalDate(2026, 7, 1));

        rates.FindRate(Currency.GBP, Currency.EUR, new LocalDate(2025, 12, 31)).ShouldBeNull();
        rates.FindRate(Currency.GBP, Currency.EUR, new LocalDate(2026, 6, 30)).ShouldBe(1.15m);
        rates.FindRate(Currency.GBP, Currency.EUR, new LocalDate(2026, 7, 1)).ShouldBe(1.17m);
        rates.FindRate(Currency.EUR, Currency.GBP, new LocalDate(2026, 7, 1)).ShouldBeNull();
        rates.FindRate(Currency.CHF, Currency.CHF, new LocalDate(2026, 7, 1)).ShouldBe(1m);
        Should.Throw<ArgumentOutOfRangeException>(() => rates.With(Currency.GBP, Currency.EUR, 0m));
        Should.Throw<ArgumentException>(() => rates.With(Currency.GBP, Currency.GBP, 1m));
    }

    private sealed class RevenueComparer : IEqualityComparer<RevenueByCurrency>
    {
        public bool Equals(RevenueByCurrency? x, RevenueByCurrency? y) => x!.Currencies.SequenceEqual(y!.Currencies);

        public int GetHashCode(RevenueByCurrency obj) => obj.Currencies.Length;
    }
}
