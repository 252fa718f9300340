using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Onboarding;
using Funnel.Pipeline;
using Funnel.Webinars;
using NodaTime;
using NodaTime.Testing;
using static Funnel.Tests.Advocacy.AdvocacyTestKit;

namespace Funnel.Tests.Pipeline;

/// <summary>Each Advocacy engine records what it returns in the log itself: the log holds exactly the returned events.</summary>
public class EngineRecordingTests
{
    [Fact]
    public async Task AffiliateProgram_EveryCall_LogHoldsExactlyWhatItReturned()
    {
        var log = new InMemoryFunnelEventLog();
        var clock = new FakeClock(T0);
        AffiliateProgram program = InMemoryEngines.Affiliates(Settings(percent: 30m, minimumPayout: Usd(1)), clock, log);
        var returned = new List<FunnelEvent>();

        var (sarah, applied) = await program.EnrolAsync(Lead(1), "sarah");
        returned.AddRange(applied);
        returned.AddRange((await program.DecideAsync(sarah.Id, approve: true)).Events);
        returned.AddRange(await program.RecordClickAsync("sarah", Lead(2)));
        returned.AddRange(await program.ApplyAsync(Placed(2, 1, Usd(100), T0)));
        returned.AddRange(await program.ApplyAsync(Paid(2, 1, Usd(100), T0)));
        clock.Advance(Duration.FromDays(31));
        returned.AddRange(await program.ApproveClearedAsync());
        returned.AddRange((await program.PayOutAsync(sarah.Id)).Events);

        returned.Select(e => e.EventType).ShouldBe(
        [
            AdvocacyEventTypes.AffiliateApplied, AdvocacyEventTypes.AffiliateApproved, AdvocacyEventTypes.AffiliateLinkClicked,
            AdvocacyEventTypes.AffiliateSaleAttributed, AdvocacyEventTypes.CommissionEarned, AdvocacyEventTypes.CommissionApproved,
            AdvocacyEventTypes.AffiliatePaidOut,
        ]);
        log.Snapshot().ShouldBe(returned);
    }

    [Fact]
    public async Task AffiliateProgram_EventsCausedByAnotherEvent_TakeIdsDerivedFromIt()
    {
        AffiliateProgram program = InMemoryEngines.Affiliates(Settings(percent: 30m), new FakeClock(T0));
        var (sarah, _) = await program.EnrolAsync(Lead(1), "sarah");
        await program.DecideAsync(sarah.Id, approve: true);
        await program.RecordClickAsync("sarah", Lead(2));
        OrderPlaced order = Placed(2, 1, Usd(100), T0);
        PaymentSucceeded payment = Paid(2, 1, Usd(100), T0);
        RefundIssued refund = Refunded(2, 1, Usd(100), T0);

        (await program.ApplyAsync(order)).ShouldHaveSingleItem().Id.ShouldBe(EventId.Derive(order.Id, "affiliates:attributed"));
        (await program.ApplyAsync(payment)).ShouldHaveSingleItem().Id.ShouldBe(EventId.Derive(payment.Id, "affiliates:earned"));
        (await program.ApplyAsync(refund)).ShouldHaveSingleItem().Id.ShouldBe(EventId.Derive(refund.Id, "affiliates:clawed-back"));
    }

    [Fact]
    public async Task ReferralProgram_EveryCall_LogHoldsExactlyWhatItReturned()
    {
        var log = new InMemoryFunnelEventLog();
        var clock = new FakeClock(T0);
        ReferralProgram program = InMemoryEngines.Referrals(
            new ReferralProgramSettings { FriendCoupon = new Coupon { Code = "FRIEND20", PercentOff = 20m }, ReferrerCredit = Usd(50) }, clock, log);
        var returned = new List<FunnelEvent>();

        string code = await program.CodeForAsync(Lead(1), EmailAddress.Parse("alice@example.com"));
        returned.AddRange((await program.ReferAsync(code, Lead(2), EmailAddress.Parse("bob@example.com"))).Events);
        returned.AddRange((await program.ReferAsync(code, Lead(1), EmailAddress.Parse("alice@example.com"))).Events);
        OrderPlaced order = Placed(2, 1, Usd(100), T0);
        returned.AddRange(await program.RecordPurchaseAsync(order));
        clock.Advance(Duration.FromDays(31));
        returned.AddRange(await program.ReleaseRewardsAsync());

        returned.Select(e => e.EventType).ShouldBe(
            [EventTypes.ReferralMade, AdvocacyEventTypes.ReferralRejected, AdvocacyEventTypes.ReferralPurchased, AdvocacyEventTypes.ReferralRewardEarned]);
        returned[2].Id.ShouldBe(EventId.Derive(order.Id, "referrals:purchased"));
        log.Snapshot().ShouldBe(returned);
    }

    [Fact]
    public async Task CourseProgressTracker_LastModule_LogHoldsModuleAndCourseCompleted()
    {
        var log = new InMemoryFunnelEventLog();
        EntitlementLedger ledger = InMemoryEngines.Entitlements();
        await ledger.ApplyAsync(new EntitlementGranted { LeadId = Lead(1), OccurredAt = T0, Order = OrderNo(1), Product = "course" });
        var tracker = new CourseProgressTracker(
            [new Course { Key = "course", Modules = ["one", "two"] }], new InMemoryCourseProgressStore(), ledger, new FakeClock(T0), log);

        ProgressResult first = await tracker.CompleteModuleAsync(Lead(1), "course", "one");
        ProgressResult again = await tracker.CompleteModuleAsync(Lead(1), "course", "one");
        ProgressResult last = await tracker.CompleteModuleAsync(Lead(1), "course", "two");

        again.Events.ShouldBeEmpty();
        log.Snapshot().ShouldBe([.. first.Events, .. last.Events]);
        log.Snapshot().Select(e => e.EventType).ShouldBe(
            [AdvocacyEventTypes.ModuleCompleted, AdvocacyEventTypes.ModuleCompleted, EventTypes.CourseCompleted]);
    }

    [Fact]
    public async Task WebinarRegistrar_RegisterAttendAndNoShows_LogHoldsExactlyWhatItReturned()
    {
        var log = new InMemoryFunnelEventLog();
        var clock = new FakeClock(T0);
        WebinarRegistrar registrar = InMemoryEngines.Webinars(
            [new Webinar { Key = "w", Length = Duration.FromHours(1), Every = Duration.FromMinutes(15) }], clock, log);
        var returned = new List<FunnelEvent>();

        returned.AddRange((await registrar.RegisterAsync("w", Lead(1), DateTimeZone.Utc)).Events);
        returned.AddRange((await registrar.RegisterAsync("w", Lead(2), DateTimeZone.Utc)).Events);
        returned.AddRange(await registrar.RecordAttendanceAsync("w", Lead(1)));
        clock.Advance(Duration.FromHours(2));
        returned.AddRange(await registrar.RecordNoShowsAsync());

        returned.Select(e => e.EventType).ShouldBe(
            [EventTypes.WebinarRegistered, EventTypes.WebinarRegistered, EventTypes.WebinarAttended, AdvocacyEventTypes.WebinarMissed]);
        log.Snapshot().ShouldBe(returned);
    }
}
