using System.Collections.Immutable;
using FluentValidation;
using Funnel.Advocacy;
using Funnel.Events;
using NodaTime;
using NodaTime.Testing;
using static Funnel.Tests.Advocacy.AdvocacyTestKit;

namespace Funnel.Tests.Advocacy;

public class AffiliateProgramTests
{
    [Fact]
    public void Enrol_NewLead_IsPendingAndEmitsApplied()
    {
        var program = InMemoryEngines.Affiliates(Settings(), new FakeClock(T0));

        var (affiliate, events) = program.Enrol(Lead(1), "sarah");

        affiliate.Status.ShouldBe(AffiliateStatus.Pending);
        events.ShouldHaveSingleItem().ShouldBeOfType<AffiliateApplied>().Subject.ShouldBe("sarah");
    }

    [Fact]
    public void Enrol_TakenCodeOrInvalidCode_Throws()
    {
        var program = InMemoryEngines.Affiliates(Settings(), new FakeClock(T0));
        program.Enrol(Lead(1), "sarah");

        Should.Throw<ArgumentException>(() => program.Enrol(Lead(2), "sarah")).Message.ShouldContain("taken");
        Should.Throw<ArgumentException>(() => program.Enrol(Lead(3), "Not A Key")).ParamName.ShouldBe("code");
        Should.Throw<ArgumentException>(() => program.Enrol(Lead(1), "other")).ParamName.ShouldBe("lead");
    }

    [Fact]
    public void RecordClick_PendingAffiliate_IsNotTracked()
    {
        var program = InMemoryEngines.Affiliates(Settings(), new FakeClock(T0));
        program.Enrol(Lead(1), "sarah");

        program.RecordClick("sarah", Lead(2)).ShouldBeEmpty();
        program.Apply(Placed(2, 1, Usd(497), T0)).ShouldBeEmpty();
    }

    [Fact]
    public void LinkFor_PageWithQuery_AppendsRef()
    {
        var (program, affiliate, _) = ProgramWithAffiliate();

        program.LinkFor(affiliate.Id, new Uri("https://example.com/masterclass?utm_source=x")).ToString()
            .ShouldBe("https://example.com/masterclass?utm_source=x&ref=sarah");
    }

    [Fact]
    public void Apply_OrderWithinCookieWindow_AttributesToLastClick()
    {
        var (program, sarah, clock) = ProgramWithAffiliate();
        Affiliate tom = program.Decide(program.Enrol(Lead(3), "tom").Affiliate.Id, true).Affiliate;
        program.RecordClick("sarah", Lead(2));
        clock.Advance(Duration.FromDays(1));
        program.RecordClick("tom", Lead(2));

        ImmutableArray<FunnelEvent> events = program.Apply(Placed(2, 1, Usd(497), clock.GetCurrentInstant()));

        events.ShouldHaveSingleItem().ShouldBeOfType<AffiliateSaleAttributed>().Code.ShouldBe("tom");
        program.AttributedTo(OrderNo(1)).ShouldBe(tom.Id);
        program.Stats(sarah.Id).Conversions.ShouldBe(0);
    }

    [Fact]
    public void Apply_FirstClickModel_AttributesToFirstClick()
    {
        var (program, sarah, clock) = ProgramWithAffiliate(Settings(model: AffiliateAttributionModel.FirstClick));
        program.Decide(program.Enrol(Lead(3), "tom").Affiliate.Id, true);
        program.RecordClick("sarah", Lead(2));
        clock.Advance(Duration.FromDays(1));
        program.RecordClick("tom", Lead(2));

        program.Apply(Placed(2, 1, Usd(497), clock.GetCurrentInstant()));

        program.AttributedTo(OrderNo(1)).ShouldBe(sarah.Id);
    }

    [Fact]
    public void Apply_ClicksAtTheSameInstant_LastRecordedWinsForLastClick()
    {
        var (program, _, clock) = ProgramWithAffiliate();
        Affiliate tom = program.Decide(program.Enrol(Lead(3), "tom").Affiliate.Id, true).Affiliate;
        program.RecordClick("sarah", Lead(2));
        program.RecordClick("tom", Lead(2));

        program.Apply(Placed(2, 1, Usd(497), clock.GetCurrentInstant()));

        program.AttributedTo(OrderNo(1)).ShouldBe(tom.Id);
    }

    [Fact]
    public void Apply_ClickOlderThanCookieWindow_IsNotAttributed()
    {
        var (program, _, clock) = ProgramWithAffiliate();
        program.RecordClick("sarah", Lead(2));
        clock.Advance(Duration.FromDays(30) + Duration.FromSeconds(1));

        program.Apply(Placed(2, 1, Usd(497), clock.GetCurrentInstant())).ShouldBeEmpty();
        program.AttributedTo(OrderNo(1)).ShouldBeNull();
    }

    [Fact]
    public void Apply_ClickExactlyAtWindowStart_IsAttributed()
    {
        var (program, _, clock) = ProgramWithAffiliate();
        program.RecordClick("sarah", Lead(2));
        clock.Advance(Duration.FromDays(30));

        program.Apply(Placed(2, 1, Usd(497), clock.GetCurrentInstant())).ShouldHaveSingleItem();
    }

    [Fact]
    public void Apply_BuyerUsesOwnLink_IsNeverPaid()
    {
        var (program, sarah, clock) = ProgramWithAffiliate();

        program.RecordClick("sarah", Lead(1)).ShouldBeEmpty();
        program.Apply(Placed(1, 1, Usd(497), clock.GetCurrentInstant())).ShouldBeEmpty();
        program.Apply(Paid(1, 1, Usd(497), clock.GetCurrentInstant())).ShouldBeEmpty();
        program.Stats(sarah.Id).Commission.ShouldBe(Usd(0));
    }

    [Fact]
    public void Apply_PaymentPlan_EarnsCommissionOnEachInstallment()
    {
        var (program, sarah, clock) = ProgramWithAffiliate();
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Usd(540), T0));

        var amounts = new List<Money>();
        for (int k = 0; k < 3; k++)
        {
            amounts.Add(program.Apply(Paid(2, 1, Usd(180), T0 + Duration.FromDays(30 * k))).ShouldHaveSingleItem().ShouldBeOfType<CommissionEarned>().Amount);
        }

        amounts.ShouldBe([Usd(54), Usd(54), Usd(54)]);
        program.Ledger(sarah.Id).Length.ShouldBe(3);
        program.Ledger(sarah.Id).ShouldAllBe(e => e.Status == CommissionStatus.Pending);
    }

    [Fact]
    public void Apply_PercentageThatDoesNotDivide_RoundsCumulativelySoTheSumIsExact()
    {
        var (program, sarah, _) = ProgramWithAffiliate(Settings(percent: 33.3333m));
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Cents(1000), T0));

        program.Apply(Paid(2, 1, Cents(333), T0));
        program.Apply(Paid(2, 1, Cents(333), T0));
        program.Apply(Paid(2, 1, Cents(334), T0));

        program.Ledger(sarah.Id).Select(e => e.Amount.MinorUnits).ShouldBe([111, 111, 111]);
        program.Stats(sarah.Id).Commission.ShouldBe(Cents(1000).Percentage(33.3333m, MidpointRounding.AwayFromZero));
    }

    [Fact]
    public void Apply_FixedCommissionOnPlan_SpreadsOverInstallmentsAndSumsToTheFixedAmount()
    {
        var rules = ImmutableArray.Create(new CommissionRule { Fixed = Usd(100) });
        var (program, sarah, _) = ProgramWithAffiliate(Settings(rules: rules));
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Usd(540), T0));

        for (int k = 0; k < 3; k++)
        {
            program.Apply(Paid(2, 1, Usd(180), T0));
        }

        program.Ledger(sarah.Id).Select(e => e.Amount).ShouldBe([Cents(3333), Cents(3334), Cents(3333)]);
        program.Stats(sarah.Id).Commission.ShouldBe(Usd(100));
    }

    [Fact]
    public void Apply_PerProductRuleAndVolumeTiers_UseTheRuleOfTheOfferAndTheSaleNumber()
    {
        ImmutableArray<CommissionRule> rules =
        [
            new CommissionRule { Percent = 10m },
            new CommissionRule { Offer = "masterclass", Percent = 30m, Tiers = [new CommissionTier { FromSale = 2, Percent = 50m }] },
        ];
        var (program, sarah, _) = ProgramWithAffiliate(Settings(rules: rules));
        for (int buyer = 2; buyer <= 4; buyer++)
        {
            program.RecordClick("sarah", Lead(buyer));
        }

        program.Apply(Placed(2, 1, Usd(100), T0));
        program.Apply(Placed(3, 2, Usd(100), T0));
        program.Apply(Placed(4, 3, Usd(100), T0, offer: "workbook"));
        program.Apply(Paid(2, 1, Usd(100), T0));
        program.Apply(Paid(3, 2, Usd(100), T0));
        program.Apply(Paid(4, 3, Usd(100), T0));

        program.Ledger(sarah.Id).Select(e => e.Amount).ShouldBe([Usd(30), Usd(50), Usd(10)]);
    }

    [Fact]
    public void Apply_FullRefundInsideWindow_ClawsBackThePendingCommission()
    {
        var (program, sarah, clock) = ProgramWithAffiliate();
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Usd(497), T0));
        program.Apply(Paid(2, 1, Usd(497), T0));

        clock.Advance(Duration.FromDays(10));
        program.Apply(Refunded(2, 1, Usd(497), clock.GetCurrentInstant())).ShouldHaveSingleItem().ShouldBeOfType<CommissionClawedBack>().Amount.ShouldBe(Usd(149.10m));

        clock.Advance(Duration.FromDays(30));
        program.ApproveCleared().ShouldBeEmpty();
        program.PayOut(sarah.Id).Payout.ShouldBeNull();
        program.Stats(sarah.Id).Commission.ShouldBe(Usd(0));
    }

    [Fact]
    public void Apply_ReplayedPaymentAndRefund_EarnAndClawBackOnce()
    {
        var (program, sarah, _) = ProgramWithAffiliate();
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Usd(600), T0));
        PaymentSucceeded first = Paid(2, 1, Usd(300), T0);
        RefundIssued refund = Refunded(2, 1, Usd(150), T0);

        program.Apply(first).ShouldHaveSingleItem().ShouldBeOfType<CommissionEarned>().Amount.ShouldBe(Usd(90));
        program.Apply(first).ShouldBeEmpty();                        // a retried webhook: same event id
        program.Apply(refund).ShouldHaveSingleItem().ShouldBeOfType<CommissionClawedBack>().Amount.ShouldBe(Usd(45));
        program.Apply(refund).ShouldBeEmpty();

        program.Stats(sarah.Id).Commission.ShouldBe(Usd(45));
        program.Apply(Paid(2, 1, Usd(300), T0)).ShouldHaveSingleItem().ShouldBeOfType<CommissionEarned>().Amount.ShouldBe(Usd(90));
    }

    [Fact]
    public void Apply_PartialRefund_ClawsBackProportionallyRoundedHalfAwayFromZero()
    {
        var (program, sarah, _) = ProgramWithAffiliate();
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Cents(1001), T0));
        program.Apply(Paid(2, 1, Cents(1001), T0));                 // 30% of 10.01 = 3.003 -> 3.00

        program.Apply(Refunded(2, 1, Cents(500), T0));               // 300 x 500 / 1001 = 149.85 -> 150
        program.Apply(Refunded(2, 1, Cents(501), T0));               // full: 300 in all -> 150 more

        program.Ledger(sarah.Id).Single().ClawedBack.ShouldBe(Cents(300));
        program.Stats(sarah.Id).Commission.ShouldBe(Cents(0));
    }

    [Fact]
    public void ApproveCleared_AfterRefundWindow_ApprovesAndPayOutPaysTheBalance()
    {
        var (program, sarah, clock) = ProgramWithAffiliate(Settings(minimumPayout: Usd(50)));
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Usd(497), T0));
        program.Apply(Paid(2, 1, Usd(497), T0));

        clock.Advance(Duration.FromDays(30) - Duration.FromSeconds(1));
        program.ApproveCleared().ShouldBeEmpty();
        clock.Advance(Duration.FromSeconds(1));
        program.ApproveCleared().ShouldHaveSingleItem().ShouldBeOfType<CommissionApproved>();

        var (payout, events) = program.PayOut(sarah.Id);

        payout.ShouldNotBeNull().Amount.ShouldBe(Usd(149.10m));
        events.ShouldHaveSingleItem().ShouldBeOfType<AffiliatePaidOut>();
        program.Ledger(sarah.Id).ShouldAllBe(e => e.Status == CommissionStatus.Paid && e.Payout == payout.Id);
        program.PayOut(sarah.Id).Payout.ShouldBeNull();
    }

    [Fact]
    public void PayOut_BalanceBelowMinimum_PaysNothing()
    {
        var (program, sarah, clock) = ProgramWithAffiliate(Settings(minimumPayout: Usd(200)));
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Usd(497), T0));
        program.Apply(Paid(2, 1, Usd(497), T0));
        clock.Advance(Duration.FromDays(31));
        program.ApproveCleared();

        program.PayOut(sarah.Id).Payout.ShouldBeNull();
    }

    [Fact]
    public void Apply_RefundAfterPayout_BecomesADebtDeductedFromTheNextPayout()
    {
        var (program, sarah, clock) = ProgramWithAffiliate();
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Usd(100), T0));
        program.Apply(Paid(2, 1, Usd(100), T0));
        clock.Advance(Duration.FromDays(31));
        program.ApproveCleared();
        program.PayOut(sarah.Id).Payout.ShouldNotBeNull().Amount.ShouldBe(Usd(30));

        program.Apply(Refunded(2, 1, Usd(100), clock.GetCurrentInstant()));
        program.Ledger(sarah.Id).Last().Amount.ShouldBe(Usd(-30));
        program.PayOut(sarah.Id).Payout.ShouldBeNull();
        program.RecordClick("sarah", Lead(3));
        program.Apply(Placed(3, 2, Usd(200), clock.GetCurrentInstant()));
        program.Apply(Paid(3, 2, Usd(200), clock.GetCurrentInstant()));
        clock.Advance(Duration.FromDays(31));
        program.ApproveCleared();

        program.PayOut(sarah.Id).Payout.ShouldNotBeNull().Amount.ShouldBe(Usd(30));
        program.Stats(sarah.Id).Paid.ShouldBe(Usd(60));
        program.Stats(sarah.Id).Commission.ShouldBe(Usd(60));
    }

    [Fact]
    public void Stats_ClicksAndSales_ComputeEpcAndCostPerSale()
    {
        var (program, sarah, _) = ProgramWithAffiliate();
        for (int visitor = 2; visitor <= 5; visitor++)
        {
            program.RecordClick("sarah", Lead(visitor));
        }

        program.Apply(Placed(2, 1, Usd(497), T0));
        program.Apply(Paid(2, 1, Usd(497), T0));

        AffiliateStats stats = program.Stats(sarah.Id);

        stats.Clicks.ShouldBe(4);
        stats.Conversions.ShouldBe(1);
        stats.Sales.ShouldBe(Usd(497));
        stats.EarningsPerClick.ShouldBe(Usd(37.28m));       // 149.10 / 4 = 37.275 -> 37.28
        stats.CommissionCostPerSale.ShouldBe(Usd(149.10m));
        stats.ConversionRate.ShouldBe(Ratio.Of(1, 4));
    }

    [Fact]
    public void Constructor_InvalidSettings_NamesTheField()
    {
        var settings = Settings() with { Rules = [new CommissionRule { Percent = 120m }, new CommissionRule { Offer = "x", Percent = 5m, Fixed = Usd(1) }] };

        var error = Should.Throw<ValidationException>(() => InMemoryEngines.Affiliates(settings, new FakeClock(T0)));

        error.Errors.ShouldContain(e => e.PropertyName == "Rules[0].Percent");
        error.Errors.ShouldContain(e => e.PropertyName.StartsWith("Rules[1]", StringComparison.Ordinal));
    }
}
