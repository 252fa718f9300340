using Funnel.Currencies;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Payments;
using Funnel.Samples.EbookMasterclass;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Tests.Currencies;

/// <summary>The one-currency reports convert sales in other currencies with the registered exchange rates.</summary>
public class ReportConversionTests
{
    private static readonly LeadId Lead = LeadId.New();
    private static readonly Instant Dec7 = Instant.FromUtc(2026, 12, 7, 10, 0);

    private static IFunnelReporter Reporter(IExchangeRates? rates)
    {
        var services = new ServiceCollection();
        services.AddFunnel();
        services.AddFunnelCommerce();
        if (rates is not null)
        {
            services.AddSingleton(rates);
        }

        return services.BuildServiceProvider().GetRequiredService<IFunnelReporter>();
    }

    private static FunnelEvent[] EuroAndDollarSales()
    {
        OrderId euro = OrderId.New(), dollar = OrderId.New();
        return
        [
            new OrderPlaced { LeadId = Lead, OccurredAt = Dec7, Order = euro, Offer = new OfferId("masterclass-basic"), Total = Money.FromMajor(449m, Currency.EUR) },
            new PaymentSucceeded { LeadId = Lead, OccurredAt = Dec7, Order = euro, Amount = Money.FromMajor(449m, Currency.EUR) },
            new RefundIssued { LeadId = Lead, OccurredAt = Dec7 + Duration.FromDays(1), Order = euro, Amount = Money.FromMajor(100m, Currency.EUR) },
            new OrderPlaced { LeadId = Lead, OccurredAt = Dec7, Order = dollar, Offer = new OfferId("masterclass-basic"), Total = Money.FromMajor(497m, Currency.USD) },
            new PaymentSucceeded { LeadId = Lead, OccurredAt = Dec7, Order = dollar, Amount = Money.FromMajor(497m, Currency.USD) },
        ];
    }

    [Fact]
    public void AddFunnel_WithRegisteredRates_ConvertsThePaymentsSectionAtEachEventsDay()
    {
        IExchangeRates rates = FixedExchangeRates.Empty
            .With(Currency.EUR, Currency.USD, 1.0850m)
            .With(Currency.EUR, Currency.USD, 1.1000m, new LocalDate(2026, 12, 8));

        FunnelReport report = Reporter(rates).CreateReport(MasterclassScenario.Funnel, EuroAndDollarSales());

        PaymentMetrics payments = report.Section<PaymentMetrics>().ShouldNotBeNull();
        payments.Collected.ShouldBe(Money.FromMajor(487.16m + 497m, Currency.USD)); // €449 × 1.085 = $487.165, half to even $487.16
        payments.Refunded.ShouldBe(Money.FromMajor(110m, Currency.USD));             // €100 on Dec 8 at 1.10
    }

    [Fact]
    public void AddFunnel_WithoutRates_FailsNamingTheCurrenciesAndTheSeam()
    {
        var error = Should.Throw<InvalidOperationException>(() => Reporter(null).CreateReport(MasterclassScenario.Funnel, EuroAndDollarSales()));

        error.Message.ShouldContain("EUR");
        error.Message.ShouldContain("USD");
        error.Message.ShouldContain("IExchangeRates");
    }
}
