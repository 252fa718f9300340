using Funnel.Events;
using Funnel.Kpis;
using Funnel.Subscriptions;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using static Funnel.Tests.Subscriptions.SubscriptionEventKit;

namespace Funnel.Tests.Subscriptions;

/// <summary>Builds subscription events as the engine records them, for the metrics' tests.</summary>
internal static class SubscriptionEventKit
{
    public static readonly Instant T0 = Instant.FromUtc(2026, 10, 1, 0, 0);
    public static readonly Currency Usd = Currency.USD;
    public static readonly Currency Eur = Currency.EUR;
    public static readonly OfferId Monthly = new("community-monthly");
    public static readonly OfferId Yearly = new("community-yearly");
    public static readonly OfferId Pro = new("community-pro");

    public static Money Dollars(decimal amount) => Money.FromMajor(amount, Usd);

    public static Instant Day(int day) => T0 + Duration.FromDays(day);

    public static SubscriptionStarted Started(
        SubscriptionId s, Instant at, Money price, bool trial = false, BillingInterval interval = BillingInterval.Month, OfferId? offer = null) => new()
    {
        LeadId = LeadOf(s),
        OccurredAt = at,
        Subscription = s,
        Offer = offer ?? Monthly,
        Interval = interval,
        Price = price,
        MonthlyAmount = RecurringRevenue.MonthlyAmount(price, interval),
        TrialEndsAt = trial ? at + Duration.FromDays(14) : null,
        PeriodEnd = at + Duration.FromDays(trial ? 14 : 30),
        AmountPaid = trial ? Money.Zero(price.Currency) : price,
    };

    public static SubscriptionTrialConverted Converted(SubscriptionId s, Instant at, Money monthly) => new()
    {
        LeadId = LeadOf(s),
        OccurredAt = at,
        Subscription = s,
        Offer = Monthly,
        Amount = monthly,
        MonthlyAmount = monthly,
        PeriodEnd = at + Duration.FromDays(30),
        PaymentId = "pi_" + at.ToUnixTimeSeconds(),
    };

    public static SubscriptionPlanChanged Changed(SubscriptionId s, Instant at, Money from, Money to, OfferId? offer = null) => new()
    {
        LeadId = LeadOf(s),
        OccurredAt = at,
        Subscription = s,
        FromOffer = Monthly,
        ToOffer = offer ?? Pro,
        FromMonthlyAmount = from,
        ToMonthlyAmount = to,
        Interval = BillingInterval.Month,
        Price = to,
        Proration = Money.Zero(to.Currency),
    };

    public static SubscriptionPaused Paused(SubscriptionId s, Instant at) =>
        new() { LeadId = LeadOf(s), OccurredAt = at, Subscription = s, Offer = Monthly };

    public static SubscriptionResumed Resumed(SubscriptionId s, Instant at, Money monthly) =>
        new() { LeadId = LeadOf(s), OccurredAt = at, Subscription = s, Offer = Monthly, MonthlyAmount = monthly, PeriodEnd = at + Duration.FromDays(30) };

    public static SubscriptionCancelScheduled CancelScheduled(SubscriptionId s, Instant at, Instant endsAt) =>
        new() { LeadId = LeadOf(s), OccurredAt = at, Subscription = s, Offer = Monthly, EndsAt = endsAt };

    public static SubscriptionRenewed Renewed(SubscriptionId s, Instant at, Money amount) => new()
    {
        LeadId = LeadOf(s),
        OccurredAt = at,
        Subscription = s,
        Offer = Monthly,
        Amount = amount,
        PeriodStart = at,
        PeriodEnd = at + Duration.FromDays(30),
        PaymentId = "pi_r" + at.ToUnixTimeSeconds(),
    };

    public static SubscriptionPaymentFailed PaymentFailed(SubscriptionId s, Instant at, Money amount) =>
        new() { LeadId = LeadOf(s), OccurredAt = at, Subscription = s, Offer = Monthly, Amount = amount, Attempt = 1 };

    public static SubscriptionEnded Ended(SubscriptionId s, Instant at, Money monthly, SubscriptionEndReason reason = SubscriptionEndReason.Canceled) =>
        new() { LeadId = LeadOf(s), OccurredAt = at, Subscription = s, Offer = Monthly, Reason = reason, MonthlyAmount = monthly };

    /// <summary>The lead of a subscription in these tests: one lead per subscription.</summary>
    public static LeadId LeadOf(SubscriptionId s) => new(s.Value);
}

public sealed class SubscriptionMetricsTests
{
    private static readonly Money Fee = SubscriptionEventKit.Dollars(49m);

    [Fact]
    public void For_OneTrialConvertsOneLapses_ConversionIsOneHalfAndTheLapseChurnsNothing()
    {
        SubscriptionId ada = SubscriptionId.New(), bob = SubscriptionId.New();
        FunnelEvent[] events =
        [
            Started(ada, Day(0), Fee, trial: true),
            Started(bob, Day(1), Fee, trial: true),
            Converted(ada, Day(14), Fee),
            Ended(bob, Day(15), Fee, SubscriptionEndReason.TrialLapsed),
        ];
        SubscriptionMetrics metrics = SubscriptionMetrics.Create(events);

        RecurringRevenueReport window = metrics.For(Day(0), Day(30));

        window.TrialsStarted.ShouldBe(2);
        window.TrialsConverted.ShouldBe(1);
        window.TrialsLapsed.ShouldBe(1);
        window.TrialConversion.ShouldBe(Ratio.Of(1, 2));
        RecurringRevenueMovement usd = window.Movement(Usd);
        usd.New.ShouldBe(Fee);
        usd.Churned.ShouldBe(Dollars(0m));
        usd.Ending.ShouldBe(Fee);
        window.ChurnedSubscribers.ShouldBe(0);
        metrics.MonthlyRecurringRevenue(Day(13), Usd).ShouldBe(Dollars(0m));   // a trial counts for nothing yet
        metrics.At(Day(13)).TrialingSubscribers.ShouldBe(2);
        metrics.At(Day(16)).ShouldSatisfyAllConditions(
            s => s.ActiveSubscribers.ShouldBe(1),
            s => s.TrialingSubscribers.ShouldBe(0));
    }

    [Fact]
    public void For_UpgradeAndDowngrade_AreExpansionAndContraction()
    {
        SubscriptionId ada = SubscriptionId.New(), bob = SubscriptionId.New();
        FunnelEvent[] events =
        [
            Started(ada, Day(0), Fee),
            Started(bob, Day(0), Dollars(99m)),
            Changed(ada, Day(40), Fee, Dollars(99m)),
            Changed(bob, Day(45), Dollars(99m), Fee),
        ];
        SubscriptionMetrics metrics = SubscriptionMetrics.Create(events);

        RecurringRevenueMovement usd = metrics.For(Day(31), Day(61)).Movement(Usd);

        usd.Starting.ShouldBe(Dollars(148m));
        usd.Expansion.ShouldBe(Dollars(50m));
        usd.Contraction.ShouldBe(Dollars(50m));
        usd.New.ShouldBe(Dollars(0m));
        usd.Ending.ShouldBe(Dollars(148m));
        usd.NetRevenueRetention.ShouldBe(Ratio.Of(1, 1));
        metrics.MonthlyRecurringRevenue(Day(41), Usd).ShouldBe(Dollars(198m));
    }

    [Fact]
    public void For_CancelAtPeriodEnd_CountsUntilTheEndedEvent()
    {
        SubscriptionId ada = SubscriptionId.New();
        FunnelEvent[] events =
        [
            Started(ada, Day(0), Fee),
            CancelScheduled(ada, Day(10), Day(30)),
            Ended(ada, Day(30), Fee, SubscriptionEndReason.CanceledAtPeriodEnd),
        ];
        SubscriptionMetrics metrics = SubscriptionMetrics.Create(events);

        metrics.MonthlyRecurringRevenue(Day(29), Usd).ShouldBe(Fee);
        metrics.MonthlyRecurringRevenue(Day(30), Usd).ShouldBe(Fee);   // the event at the instant belongs to the next window
        metrics.MonthlyRecurringRevenue(Day(30) + Duration.Epsilon, Usd).ShouldBe(Dollars(0m));
        RecurringRevenueReport window = metrics.For(Day(1), Day(31));
        window.Movement(Usd).Churned.ShouldBe(Fee);
        window.Movement(Usd).RevenueChurn.ShouldBe(Ratio.Of(1, 1));
        window.LogoChurn.ShouldBe(Ratio.Of(1, 1));
        window.Movement(Usd).NetRevenueRetention.ShouldBe(Ratio.Of(0, 1));
    }

    [Fact]
    public void For_PauseAndResume_ArePausedAndReactivationLines()
    {
        SubscriptionId ada = SubscriptionId.New(), bob = SubscriptionId.New();
        FunnelEvent[] events =
        [
            Started(ada, Day(0), Fee),
            Started(bob, Day(0), Fee),
            Paused(ada, Day(5)),
            Paused(bob, Day(6)),
            Resumed(ada, Day(20), Fee),
        ];
        SubscriptionMetrics metrics = SubscriptionMetrics.Create(events);

        RecurringRevenueReport window = metrics.For(Day(1), Day(31));

        RecurringRevenueMovement usd = window.Movement(Usd);
        usd.Paused.ShouldBe(Dollars(98m));
        usd.Reactivation.ShouldBe(Fee);
        usd.Ending.ShouldBe(Fee);
        usd.Retained.ShouldBe(Fee);
        usd.NetRevenueRetention.ShouldBe(Ratio.Of(1, 2));
        usd.Churned.ShouldBe(Dollars(0m));
        window.End.PausedSubscribers.ShouldBe(1);
        window.End.ActiveSubscribers.ShouldBe(1);
        metrics.MonthlyRecurringRevenue(Day(10), Usd).ShouldBe(Dollars(0m));
    }

    [Fact]
    public void For_EndWhilePaused_ChurnsTheSubscriberButNoMoreMoney()
    {
        SubscriptionId ada = SubscriptionId.New();
        FunnelEvent[] events = [Started(ada, Day(0), Fee), Paused(ada, Day(5)), Ended(ada, Day(9), Fee)];

        RecurringRevenueReport window = SubscriptionMetrics.Create(events).For(Day(1), Day(31));

        window.Movement(Usd).Paused.ShouldBe(Fee);
        window.Movement(Usd).Churned.ShouldBe(Dollars(0m));
        window.ChurnedSubscribers.ShouldBe(1);
        window.LogoChurn.ShouldBe(Ratio.Of(1, 1));
    }

    [Fact]
    public void Create_YearlyPlan_CountsATwelfthOfThePrice()
    {
        SubscriptionId ada = SubscriptionId.New();

        SubscriptionMetrics metrics = SubscriptionMetrics.Create([Started(ada, Day(0), Dollars(990m), interval: BillingInterval.Year)]);

        metrics.MonthlyRecurringRevenue(Day(1), Usd).ShouldBe(Dollars(82.50m));
    }

    [Fact]
    public void Create_TwoCurrencies_KeepsThemApart()
    {
        SubscriptionId ada = SubscriptionId.New(), bob = SubscriptionId.New(), cy = SubscriptionId.New();
        Money euros = Money.FromMajor(45m, Eur);
        FunnelEvent[] events =
        [
            Started(ada, Day(0), Fee),
            Started(bob, Day(0), euros),
            Started(cy, Day(2), euros),
            Ended(bob, Day(3), euros),
        ];
        SubscriptionMetrics metrics = SubscriptionMetrics.Create(events);

        metrics.Currencies.ShouldBe([Eur, Usd]);
        RecurringRevenueSnapshot at = metrics.At(Day(4));
        at.MonthlyRecurringRevenue.ShouldBe([euros, Fee]);
        at.Mrr(Currency.GBP).ShouldBe(Money.Zero(Currency.GBP));
        RecurringRevenueReport window = metrics.For(Day(1), Day(5));
        window.Movement(Eur).ShouldSatisfyAllConditions(
            m => m.Starting.ShouldBe(euros),
            m => m.New.ShouldBe(euros),
            m => m.Churned.ShouldBe(euros),
            m => m.Ending.ShouldBe(euros),
            m => m.LogoChurn.ShouldBe(Ratio.Of(1, 1)));
        window.Movement(Usd).ShouldSatisfyAllConditions(
            m => m.Starting.ShouldBe(Fee),
            m => m.Ending.ShouldBe(Fee),
            m => m.LogoChurn.ShouldBe(Ratio.Of(0, 1)));
        window.LogoChurn.ShouldBe(Ratio.Of(1, 2));
    }

    [Fact]
    public void Create_RepeatedEventIds_CountOnce()
    {
        SubscriptionId ada = SubscriptionId.New();
        SubscriptionStarted start = Started(ada, Day(0), Fee);
        SubscriptionPlanChanged upgrade = Changed(ada, Day(3), Fee, Dollars(99m));

        SubscriptionMetrics metrics = SubscriptionMetrics.Create([start, start, upgrade, upgrade with { }]);

        metrics.EventCount.ShouldBe(2);
        metrics.For(Day(0), Day(5)).Movement(Usd).ShouldSatisfyAllConditions(
            m => m.New.ShouldBe(Fee),
            m => m.Expansion.ShouldBe(Dollars(50m)),
            m => m.Ending.ShouldBe(Dollars(99m)));
    }

    [Fact]
    public void Create_EventsOutOfOrder_AreReplayedByInstant()
    {
        SubscriptionId ada = SubscriptionId.New();
        FunnelEvent[] inOrder =
        [
            Started(ada, Day(0), Fee, trial: true),
            Converted(ada, Day(14), Fee),
            Changed(ada, Day(20), Fee, Dollars(99m)),
            Paused(ada, Day(25)),
            Resumed(ada, Day(35), Dollars(99m)),
        ];

        SubscriptionMetrics metrics = SubscriptionMetrics.Create(inOrder.Reverse());

        metrics.FirstEventAt.ShouldBe(Day(0));
        metrics.LastEventAt.ShouldBe(Day(35));
        RecurringRevenueMovement usd = metrics.For(Day(0), Day(40)).Movement(Usd);
        usd.New.ShouldBe(Fee);
        usd.Expansion.ShouldBe(Dollars(50m));
        usd.Paused.ShouldBe(Dollars(99m));
        usd.Reactivation.ShouldBe(Dollars(99m));
        usd.Ending.ShouldBe(Dollars(99m));
    }

    [Fact]
    public void For_NewSubscriptionsInTheWindow_AreLeftOutOfRetention()
    {
        SubscriptionId ada = SubscriptionId.New(), bob = SubscriptionId.New(), cy = SubscriptionId.New();
        FunnelEvent[] events =
        [
            Started(ada, Day(0), Fee),
            Started(bob, Day(0), Dollars(99m)),
            Changed(ada, Day(35), Fee, Dollars(99m)),        // +50 expansion
            Ended(bob, Day(40), Dollars(99m)),                // −99 churn
            Started(cy, Day(41), Dollars(500m)),              // new: not retention
        ];

        RecurringRevenueReport window = SubscriptionMetrics.Create(events).For(Day(30), Day(60));

        RecurringRevenueMovement usd = window.Movement(Usd);
        usd.Starting.ShouldBe(Dollars(148m));
        usd.Retained.ShouldBe(Dollars(99m));
        usd.NetRevenueRetention.ShouldBe(Ratio.Of(99_00, 148_00));
        usd.RevenueChurn.ShouldBe(Ratio.Of(99_00, 148_00));
        usd.Ending.ShouldBe(Dollars(599m));
        window.SubscribersAtStart.ShouldBe(2);
        window.ChurnedSubscribers.ShouldBe(1);
        window.LogoChurn.ShouldBe(Ratio.Of(1, 2));
        window.SubscriptionsStarted.ShouldBe(1);
    }

    [Fact]
    public void Monthly_InAZone_CutsAtLocalMidnightAndChainsTheMonths()
    {
        DateTimeZone newYork = DateTimeZoneProviders.Tzdb["America/New_York"];
        SubscriptionId ada = SubscriptionId.New(), bob = SubscriptionId.New();
        FunnelEvent[] events =
        [
            Started(ada, Instant.FromUtc(2026, 10, 15, 12, 0), Fee),
            Started(bob, Instant.FromUtc(2026, 11, 1, 2, 0), Dollars(99m)),   // still October 31 in New York
            Ended(ada, Instant.FromUtc(2026, 12, 3, 12, 0), Fee),
        ];

        var months = SubscriptionMetrics.Create(events).Monthly(newYork);

        months.Select(m => m.From).ShouldBe(
        [
            Instant.FromUtc(2026, 10, 1, 4, 0),
            Instant.FromUtc(2026, 11, 1, 4, 0),
            Instant.FromUtc(2026, 12, 1, 5, 0),
        ]);
        months.Select(m => m.Movement(Usd).New).ShouldBe([Dollars(148m), Dollars(0m), Dollars(0m)]);
        months.Select(m => m.Movement(Usd).Ending).ShouldBe([Dollars(148m), Dollars(148m), Dollars(99m)]);
        months[1].Movement(Usd).Starting.ShouldBe(months[0].Movement(Usd).Ending);
        months[2].To.ShouldBe(Instant.FromUtc(2027, 1, 1, 5, 0));
    }

    [Fact]
    public void Create_PlanChangeToAnotherCurrency_Throws()
    {
        SubscriptionId ada = SubscriptionId.New();
        FunnelEvent[] events = [Started(ada, Day(0), Fee), Changed(ada, Day(1), Fee, Money.FromMajor(45m, Eur))];

        Should.Throw<InvalidOperationException>(() => SubscriptionMetrics.Create(events)).Message.ShouldContain("EUR");
    }

    [Fact]
    public void For_EndBeforeStart_Throws()
    {
        SubscriptionMetrics metrics = SubscriptionMetrics.Create([]);

        Should.Throw<ArgumentOutOfRangeException>(() => metrics.For(Day(2), Day(1)));
        metrics.Monthly().ShouldBeEmpty();
        metrics.For(Day(1), Day(2)).TrialConversion.IsDefined.ShouldBeFalse();
    }

    [Fact]
    public void ReportSection_InAFunnelReport_KeepsTheSubscriptionEvents()
    {
        SubscriptionId ada = SubscriptionId.New();
        FunnelEvent[] events = [Started(ada, Day(0), Fee, trial: true), Converted(ada, Day(14), Fee)];
        var reporter = new FunnelReporter(new FunnelReportSettings { Sections = [SubscriptionMetrics.ReportSection] });

        FunnelReport report = reporter.CreateReport(Funnel.Samples.EbookMasterclass.MasterclassScenario.Funnel, events);

        SubscriptionMetrics metrics = report.Section<SubscriptionMetrics>().ShouldNotBeNull();
        metrics.EventCount.ShouldBe(2);
        metrics.MonthlyRecurringRevenue(Day(15), Usd).ShouldBe(Fee);
    }

    [Fact]
    public void AddFunnelSubscriptionMetrics_CalledTwice_RegistersTheSectionOnce()
    {
        var services = new ServiceCollection();

        services.AddFunnelSubscriptionMetrics().AddFunnelSubscriptionMetrics();

        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetServices<IFunnelReportSection>().Count(s => s.Key == SubscriptionMetrics.SectionKey).ShouldBe(1);
        FunnelReport report = provider.GetRequiredService<IFunnelReporter>().CreateReport(
            Funnel.Samples.EbookMasterclass.MasterclassScenario.Funnel, [Started(SubscriptionId.New(), Day(0), Fee)]);
        report.Section<SubscriptionMetrics>()!.MonthlyRecurringRevenue(Day(1), Usd).ShouldBe(Fee);
    }
}
