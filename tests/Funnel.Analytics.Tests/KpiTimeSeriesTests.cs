using Funnel.Events;
using NodaTime;
using static Funnel.Analytics.Tests.AnalyticsTestData;

namespace Funnel.Analytics.Tests;

public class KpiTimeSeriesTests
{
    private static readonly Money Price = Money.FromMajor(100m, Currency.USD);

    private static AnalyticsEventStore Store() => AnalyticsEventStore.Load(
    [
        E(1, "page_viewed", 0, "facebook"),
        new OptedIn { LeadId = Lead(1), OccurredAt = At(1), Magnet = "guide" },
        new OrderPlaced { LeadId = Lead(1), OccurredAt = At(2), Order = OrderId.New(), Offer = "x", Total = Price },
        new OrderPlaced { LeadId = Lead(1), OccurredAt = At(40 * 1440), Order = OrderId.New(), Offer = "x", Total = Price },
        new RefundIssued { LeadId = Lead(1), OccurredAt = At(41 * 1440), Order = OrderId.New(), Amount = Money.FromMajor(30m, Currency.USD) },
        E(2, "page_viewed", 1440, "google"),
        new AdSpendRecorded { OccurredAt = At(0), Attribution = new Attribution { Channel = "facebook" }, Amount = Money.FromMajor(50m, Currency.USD) },
        new AdSpendRecorded { OccurredAt = At(0), Attribution = new Attribution { Channel = "google" }, Amount = Money.FromMajor(20m, Currency.USD) },
    ]);

    [Fact]
    public void Compute_PerDay_CountsFirstsInTheirDay()
    {
        var points = KpiTimeSeries.Compute(Store(), KpiPeriod.Day);

        KpiPoint first = points[0];
        first.PeriodStart.ShouldBe(new LocalDate(2026, 10, 5));
        (first.NewVisitors, first.NewLeads, first.NewCustomers, first.Orders).ShouldBe((1L, 1L, 1L, 1L));
        first.Revenue.ShouldBe(Price);
        first.AdSpend.ShouldBe(Money.FromMajor(70m, Currency.USD));
        first.CustomerAcquisitionCost.ShouldBe(Money.FromMajor(70m, Currency.USD));
        points[1].NewVisitors.ShouldBe(1);
    }

    [Fact]
    public void Compute_PerMonthAndChannel_SplitsSpendAndCustomersByChannel()
    {
        var points = KpiTimeSeries.Compute(Store(), KpiPeriod.Month, byChannel: true);

        KpiPoint facebook = points.Single(p => p.PeriodStart == new LocalDate(2026, 10, 1) && p.Channel == "facebook");
        facebook.NewCustomers.ShouldBe(1);
        facebook.AdSpend.ShouldBe(Money.FromMajor(50m, Currency.USD));
        facebook.ReturnOnAdSpend.ToDecimal().ShouldBe(2m);
        points.Single(p => p.PeriodStart == new LocalDate(2026, 11, 1) && p.Channel == "facebook").Refunds.ShouldBe(Money.FromMajor(30m, Currency.USD));
    }

    [Fact]
    public void Compute_PaybackPeriod_IsWhenTheCohortsPaymentsCoverTheSpend()
    {
        var byChannel = KpiTimeSeries.Compute(Store(), KpiPeriod.Month, byChannel: true);
        byChannel.Single(p => p.PeriodStart == new LocalDate(2026, 10, 1) && p.Channel == "facebook").PaybackPeriod.ShouldBe(Duration.FromMinutes(2));
        byChannel.Single(p => p.PeriodStart == new LocalDate(2026, 10, 1) && p.Channel == "google").PaybackPeriod.ShouldBeNull();

        // $150 of spend: the first order ($100) does not cover it, the second, 40 days after the first visit, does.
        AnalyticsEventStore store = AnalyticsEventStore.Load(
        [
            E(1, "page_viewed", 0, "facebook"),
            new OrderPlaced { LeadId = Lead(1), OccurredAt = At(2), Order = OrderId.New(), Offer = "x", Total = Price },
            new OrderPlaced { LeadId = Lead(1), OccurredAt = At(40 * 1440), Order = OrderId.New(), Offer = "x", Total = Price },
            new AdSpendRecorded { OccurredAt = At(0), Attribution = new Attribution { Channel = "facebook" }, Amount = Money.FromMajor(150m, Currency.USD) },
        ]);
        KpiPoint day = KpiTimeSeries.Compute(store, KpiPeriod.Day)[0];
        day.PaybackPeriod.ShouldBe(Duration.FromDays(40));
        KpiTimeSeries.Compute(store, KpiPeriod.Day).Single(p => p.PeriodStart == new LocalDate(2026, 11, 14)).PaybackPeriod.ShouldBeNull();
    }

    [Fact]
    public void Compute_PerWeek_StartsOnMonday() =>
        KpiTimeSeries.Compute(Store(), KpiPeriod.Week).Select(p => p.PeriodStart.DayOfWeek).Distinct().ShouldBe([IsoDayOfWeek.Monday]);

    [Fact]
    public void LifetimeValueByCohort_IncludesLaterOrdersNetOfRefunds()
    {
        CohortLifetimeValue cohort = KpiTimeSeries.LifetimeValueByCohort(Store(), KpiPeriod.Month).Single();

        cohort.CohortStart.ShouldBe(new LocalDate(2026, 10, 1));
        cohort.Customers.ShouldBe(1);
        cohort.LifetimeValue.ShouldBe(Money.FromMajor(170m, Currency.USD));
    }
}
