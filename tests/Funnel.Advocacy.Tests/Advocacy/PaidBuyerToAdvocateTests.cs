using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Samples.EbookMasterclass;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Tests.Advocacy;

/// <summary>
/// The "done when" on the real flow: payments through <see cref="PaymentService"/> and the test-mode gateway,
/// emails through the <see cref="SequenceEngine"/> and the guide's sequences, a friend on the 3 × $180 plan through the
/// affiliate link, commission on each installment, and a refund that claws it back.
/// </summary>
public class PaidBuyerToAdvocateTests
{
    private static Money Usd(decimal amount) => Money.FromMajor(amount, Currency.USD);

    [Fact]
    public async Task Walk_PaidPurchaseThroughAffiliateFriendOnPlanAndRefund_EmailsLedgerAndReportAgree()
    {
        var world = new PaidFunnelWorld();
        LeadId buyer = await world.AddLeadAsync(1, "Sarah", reviewUrl: "https://example.com/masterclass/review?token=rv-8f2c41");
        LeadId friend = await world.AddLeadAsync(2, "Tom");
        Instant boughtAt = world.Clock.GetCurrentInstant(); // Monday 5 October 2026, 10:00 in New York
        boughtAt.InZone(PaidFunnelWorld.NewYork).LocalDateTime.ShouldBe(new LocalDateTime(2026, 10, 5, 10, 0));

        // 1. The buyer pays $497 once; access is granted and the paid grant starts the 5-day welcome at once.
        Order order = await world.BuyAsync(1);
        (await world.Payments.OrderAsync(order.Id)).Status.ShouldBe(OrderStatus.Paid);
        world.History.OfType<EntitlementGranted>().Where(g => g.LeadId == buyer).Select(g => g.Product).ShouldContain(GuideSequences.Course);
        world.History.OfType<SequenceEnrolled>().ShouldHaveSingleItem().Sequence.ShouldBe(GuideSequences.Welcome.Key);
        await world.AdvanceAsync(Duration.FromDays(6));
        var welcome = world.Sender.Sent.Where(s => s.Message.To == PaidFunnelWorld.EmailOf(1)).ToList();
        welcome.Select(s => CapturingSender.StepOf(s.Message)).ShouldBe(["welcome-1", "welcome-2", "welcome-3", "welcome-4", "welcome-5"]);
        (welcome[0].At - boughtAt).ShouldBeLessThanOrEqualTo(Duration.FromMinutes(15));
        welcome.Skip(1).Select(s => s.At.InZone(PaidFunnelWorld.NewYork).LocalDateTime).ShouldBe(
            [.. Enumerable.Range(6, 4).Select(day => new LocalDateTime(2026, 10, day, 9, 0))]); // calendar days 1-4 from Monday: Tuesday to Friday
        welcome[0].Message.Subject.ShouldBe("Welcome to The E-Book Masterclass");
        welcome[0].Message.TextBody.ShouldStartWith("Hi Sarah,");

        // 2. The buyer completes the course (a module a week); completion starts the advocacy sequence: the review request
        //    (with the buyer's own review-form link), the affiliate invitation and the next offer, on weekdays at 09:00.
        await world.CompleteCourseAsync(buyer);
        CourseCompleted completed = world.History.OfType<CourseCompleted>().ShouldHaveSingleItem();
        completed.Subject.ShouldBe(GuideSequences.Course);
        await world.AdvanceAsync(Duration.FromDays(9));
        var advocacy = world.Sender.Sent.Where(s => s.Message.To == PaidFunnelWorld.EmailOf(1)).Skip(5).ToList();
        advocacy.Select(s => CapturingSender.StepOf(s.Message)).ShouldBe(["review-request", "affiliate-invitation", "next-offer"]);
        advocacy.ShouldAllBe(s => s.At > completed.OccurredAt);
        advocacy.Select(s => s.At.InZone(PaidFunnelWorld.NewYork).LocalDateTime).ShouldBe(
            [new LocalDateTime(2026, 11, 9, 9, 0), new LocalDateTime(2026, 11, 12, 9, 0), new LocalDateTime(2026, 11, 16, 9, 0)]);
        advocacy[0].Message.TextBody.ShouldContain("https://example.com/masterclass/review?token=rv-8f2c41");
        advocacy[1].Message.TextBody.ShouldContain("https://example.com/affiliates/apply");
        advocacy[2].Message.Subject.ShouldBe("Your next step: the Advanced Digital Product Launch Course");

        // 3. The review is submitted, approved and selected for the sales page.
        ReviewResult submitted = await world.Reviews.SubmitAsync(new ReviewSubmission
        {
            Lead = buyer, Product = GuideSequences.Course, Rating = 5, Text = "I published my first e-book in 30 days.", ConsentToPublish = true, AttributionName = "Sarah K.",
        });
        await world.Reviews.ApproveAsync(submitted.Review.Id);
        await world.DeliverAsync();
        (await world.Reviews.SelectTestimonialsAsync(GuideSequences.Course, 3, TestimonialOrder.HighestRated)).ShouldHaveSingleItem().AttributionName.ShouldBe("Sarah K.");

        // 4. The invitation was accepted: the buyer enrols as an affiliate and is approved.
        var (affiliate, _) = world.Affiliates.Enrol(buyer, "sarah");
        world.Affiliates.Decide(affiliate.Id, approve: true);
        await world.DeliverAsync();
        world.History.OfType<AffiliateApplied>().ShouldHaveSingleItem("the program records its own events; the caller appends nothing");
        world.Affiliates.LinkFor(affiliate.Id, new Uri("https://example.com/masterclass")).Query.ShouldBe("?ref=sarah");

        // 5. The friend clicks Sarah's link, and a day later buys on the 3 × $180 plan: the sale is Sarah's, each
        //    installment earns 30% ($54) pending through the 30-day refund window, and the friend is onboarded too.
        world.Affiliates.RecordClick("sarah", friend);
        await world.DeliverAsync();
        await world.AdvanceAsync(Duration.FromDays(1));
        Order friendOrder = await world.BuyAsync(2, plan: "3-monthly");
        world.Affiliates.AttributedTo(friendOrder.Id).ShouldBe(affiliate.Id);
        await world.AdvanceAsync(Duration.FromDays(32));
        await world.CollectInstallmentsAsync();
        await world.AdvanceAsync(Duration.FromDays(31));
        await world.CollectInstallmentsAsync();
        (await world.Payments.OrderAsync(friendOrder.Id)).Paid.ShouldBe(Usd(540));
        world.History.OfType<InstallmentPaid>().Count(p => p.Order == friendOrder.Id).ShouldBe(3);
        world.History.OfType<CommissionEarned>().Select(c => c.Amount).ShouldBe([Usd(54), Usd(54), Usd(54)]);
        world.Sender.StepsTo(PaidFunnelWorld.EmailOf(2)).ShouldBe(["welcome-1", "welcome-2", "welcome-3", "welcome-4", "welcome-5"]);
        var approved = world.Affiliates.ApproveCleared();
        approved.Length.ShouldBe(2, "the first two installments are past the refund window");
        await world.DeliverAsync();

        FunnelReport before = new FunnelReporter(new FunnelReportSettings { Sections = [AdvocacyMetrics.ReportSection] }).CreateReport(MasterclassScenario.Funnel, world.History);
        before.Section<AdvocacyMetrics>()!.NetRevenue.ShouldBe(Usd(497 + 540));
        before.Section<AdvocacyMetrics>()!.AffiliateRevenue.ShouldBe(Usd(540));
        before.Section<AdvocacyMetrics>()!.AffiliateRevenueShare.ShouldBe(Ratio.Of(Usd(540), Usd(1037)));
        before.Section<AdvocacyMetrics>()!.AffiliateCommission.ShouldBe(Usd(162));
        before.Section<AdvocacyMetrics>()!.Cohorts.Select(c => (c.Cohort, c.Customers, c.NetRevenue)).ShouldBe(
            [(new YearMonth(2026, 10), 1L, Usd(497)), (new YearMonth(2026, 11), 1L, Usd(540))]);

        // 6. The friend is refunded in full: every commission is clawed back (the two approved ones by a negative
        //    approved entry), access is revoked, the approved balance is zero and nothing is paid out.
        await world.AdvanceAsync(Duration.FromDays(2));
        await world.RefundAsync(friendOrder.Id, Usd(540));
        world.History.OfType<RefundIssued>().Select(r => r.Amount).ShouldBe([Usd(180), Usd(180), Usd(180)]);
        world.History.OfType<CommissionClawedBack>().Sum(c => c.Amount.MinorUnits).ShouldBe(16_200);
        world.History.OfType<EntitlementRevoked>().ShouldContain(r => r.LeadId == friend && r.Product == GuideSequences.Course);
        var ledger = world.Affiliates.Ledger(affiliate.Id);
        ledger.Sum(e => e.Amount.MinorUnits).ShouldBe(0);
        ledger.Where(e => e.Status == CommissionStatus.Approved).Sum(e => e.Amount.MinorUnits).ShouldBe(0);
        ledger.Where(e => e.Amount.IsNegative).ShouldAllBe(e => e.Status == CommissionStatus.Approved);
        ledger.Where(e => e.Amount.IsNegative).Sum(e => e.Amount.MinorUnits).ShouldBe(-10_800, "the approved $108 is taken back from the approved balance");
        world.Affiliates.PayOut(affiliate.Id).Payout.ShouldBeNull();
        world.Affiliates.Stats(affiliate.Id).ShouldSatisfyAllConditions(
            s => s.Clicks.ShouldBe(1),
            s => s.Conversions.ShouldBe(1),
            s => s.Commission.ShouldBe(Usd(0)));

        FunnelReport after = new FunnelReporter(new FunnelReportSettings { Sections = [AdvocacyMetrics.ReportSection] }).CreateReport(MasterclassScenario.Funnel, world.History);
        after.Section<AdvocacyMetrics>()!.NetRevenue.ShouldBe(Usd(497));
        after.Section<AdvocacyMetrics>()!.AffiliateRevenue.ShouldBe(Usd(0));
        after.Section<AdvocacyMetrics>()!.AffiliateRevenueShare.ShouldBe(Ratio.Of(Usd(0), Usd(497)));
        after.Section<AdvocacyMetrics>()!.AffiliateCommission.ShouldBe(Usd(0));
        after.Section<AdvocacyMetrics>()!.Cohorts.Select(c => (c.Cohort, c.NetRevenue)).ShouldBe([(new YearMonth(2026, 10), Usd(497)), (new YearMonth(2026, 11), Usd(0))]);
        after.Section<AdvocacyMetrics>()!.Cohorts[0].ValuePerCustomer.ShouldBe(Usd(497));

        // Every step left a funnel event.
        string[] types = [.. world.History.Select(e => e.EventType).Distinct()];
        string[] expected =
        [
            EventTypes.OrderPlaced, EventTypes.PaymentSucceeded, OfferEventTypes.EntitlementGranted, SequenceEventTypes.SequenceEnrolled, EventTypes.EmailSent,
            AdvocacyEventTypes.ModuleCompleted, EventTypes.CourseCompleted, EventTypes.ReviewSubmitted, AdvocacyEventTypes.ReviewApproved,
            AdvocacyEventTypes.AffiliateApplied, AdvocacyEventTypes.AffiliateApproved, AdvocacyEventTypes.AffiliateLinkClicked, AdvocacyEventTypes.AffiliateSaleAttributed,
            PaymentEventTypes.InstallmentPaid, AdvocacyEventTypes.CommissionEarned, AdvocacyEventTypes.CommissionApproved, EventTypes.RefundIssued,
            AdvocacyEventTypes.CommissionClawedBack, OfferEventTypes.EntitlementRevoked,
        ];
        expected.ShouldBeSubsetOf(types);
    }
}
