using System.Collections.Immutable;
using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Offers;
using Funnel.Onboarding;
using Funnel.Pipeline;
using NodaTime;
using NodaTime.Testing;
using static Funnel.Tests.Advocacy.AdvocacyTestKit;

namespace Funnel.Tests.Advocacy;

/// <summary>The "done when": a buyer becomes an advocate, and a friend's purchase through the affiliate link pays a commission that a refund claws back.</summary>
public class BuyerToAdvocateTests
{
    [Fact]
    public async Task Walk_PurchaseToAffiliateFriendRefund_CommissionPendingThenClawedBack()
    {
        var clock = new FakeClock(T0);
        // The engines record their own events; the test appends only the raw inputs (orders, payments, refunds).
        var log = new InMemoryFunnelEventLog();
        void Record(IReadOnlyList<FunnelEvent> events) => log.AppendAsync(events).GetAwaiter().GetResult();
        LeadId buyer = Lead(1), friend = Lead(2);
        OrderId buyerOrder = OrderNo(1), friendOrder = OrderNo(2);

        // The buyer buys the Masterclass; the order service's events grant the course.
        Record([
            new OrderPlaced { LeadId = buyer, OccurredAt = T0, Order = buyerOrder, Offer = "masterclass-basic", Total = Usd(497) },
            new PaymentSucceeded { LeadId = buyer, OccurredAt = T0, Order = buyerOrder, Amount = Usd(497) },
            new EntitlementGranted { LeadId = buyer, OccurredAt = T0, Order = buyerOrder, Product = "masterclass-videos" },
        ]);
        var ledger = InMemoryEngines.Entitlements();
        foreach (FunnelEvent e in log.Snapshot())
        {
            ledger.Apply(e);
        }

        // Onboarding: the buyer works through every module; the last one completes the course.
        var course = new Course { Key = "masterclass-videos", Modules = ["plan-your-ebook", "write-in-30-days", "design-and-format", "launch"] };
        var tracker = new CourseProgressTracker([course], new InMemoryCourseProgressStore(), ledger, clock, log);
        foreach (string module in course.Modules)
        {
            clock.Advance(Duration.FromDays(3));
            await tracker.CompleteModuleAsync(buyer, course.Key, module);
        }

        log.Snapshot().OfType<CourseCompleted>().ShouldHaveSingleItem().Subject.ShouldBe("masterclass-videos");

        // Course completion triggers the review request; the review is approved and becomes a testimonial.
        var reviews = new ReviewService(new InMemoryReviewStore(), clock, log);
        await reviews.RequestAsync(buyer, "masterclass-videos");
        ReviewResult submitted = await reviews.SubmitAsync(new ReviewSubmission
        {
            Lead = buyer, Product = "masterclass-videos", Rating = 5, Text = "I published my first e-book in 30 days.",
            ConsentToPublish = true, AttributionName = "Sarah K.",
        });
        await reviews.ApproveAsync(submitted.Review.Id);
        Testimonial testimonial = (await reviews.SelectTestimonialsAsync("masterclass-videos", 3)).ShouldHaveSingleItem();
        testimonial.AttributionName.ShouldBe("Sarah K.");

        // ... and the affiliate invitation: the buyer enrols and is approved.
        var program = InMemoryEngines.Affiliates(Settings(percent: 30m), clock, log);
        var (affiliate, _) = program.Enrol(buyer, "sarah");
        program.Decide(affiliate.Id, approve: true);
        Uri link = program.LinkFor(affiliate.Id, new Uri("https://example.com/masterclass"));
        link.Query.ShouldBe("?ref=sarah");

        // A friend clicks the link and buys two days later.
        clock.Advance(Duration.FromDays(1));
        program.RecordClick("sarah", friend);
        clock.Advance(Duration.FromDays(2));
        FunnelEvent[] friendPurchase =
        [
            new OrderPlaced { LeadId = friend, OccurredAt = clock.GetCurrentInstant(), Order = friendOrder, Offer = "masterclass-basic", Total = Usd(497) },
            new PaymentSucceeded { LeadId = friend, OccurredAt = clock.GetCurrentInstant(), Order = friendOrder, Amount = Usd(497) },
        ];
        foreach (FunnelEvent e in friendPurchase)
        {
            Record([e]);
            program.Apply(e);
        }

        program.AttributedTo(friendOrder).ShouldBe(affiliate.Id);
        CommissionEntry pending = program.Ledger(affiliate.Id).ShouldHaveSingleItem();
        pending.Status.ShouldBe(CommissionStatus.Pending);
        pending.Amount.ShouldBe(Usd(149.10m));
        program.ApproveCleared().ShouldBeEmpty();

        // The friend asks for a refund inside the window: the commission is clawed back and never paid.
        clock.Advance(Duration.FromDays(7));
        var refund = new RefundIssued { LeadId = friend, OccurredAt = clock.GetCurrentInstant(), Order = friendOrder, Amount = Usd(497) };
        Record([refund]);
        ImmutableArray<FunnelEvent> clawback = program.Apply(refund);
        clawback.ShouldHaveSingleItem().ShouldBeOfType<CommissionClawedBack>().Amount.ShouldBe(Usd(149.10m));
        clock.Advance(Duration.FromDays(60));
        program.ApproveCleared().ShouldBeEmpty();
        program.PayOut(affiliate.Id).Payout.ShouldBeNull();
        program.Stats(affiliate.Id).ShouldSatisfyAllConditions(
            s => s.Clicks.ShouldBe(1),
            s => s.Conversions.ShouldBe(1),
            s => s.Commission.ShouldBe(Usd(0)));

        // Every step left a funnel event, and the report sees the affiliate sale net of its refund.
        IReadOnlyList<FunnelEvent> history = log.Snapshot();
        history.Select(e => e.EventType).ShouldBe(
        [
            EventTypes.OrderPlaced, EventTypes.PaymentSucceeded, OfferEventTypes.EntitlementGranted,
            AdvocacyEventTypes.ModuleCompleted, AdvocacyEventTypes.ModuleCompleted, AdvocacyEventTypes.ModuleCompleted, AdvocacyEventTypes.ModuleCompleted, EventTypes.CourseCompleted,
            AdvocacyEventTypes.ReviewRequested, EventTypes.ReviewSubmitted, AdvocacyEventTypes.ReviewApproved,
            AdvocacyEventTypes.AffiliateApplied, AdvocacyEventTypes.AffiliateApproved, AdvocacyEventTypes.AffiliateLinkClicked,
            EventTypes.OrderPlaced, AdvocacyEventTypes.AffiliateSaleAttributed, EventTypes.PaymentSucceeded, AdvocacyEventTypes.CommissionEarned,
            EventTypes.RefundIssued, AdvocacyEventTypes.CommissionClawedBack,
        ]);
        AdvocacyMetrics metrics = AdvocacyMetrics.Compute(history, Currency.USD);
        metrics.NetRevenue.ShouldBe(Usd(497));
        metrics.AffiliateRevenue.ShouldBe(Usd(0));
        metrics.AffiliateCommission.ShouldBe(Usd(0));
    }
}
