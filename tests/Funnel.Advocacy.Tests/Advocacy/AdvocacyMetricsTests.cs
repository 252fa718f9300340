using Funnel.Advocacy;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Kpis;
using NodaTime;
using static Funnel.Tests.Advocacy.AdvocacyTestKit;

namespace Funnel.Tests.Advocacy;

public class AdvocacyMetricsTests
{
    private static readonly Instant October = Instant.FromUtc(2026, 10, 15, 12, 0);
    private static readonly Instant November = Instant.FromUtc(2026, 11, 15, 12, 0);

    private static FunnelEvent[] History() =>
    [
        Placed(1, 1, Usd(497), October),
        Placed(1, 2, Usd(297), November),                      // repeat purchase counts in the October cohort
        Placed(2, 3, Usd(497), October),
        Refunded(2, 3, Usd(497), October + Duration.FromDays(3)),
        Placed(3, 4, Usd(497), November),
        new AffiliateSaleAttributed { LeadId = Lead(3), OccurredAt = November, Code = "sarah", Order = OrderNo(4), Amount = Usd(497) },
        new CommissionEarned { LeadId = Lead(1), OccurredAt = November, Code = "sarah", Order = OrderNo(4), Amount = Usd(149.10m) },
        new ReferralMade { LeadId = Lead(1), OccurredAt = November - Duration.FromDays(1), Referred = Lead(4) },
        Placed(4, 5, Usd(497), November),
        Placed(4, 5, Usd(497), November),                      // the same order again counts once
    ];

    [Fact]
    public void Compute_History_GivesCohortCltvNetOfRefundsAndRevenueShares()
    {
        AdvocacyMetrics metrics = AdvocacyMetrics.Compute(History(), Currency.USD);

        metrics.Cohorts.Select(c => (c.Cohort, c.Customers, c.NetRevenue)).ShouldBe(
        [
            (new YearMonth(2026, 10), 2L, Usd(794)),
            (new YearMonth(2026, 11), 2L, Usd(994)),
        ]);
        metrics.Cohorts[0].ValuePerCustomer.ShouldBe(Usd(397));
        metrics.NetRevenue.ShouldBe(Usd(1788));
        metrics.AffiliateRevenue.ShouldBe(Usd(497));
        metrics.ReferralRevenue.ShouldBe(Usd(497));
        metrics.AffiliateCommission.ShouldBe(Usd(149.10m));
        metrics.AffiliateRevenueShare.ShouldBe(Ratio.Of(497, 1788));
    }

    [Fact]
    public void Compute_ReferredFriendsOrderBeforeTheReferral_IsNotReferralRevenue()
    {
        FunnelEvent[] events =
        [
            Placed(4, 5, Usd(497), October),
            new ReferralMade { LeadId = Lead(1), OccurredAt = November, Referred = Lead(4) },
        ];

        AdvocacyMetrics.Compute(events, Currency.USD).ReferralRevenue.ShouldBe(Usd(0));
    }

    [Fact]
    public void CreateReport_FunnelReporter_FillsTheAdvocacyMetrics()
    {
        FunnelDefinition funnel = FunnelBuilder.Create("f", "F").WithDefaultStages()
            .AddStep("buy", "Purchases", "action", StepKind.Purchase, EventMatch.For(EventTypes.OrderPlaced)).Build();

        FunnelReport report = new FunnelReporter(new FunnelReportSettings { Sections = [AdvocacyMetrics.ReportSection] }).CreateReport(funnel, History());

        report.Section<AdvocacyMetrics>().ShouldNotBeNull().AffiliateRevenue.ShouldBe(Usd(497));
        report.Section<AdvocacyMetrics>()!.NetRevenue.ShouldBe(Usd(1788));
    }

    [Fact]
    public void Compute_AmountInAnotherCurrency_ThrowsNamingBothAndTheEvent()
    {
        var error = Should.Throw<InvalidOperationException>(() => AdvocacyMetrics.Compute([Placed(1, 1, new Money(100, Currency.EUR), October)], Currency.USD));

        error.Message.ShouldContain("EUR");
        error.Message.ShouldContain("USD");
        error.Message.ShouldContain("order_placed");
    }
}
