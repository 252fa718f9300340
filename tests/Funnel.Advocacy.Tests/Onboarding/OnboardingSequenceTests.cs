using Funnel.Events;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Sequences;
using Funnel.Tests.Advocacy;
using NodaTime;

namespace Funnel.Tests.Onboarding;

/// <summary>The guide's 5-day welcome is entitlement-driven: paid orders onboard, unpaid and refunded ones do not.</summary>
public class OnboardingSequenceTests
{
    private static string[] WelcomeTo(PaidFunnelWorld world, int lead) =>
        [.. world.Sender.StepsTo(PaidFunnelWorld.EmailOf(lead)).Where(s => s.StartsWith("welcome-", StringComparison.Ordinal))];

    [Fact]
    public async Task Welcome_DeclinedCard_PlacedButUnpaidOrderGetsNoOnboarding()
    {
        var world = new PaidFunnelWorld();
        await world.AddLeadAsync(1, "Sarah");

        Order order = await world.BuyAsync(1, card: InMemoryPaymentGateway.DecliningCard);
        await world.AdvanceAsync(Duration.FromDays(7));

        world.History.OfType<OrderPlaced>().ShouldHaveSingleItem().Order.ShouldBe(order.Id);
        (await world.Payments.OrderAsync(order.Id)).Status.ShouldBe(OrderStatus.AwaitingPayment);
        world.History.OfType<EntitlementGranted>().ShouldBeEmpty();
        world.History.OfType<SequenceEnrolled>().ShouldBeEmpty();
        world.Sender.Sent.ShouldBeEmpty();
    }

    [Fact]
    public async Task Welcome_FirstInstallmentOfThePlanPaid_OnboardsOnceThroughTheWholePlan()
    {
        var world = new PaidFunnelWorld();
        await world.AddLeadAsync(1, "Sarah");

        await world.BuyAsync(1, plan: "3-monthly");
        await world.AdvanceAsync(Duration.FromDays(32));
        await world.CollectInstallmentsAsync();
        await world.AdvanceAsync(Duration.FromDays(31));
        await world.CollectInstallmentsAsync();
        await world.AdvanceAsync(Duration.FromDays(1));

        world.History.OfType<InstallmentPaid>().Count().ShouldBe(3);
        world.History.OfType<SequenceEnrolled>().ShouldHaveSingleItem().Sequence.ShouldBe(GuideSequences.Welcome.Key);
        WelcomeTo(world, 1).ShouldBe(["welcome-1", "welcome-2", "welcome-3", "welcome-4", "welcome-5"]);
    }

    [Fact]
    public async Task Welcome_RefundedOnTheThirdDay_ExitsAndSendsNoMoreOnboarding()
    {
        var world = new PaidFunnelWorld();
        await world.AddLeadAsync(1, "Sarah");
        Order order = await world.BuyAsync(1); // Monday 5 October, 10:00 in New York
        await world.AdvanceAsync(Duration.FromDays(2) + Duration.FromHours(2)); // Wednesday 12:00: welcome-1 to welcome-3 (days 1 and 2 at 09:00) went out

        await world.RefundAsync(order.Id, Money.FromMajor(497m, Currency.USD));
        await world.AdvanceAsync(Duration.FromDays(7));

        world.History.OfType<EntitlementRevoked>().ShouldContain(r => r.Product == GuideSequences.Course);
        SequenceExited exited = world.History.OfType<SequenceExited>().ShouldHaveSingleItem();
        exited.Sequence.ShouldBe(GuideSequences.Welcome.Key);
        exited.Goal.ShouldBe($"{OfferEventTypes.EntitlementRevoked}:{GuideSequences.Course}");
        WelcomeTo(world, 1).ShouldBe(["welcome-1", "welcome-2", "welcome-3"]);
    }

    [Fact]
    public async Task Advocacy_RefundedBeforeTheReviewRequest_SendsNoReviewAffiliateOrOfferEmail()
    {
        var world = new PaidFunnelWorld();
        LeadId buyer = await world.AddLeadAsync(1, "Sarah");
        Order order = await world.BuyAsync(1);
        await world.CompleteCourseAsync(buyer);
        world.History.OfType<CourseCompleted>().ShouldHaveSingleItem();

        await world.RefundAsync(order.Id, Money.FromMajor(497m, Currency.USD));
        await world.AdvanceAsync(Duration.FromDays(14));

        world.History.OfType<SequenceExited>().ShouldContain(e => e.Sequence == GuideSequences.Advocacy.Key);
        world.Sender.StepsTo(PaidFunnelWorld.EmailOf(1)).ShouldNotContain("review-request");
        world.Sender.StepsTo(PaidFunnelWorld.EmailOf(1)).ShouldNotContain("affiliate-invitation");
    }
}
