using Funnel.Currencies;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Kpis;
using NodaTime;
using static Funnel.Tests.TestEvents;

namespace Funnel.Tests.Kpis;

public class FunnelReporterTests
{
    internal static readonly FunnelDefinition Funnel = FunnelBuilder.Create("test", "Test")
        .WithDefaultStages()
        .AddStep("visit", "Visitors", "awareness", StepKind.Content, EventMatch.For(EventTypes.PageViewed, "/blog/*"))
        .AddStep("opt-in", "Leads", "interest", StepKind.OptIn, EventMatch.For(EventTypes.OptedIn, "guide"))
        .AddStep("sales", "Sales page", "decision", StepKind.SalesPage, EventMatch.For(EventTypes.SalesPageVisited))
        .AddStep("checkout", "Checkout", "decision", StepKind.Checkout, EventMatch.For(EventTypes.CheckoutStarted))
        .AddStep("buy", "Purchases", "action", StepKind.Purchase, EventMatch.For(EventTypes.OrderPlaced))
        .Build();

    private static FunnelReport Report(params FunnelEvent[] events) => new FunnelReporter().CreateReport(Funnel, events);

    private static long[] Counts(FunnelMetrics metrics) => [.. metrics.Steps.Select(s => s.Reached)];

    [Fact]
    public void CreateReport_NoEvents_CountsZeroAndRatesAreNotDefined()
    {
        FunnelReport report = Report();

        Counts(report.Overall).ShouldBe([0, 0, 0, 0, 0]);
        report.Overall.Steps.ShouldAllBe(s => !s.FromStart.IsDefined);
        report.Overall.OverallConversion.IsDefined.ShouldBeFalse();
        report.Overall.ReturnOnAdSpend.IsDefined.ShouldBeFalse();
        report.Overall.CustomerAcquisitionCost.ShouldBeNull();
        report.Overall.Revenue.ShouldBe(Money.Zero(Currency.USD));
        report.CustomerLifetimeValue.ShouldBeNull();
        report.From.ShouldBeNull();
        report.EventCount.ShouldBe(0);
    }

    [Fact]
    public void CreateReport_OrderedJourneys_CountEachStepOnce()
    {
        FunnelReport report = Report(
            View(1, 0), OptIn(1, 5), Sales(1, 10), Checkout(1, 11), Order(1, 12, 49_700),
            View(2, 0), OptIn(2, 5), Sales(2, 10),
            View(3, 0), View(3, 1), OptIn(3, 2), OptIn(3, 3),
            View(4, 0));

        Counts(report.Overall).ShouldBe([4, 3, 2, 1, 1]);
        report.Overall.Steps[1].FromPrevious.ShouldBe(Ratio.Of(3, 4));
        report.Overall.Steps[4].FromStart.ShouldBe(Ratio.Of(1, 4));
        report.Overall.OverallConversion.ShouldBe(Ratio.Of(1, 4));
        report.Overall.Stages.Select(s => s.Reached).ShouldBe([4, 3, 2, 1, null]);
        report.Overall.Stages[2].FromPrevious.ShouldBe(Ratio.Of(2, 3));
        report.Overall.Stages[4].FromPrevious.IsDefined.ShouldBeFalse();
    }

    [Fact]
    public void CreateReport_StepOutOfOrder_DoesNotCount()
    {
        // Opted in before the tracked blog visit: the ordered funnel needs a visit first.
        FunnelReport report = Report(OptIn(1, 0), View(1, 5));

        Counts(report.Overall).ShouldBe([1, 0, 0, 0, 0]);
    }

    [Fact]
    public void CreateReport_ReEntryAfterAnEarlierStep_CountsTheLaterChain()
    {
        FunnelReport report = Report(OptIn(1, 0), View(1, 5), OptIn(1, 10));

        Counts(report.Overall).ShouldBe([1, 1, 0, 0, 0]);
    }

    [Fact]
    public void CreateReport_SameInstant_ChainsInStepOrderWhateverTheArrivalOrder()
    {
        FunnelReport report = Report(OptIn(1, 0), View(1, 0));

        Counts(report.Overall).ShouldBe([1, 1, 0, 0, 0]);
    }

    [Fact]
    public void CreateReport_OneEventMatchingTwoSteps_CountsForOneStepOnly()
    {
        FunnelDefinition pages = FunnelBuilder.Create("pages", "Pages").WithDefaultStages()
            .AddStep("any", "Any page", "awareness", StepKind.Content, EventMatch.For(EventTypes.PageViewed))
            .AddStep("pricing", "Pricing", "decision", StepKind.SalesPage, EventMatch.For(EventTypes.PageViewed, "/pricing"))
            .Build();
        var reporter = new FunnelReporter();

        Counts(reporter.CreateReport(pages, [View(1, 0, "/pricing")]).Overall).ShouldBe([1, 0]);
        Counts(reporter.CreateReport(pages, [View(1, 0, "/pricing"), View(1, 0, "/pricing")]).Overall).ShouldBe([1, 1]);
    }

    [Fact]
    public void CreateReport_UnrelatedEventsInBetween_DoNotBreakTheChain()
    {
        var email = new EmailSent { LeadId = Lead(1), OccurredAt = At(3), Email = "nurture-1" };

        Counts(Report(View(1, 0), email, View(1, 4, "/about"), OptIn(1, 5)).Overall).ShouldBe([1, 1, 0, 0, 0]);
    }

    [Fact]
    public void CreateReport_ReplayedEvents_CountOnce()
    {
        OrderPlaced order = Order(1, 12, 49_700);
        FunnelEvent[] events = [View(1, 0), order, order, order with { Id = EventId.New() }];

        FunnelReport report = Report(events);

        report.EventCount.ShouldBe(3);
        report.Overall.Orders.ShouldBe(1);
        report.Overall.Revenue.ShouldBe(new Money(49_700, Currency.USD));
    }

    [Fact]
    public void CreateReport_RevenueSpendAndKpis_AreComputedFromEvents()
    {
        FunnelReport report = Report(
            View(1, 0), Order(1, 5, 49_700), Order(1, 50, 2_700),
            View(2, 0), Order(2, 5, 49_700),
            Spend(30_000), Spend(20_000),
            new RefundIssued { LeadId = Lead(2), OccurredAt = At(90), Order = Order(2, 5, 0).Order, Amount = new Money(49_700, Currency.USD) });

        FunnelMetrics all = report.Overall;
        all.Orders.ShouldBe(3);
        all.Customers.ShouldBe(2);
        all.Revenue.MinorUnits.ShouldBe(102_100);
        all.Refunds.MinorUnits.ShouldBe(49_700);
        all.NetRevenue.MinorUnits.ShouldBe(52_400);
        all.AdSpend.MinorUnits.ShouldBe(50_000);
        all.CustomerAcquisitionCost.ShouldBe(new Money(25_000, Currency.USD));
        all.ReturnOnAdSpend.ShouldBe(Ratio.Of(102_100, 50_000));
        all.AverageOrderValue.ShouldBe(new Money(34_033, Currency.USD));
        report.RefundedOrders.ShouldBe(1);
        report.RefundRate.ShouldBe(Ratio.Of(1, 3));
        report.CustomerLifetimeValue.ShouldBe(new Money(51_050, Currency.USD));
    }

    [Fact]
    public void CreateReport_AmountInAnotherCurrency_ThrowsNamingBoth()
    {
        var error = Should.Throw<InvalidOperationException>(() => Report(View(1, 0), Order(1, 5, 100, currency: Currency.EUR)));

        error.Message.ShouldContain("EUR");
        error.Message.ShouldContain("USD");
        error.Message.ShouldContain("order_placed");
    }

    [Fact]
    public void CreateReport_AmountInAnotherCurrencyWithRates_ConvertsAtTheRateOfTheEventsDay()
    {
        // T0 is 2026-03-01 12:00 UTC: minute 5 falls on that day, minute 12 * 60 + 5 on the next, at a new rate.
        var rates = FixedExchangeRates.Empty
            .With(Currency.EUR, Currency.USD, 1.0850m)
            .With(Currency.EUR, Currency.USD, 1.1000m, new LocalDate(2026, 3, 2))
            .With(Currency.JPY, Currency.USD, 0.006667m);
        var reporter = new FunnelReporter(new FunnelReportSettings { ExchangeRates = rates });

        FunnelReport report = reporter.CreateReport(Funnel, [
            View(1, 0), OptIn(1, 1), Order(1, 5, 44_900, currency: Currency.EUR),
            View(2, 0), OptIn(2, 1), Order(2, (12 * 60) + 5, 44_900, currency: Currency.EUR),
            View(3, 0), OptIn(3, 1), Order(3, 7, 74_800, currency: Currency.JPY),
            View(4, 0), OptIn(4, 1), Order(4, 9, 49_700)]);

        // €449.00 × 1.085 = $487.165 → $487.16 (half to even); × 1.1 = $493.90; ¥74,800 × 0.006667 = $498.6916 → $498.69.
        report.Overall.Revenue.ShouldBe(new Money(48_716 + 49_390 + 49_869 + 49_700, Currency.USD));
    }

    [Fact]
    public void CreateReport_RatesWithoutThePair_ThrowsNamingThePairAndTheDate()
    {
        var rates = FixedExchangeRates.Empty.With(Currency.GBP, Currency.USD, 1.27m);
        var reporter = new FunnelReporter(new FunnelReportSettings { ExchangeRates = rates });

        var error = Should.Throw<InvalidOperationException>(() => reporter.CreateReport(Funnel, [View(1, 0), Order(1, 5, 100, currency: Currency.EUR)]));

        error.Message.ShouldContain("from EUR to USD on 2026-03-01");
    }

    [Fact]
    public void CreateReport_AmountInAnotherCurrencyWithoutRates_SaysHowToConvert()
    {
        var error = Should.Throw<InvalidOperationException>(() => Report(View(1, 0), Order(1, 5, 100, currency: Currency.EUR)));

        error.Message.ShouldContain("IExchangeRates");
    }

    [Fact]
    public void CreateReport_ByChannel_UsesFirstTouchAndSpendAttribution()
    {
        FunnelReport report = Report(
            View(1, 0, channel: "facebook", campaign: "launch"), OptIn(1, 5), Order(1, 6, 10_000) with { Attribution = new Attribution { Channel = "email" } },
            View(2, 0, channel: "google"), OptIn(2, 5),
            View(3, 0),
            Spend(4_000, "facebook", "launch"), Spend(6_000, "google"));

        report.ByChannel.Select(c => c.Segment).ShouldBe(["(none)", "facebook", "google"]);
        FunnelMetrics facebook = report.ByChannel[1];
        Counts(facebook).ShouldBe([1, 1, 0, 0, 0]);
        facebook.Revenue.MinorUnits.ShouldBe(10_000);
        facebook.AdSpend.MinorUnits.ShouldBe(4_000);
        facebook.ReturnOnAdSpend.ToDecimal().ShouldBe(2.5m);
        report.ByChannel[2].ReturnOnAdSpend.ShouldBe(Ratio.Of(0, 6_000));
        report.ByChannel[0].Entered.ShouldBe(1);
        report.ByCampaign.Select(c => c.Segment).ShouldBe(["(none)", "launch"]);
        report.ByChannel.Sum(c => c.Entered).ShouldBe(report.Overall.Entered);
    }

    [Fact]
    public void CreateReport_EmailMetrics_CountMessagesOnceAndOnlyWhenSent()
    {
        EmailSent Sent(int lead) => new() { LeadId = Lead(lead), OccurredAt = At(lead), Email = "n1" };
        EmailOpened Opened(int lead, string email = "n1") => new() { LeadId = Lead(lead), OccurredAt = At(lead), Email = email };
        EmailClicked Clicked(int lead) => new() { LeadId = Lead(lead), OccurredAt = At(lead), Email = "n1" };

        FunnelReport report = Report(
            Sent(1), Opened(1), Opened(1), Clicked(1),
            Sent(2), Clicked(2),
            Sent(3), new EmailBounced { LeadId = Lead(3), OccurredAt = At(3), Email = "n1" }, Opened(3),
            Sent(4), new EmailUnsubscribed { LeadId = Lead(4), OccurredAt = At(4), Email = "n1" },
            Opened(5, "never-sent"));

        EmailMetrics email = report.Email;
        email.Sent.ShouldBe(4);
        email.Bounced.ShouldBe(1);
        email.Delivered.ShouldBe(3);
        email.UniqueOpens.ShouldBe(2);
        email.UniqueClicks.ShouldBe(2);
        email.Unsubscribes.ShouldBe(1);
        email.OpenRate.ShouldBe(Ratio.Of(2, 3));
        email.ClickToOpenRate.ShouldBe(Ratio.Of(1, 1));
    }

    [Fact]
    public void CreateReport_OneLinkClickedManyTimes_CountsUniqueClicksPerMessageAndPerLink()
    {
        EmailClicked Clicked(int lead, string url) => new() { LeadId = Lead(lead), OccurredAt = At(lead), Email = "n1", Url = url };

        FunnelReport report = Report(
            new EmailSent { LeadId = Lead(1), OccurredAt = At(1), Email = "n1" },
            Clicked(1, "https://shop.example/sales"), Clicked(1, "https://shop.example/sales"), Clicked(1, "https://shop.example/sales"),
            Clicked(1, "https://shop.example/pricing"),
            new EmailSent { LeadId = Lead(2), OccurredAt = At(2), Email = "n1" },
            Clicked(2, "https://shop.example/sales"),
            Clicked(3, "https://shop.example/sales"));

        report.Email.UniqueClicks.ShouldBe(2);
        report.Email.UniqueLinkClicks.ShouldBe(3, "lead 1 clicked two links, lead 2 one; lead 3 was never sent the email");
    }

    [Fact]
    public void CreateReport_BounceRate_CountsEntryViewsWithNothingAfterThemWithinTheWindow()
    {
        FunnelReport report = Report(
            View(1, 0), OptIn(1, 10),
            View(2, 0), OptIn(2, 31),
            View(3, 0),
            View(4, 0, "/about"));

        report.EntryPageViews.ShouldBe(3);
        report.EntryPageBounces.ShouldBe(2);
        report.LandingPageBounceRate.ShouldBe(Ratio.Of(2, 3));
        new FunnelReporter(new FunnelReportSettings { BounceWindow = Duration.FromHours(1) })
            .CreateReport(Funnel, [View(2, 0), OptIn(2, 31)]).EntryPageBounces.ShouldBe(0);
    }

    [Fact]
    public void CreateReport_CartAbandonment_CountsCheckoutsWithoutALaterOrder()
    {
        FunnelReport report = Report(
            Checkout(1, 0), Order(1, 2, 100),
            Checkout(2, 0),
            Order(3, 0, 100), Checkout(3, 5));

        report.CheckoutsStarted.ShouldBe(3);
        report.CheckoutsAbandoned.ShouldBe(2);
        report.CartAbandonmentRate.ShouldBe(Ratio.Of(2, 3));
    }

    [Fact]
    public void CreateReport_Lifecycle_CountsLeadsByFinalStage()
    {
        FunnelReport report = Report(View(1, 0), View(2, 0), OptIn(2, 1), View(3, 0), OptIn(3, 1), Sales(3, 2), Order(3, 3, 100));

        report.Lifecycle[LifecycleStage.Visitor].ShouldBe(1);
        report.Lifecycle[LifecycleStage.Lead].ShouldBe(1);
        report.Lifecycle[LifecycleStage.Customer].ShouldBe(1);
        report.Lifecycle[LifecycleStage.Advocate].ShouldBe(0);
        report.Lifecycle.Values.Sum().ShouldBe(3);
    }

    [Fact]
    public void CreateReport_ReportsThePeriod()
    {
        FunnelReport report = Report(View(1, 30), View(2, -10), Spend(1, minute: 100));

        report.From.ShouldBe(At(-10));
        report.To.ShouldBe(At(100));
    }

    [Fact]
    public void CreateReport_NullArguments_Throw()
    {
        var reporter = new FunnelReporter();

        Should.Throw<ArgumentNullException>(() => reporter.CreateReport(null!, []));
        Should.Throw<ArgumentNullException>(() => reporter.CreateReport(Funnel, null!));
        Should.Throw<ArgumentNullException>(() => reporter.CreateReport(Funnel, [null!]));
    }

    [Fact]
    public void FromCounts_TheGuidesCaseStudy_GivesTheStepAndStageRates()
    {
        Money usd(long dollars) => Money.FromMajor(dollars, Currency.USD);

        FunnelMetrics metrics = FunnelMetrics.FromCounts(
            "ads", Funnel, [50_000, 5_000, 1_000, 200, 50], orders: 50, customers: 50, usd(24_850), Money.Zero(Currency.USD), usd(10_000));

        metrics.Segment.ShouldBe("ads");
        metrics.Steps.Select(s => s.FromPrevious).ShouldBe([Ratio.Undefined, Ratio.Of(5_000, 50_000), Ratio.Of(1_000, 5_000), Ratio.Of(200, 1_000), Ratio.Of(50, 200)]);
        metrics.Steps[^1].FromStart.ToDecimal().ShouldBe(0.001m);
        metrics.Stages.Select(s => s.Reached).ShouldBe([50_000, 5_000, 1_000, 50, null]);
        metrics.Stages[1].FromPrevious.ShouldBe(Ratio.Of(5_000, 50_000));
        metrics.CustomerAcquisitionCost.ShouldBe(usd(200));
        metrics.ReturnOnAdSpend.ToDecimal().ShouldBe(2.485m);
    }

    [Fact]
    public void FromCounts_NotOneCountPerStep_ThrowsNamingReached()
    {
        Should.Throw<ArgumentException>(() => FunnelMetrics.FromCounts(null, Funnel, [1, 2], 0, 0, default, default, default))
            .Message.ShouldContain("Reached: 2 counts for a funnel of 5 steps");
    }
}
