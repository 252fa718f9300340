using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Offers;
using NodaTime;
using NodaTime.Testing;
using static Funnel.Tests.Advocacy.AdvocacyTestKit;

namespace Funnel.Tests.Advocacy;

public class ReferralProgramTests
{
    private static readonly EmailAddress Alice = EmailAddress.Parse("alice@example.com");
    private static readonly EmailAddress Bob = EmailAddress.Parse("bob@example.com");

    private static (ReferralProgram Program, FakeClock Clock, string Code) Program()
    {
        var clock = new FakeClock(T0);
        var program = InMemoryEngines.Referrals(new ReferralProgramSettings
        {
            FriendCoupon = new Coupon { Code = "FRIEND20", PercentOff = 20m },
            ReferrerCredit = Usd(50),
        }, clock);
        string code = program.CodeFor(Lead(1), Alice, "card_alice");
        return (program, clock, code);
    }

    [Fact]
    public void CodeFor_SameCustomerTwice_ReturnsTheSameCode()
    {
        var (program, _, code) = Program();

        program.CodeFor(Lead(1), Alice).ShouldBe(code);
    }

    [Fact]
    public void Refer_NewFriend_GetsTheCouponAndEmitsReferralMade()
    {
        var (program, _, code) = Program();

        ReferralOutcome outcome = program.Refer(code, Lead(2), Bob);

        outcome.Coupon.ShouldBe("FRIEND20");
        outcome.Rejection.ShouldBeNull();
        var made = outcome.Events.ShouldHaveSingleItem().ShouldBeOfType<ReferralMade>();
        made.LeadId.ShouldBe(Lead(1));
        made.Referred.ShouldBe(Lead(2));
    }

    [Fact]
    public void Refer_FraudCases_AreRejectedWithTheReason()
    {
        var (program, _, code) = Program();

        program.Refer(code, Lead(1), Bob).Rejection.ShouldBe(ReferralRejection.SelfReferral);
        program.Refer(code, Lead(3), EmailAddress.Parse("  ALICE@Example.com ")).Rejection.ShouldBe(ReferralRejection.SameEmail);
        program.Refer("nope", Lead(4), Bob).Rejection.ShouldBe(ReferralRejection.UnknownCode);
        program.Refer(code, Lead(2), Bob).Rejection.ShouldBeNull();
        program.Refer(code, Lead(2), Bob).Rejection.ShouldBe(ReferralRejection.AlreadyReferred);
    }

    [Fact]
    public void RecordPurchase_FriendPaysWithReferrersCard_EarnsNoReward()
    {
        var (program, clock, code) = Program();
        program.Refer(code, Lead(2), Bob);

        program.RecordPurchase(Placed(2, 1, Usd(497), T0), "card_alice").ShouldHaveSingleItem()
            .ShouldBeOfType<ReferralRejected>().Reason.ShouldBe(ReferralRejection.SamePaymentFingerprint);
        clock.Advance(Duration.FromDays(31));
        program.ReleaseRewards().ShouldBeEmpty();
    }

    [Fact]
    public void ReleaseRewards_PastTheRefundWindow_CreditsTheReferrerOnce()
    {
        var (program, clock, code) = Program();
        program.Refer(code, Lead(2), Bob);
        program.RecordPurchase(Placed(2, 1, Usd(497), T0), "card_bob").ShouldHaveSingleItem().ShouldBeOfType<ReferralPurchased>();
        program.RecordPurchase(Placed(2, 2, Usd(97), T0)).ShouldBeEmpty();

        clock.Advance(Duration.FromDays(30) - Duration.FromSeconds(1));
        program.ReleaseRewards().ShouldBeEmpty();
        clock.Advance(Duration.FromSeconds(1));
        program.ReleaseRewards().ShouldHaveSingleItem().ShouldBeOfType<ReferralRewardEarned>().Amount.ShouldBe(Usd(50));
        program.ReleaseRewards().ShouldBeEmpty();

        program.CreditOf(Lead(1)).ShouldBe(Usd(50));
    }

    [Fact]
    public void RecordRefund_InsideTheWindow_CancelsTheReward()
    {
        var (program, clock, code) = Program();
        program.Refer(code, Lead(2), Bob);
        program.RecordPurchase(Placed(2, 1, Usd(497), T0));

        program.RecordRefund(Refunded(2, 1, Usd(497), T0 + Duration.FromDays(5))).ShouldBeTrue();
        clock.Advance(Duration.FromDays(31));

        program.ReleaseRewards().ShouldBeEmpty();
        program.CreditOf(Lead(1)).ShouldBe(Usd(0));
    }
}
