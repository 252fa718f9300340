using Funnel.CartRecovery;
using Funnel.Events;
using Funnel.Kpis;
using NodaTime;

namespace Funnel.Tests.CartRecovery;

public sealed class CartRecoveryReportTests
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 10, 5, 14, 0);
    private static readonly Currency Usd = Currency.FromCode("USD");
    private static readonly OfferId Basic = new("masterclass-basic");
    private static readonly OfferId Kit = new("mini-kit");
    private static readonly Duration Week = Duration.FromDays(7);

    [Fact]
    public void Create_OrdersInsideAndOutsideTheWindow_CountsOnlyThoseInsideWithTheirExactTotals()
    {
        LeadId ada = LeadId.New(), bob = LeadId.New(), cy = LeadId.New(), di = LeadId.New();
        FunnelEvent[] events =
        [
            Abandoned(ada, Basic, T0), Order(ada, Basic, T0 + Duration.FromHours(3), 497_00),
            Abandoned(bob, Basic, T0), Order(bob, Basic, T0 + Week, 180_00),                          // on the window's edge
            Abandoned(cy, Basic, T0), Order(cy, Basic, T0 + Week + Duration.FromSeconds(1), 497_00), // just outside
            Abandoned(di, Kit, T0), Order(di, Basic, T0 + Duration.FromHours(1), 497_00),            // another offer
        ];

        CartRecoveryReport report = CartRecoveryReport.Create(events, Usd, Week);

        report.ShouldBe(new CartRecoveryReport { Abandoned = 4, Recovered = 2, RecoveredRevenue = new Money(677_00, Usd) });
        report.RecoveryRate.ShouldBe(Ratio.Of(2, 4));
    }

    [Fact]
    public void Create_OrderBeforeTheAbandonmentOrTwoOrdersAfterIt_CountsOneRecoveryWithTheFirstOrder()
    {
        LeadId ada = LeadId.New();
        FunnelEvent[] events =
        [
            Order(ada, Basic, T0 - Duration.FromDays(1), 47_00),
            Order(ada, Basic, T0 + Duration.FromDays(2), 180_00),
            Abandoned(ada, Basic, T0),
            Order(ada, Basic, T0 + Duration.FromDays(3), 180_00),
        ];

        CartRecoveryReport report = CartRecoveryReport.Create(events, Usd, Week);

        report.ShouldBe(new CartRecoveryReport { Abandoned = 1, Recovered = 1, RecoveredRevenue = new Money(180_00, Usd) });
    }

    [Fact]
    public void Create_TwoAbandonmentsThenOneOrder_OnlyTheLatestIsRecovered()
    {
        LeadId ada = LeadId.New();
        FunnelEvent[] events =
        [
            Abandoned(ada, Basic, T0),
            Abandoned(ada, Basic, T0 + Duration.FromDays(1)),
            Order(ada, Basic, T0 + Duration.FromDays(2), 497_00),
        ];

        CartRecoveryReport.Create(events, Usd, Week).ShouldBe(new CartRecoveryReport { Abandoned = 2, Recovered = 1, RecoveredRevenue = new Money(497_00, Usd) });
    }

    [Fact]
    public void Create_ReplayedEvents_CountedOnce()
    {
        LeadId ada = LeadId.New();
        FunnelEvent abandoned = Abandoned(ada, Basic, T0);
        FunnelEvent order = Order(ada, Basic, T0 + Duration.FromHours(1), 497_00);

        CartRecoveryReport report = CartRecoveryReport.Create([abandoned, order, abandoned, order], Usd, Week);

        report.ShouldBe(new CartRecoveryReport { Abandoned = 1, Recovered = 1, RecoveredRevenue = new Money(497_00, Usd) });
    }

    [Fact]
    public void Create_NoEvents_ZeroAndAnUndefinedRate()
    {
        CartRecoveryReport report = CartRecoveryReport.Create([], Usd, Week);

        report.ShouldBe(new CartRecoveryReport { Abandoned = 0, Recovered = 0, RecoveredRevenue = Money.Zero(Usd) });
        report.RecoveryRate.ShouldBe(Ratio.Of(0, 0));
    }

    [Fact]
    public void Create_RecoveringOrderInAnotherCurrency_Throws()
    {
        LeadId ada = LeadId.New();
        FunnelEvent[] events = [Abandoned(ada, Basic, T0), Order(ada, Basic, T0 + Duration.FromHours(1), 497_00) with { Total = new Money(497_00, Currency.FromCode("EUR")) }];

        Should.Throw<InvalidOperationException>(() => CartRecoveryReport.Create(events, Usd, Week)).Message.ShouldContain("EUR");
        Should.Throw<ArgumentOutOfRangeException>(() => CartRecoveryReport.Create(events, Usd, Duration.FromSeconds(-1)));
    }

    [Fact]
    public void ReportSection_InAFunnelReport_MatchesCreate()
    {
        LeadId ada = LeadId.New();
        FunnelEvent[] events = [Abandoned(ada, Basic, T0), Order(ada, Basic, T0 + Duration.FromHours(1), 497_00)];
        var reporter = new FunnelReporter(new FunnelReportSettings { Currency = Usd, Sections = [CartRecoveryReport.CreateReportSection(Week)] });

        FunnelReport report = reporter.CreateReport(Funnel.Samples.EbookMasterclass.MasterclassScenario.Funnel, events);

        report.Section<CartRecoveryReport>().ShouldBe(CartRecoveryReport.Create(events, Usd, Week));
    }

    private static CheckoutAbandoned Abandoned(LeadId lead, OfferId offer, Instant at) => new() { LeadId = lead, OccurredAt = at, Offer = offer };

    private static OrderPlaced Order(LeadId lead, OfferId offer, Instant at, long cents) =>
        new() { LeadId = lead, OccurredAt = at, Order = OrderId.New(), Offer = offer, Total = new Money(cents, Usd) };
}
