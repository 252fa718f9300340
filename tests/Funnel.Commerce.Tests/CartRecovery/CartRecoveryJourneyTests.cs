using Funnel.CartRecovery;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Offers;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Tests.CartRecovery;

/// <summary>The guide's cart recovery end to end: checkout, abandonment after an hour, the recovery emails, and the KPIs.</summary>
public sealed class CartRecoveryJourneyTests
{
    private static readonly Currency Usd = Currency.FromCode("USD");

    [Fact]
    public async Task AbandonedCheckout_PurchaseAfterTheFirstRecoveryEmail_StopsTheSequenceAndCountsTheRevenue()
    {
        using var world = new CartRecoveryWorld();
        LeadId lead = await world.AddLeadAsync();
        Checkout abandonedCheckout = await world.StartCheckoutAsync(lead);
        await world.SettleAsync();

        await world.PassAsync(Duration.FromMinutes(59), Duration.FromMinutes(1));
        (await world.EventsAsync()).OfType<CheckoutAbandoned>().ShouldBeEmpty("the checkout is not an hour old yet");
        await world.PassAsync(Duration.FromMinutes(1), Duration.FromMinutes(1));

        CheckoutAbandoned abandoned = (await world.EventsAsync()).OfType<CheckoutAbandoned>().ShouldHaveSingleItem();
        (abandoned.LeadId, abandoned.Offer, abandoned.OccurredAt).ShouldBe((lead, new OfferId(GuideSequences.Offer), CartRecoveryWorld.T0 + Duration.FromHours(1)));
        (await world.EmailsSentToAsync(lead)).ShouldBe(["cart-recovery-1"]);

        // The buyer follows the email's link three hours later: a new checkout, then the order.
        await world.PassAsync(Duration.FromHours(3), Duration.FromMinutes(30));
        Order order = await world.PlaceAsync(await world.StartCheckoutAsync(lead));
        await world.SettleAsync();
        await world.PassAsync(Duration.FromDays(5), Duration.FromHours(6));

        IReadOnlyList<FunnelEvent> events = await world.EventsAsync();
        (await world.EmailsSentToAsync(lead)).ShouldBe(["cart-recovery-1"], "the purchase stopped the sequence");
        events.OfType<SequenceExited>().ShouldHaveSingleItem().Sequence.ShouldBe(GuideSequences.CartRecovery.Key);
        events.OfType<SequenceCompleted>().ShouldBeEmpty();
        events.OfType<CheckoutAbandoned>().ShouldHaveSingleItem("the second checkout ended in an order");
        abandoned.Id.ShouldNotBe(abandonedCheckout.Events.OfType<CheckoutStarted>().Single().Id);

        CartRecoveryReport report = CartRecoveryReport.Create(events, Usd, Duration.FromDays(7));
        order.Total.ShouldBe(new Money(497_00, Usd));
        report.ShouldBe(new CartRecoveryReport { Abandoned = 1, Recovered = 1, RecoveredRevenue = new Money(497_00, Usd) });
        report.RecoveryRate.ShouldBe(Ratio.Of(1, 1));

        FunnelReport funnel = world.Services.GetRequiredService<IFunnelReporter>()
            .CreateReport(Funnel.Samples.EbookMasterclass.MasterclassScenario.Funnel, events);
        funnel.Section<CartRecoveryReport>().ShouldBe(report);
    }

    [Fact]
    public async Task AbandonedCheckout_NoPurchase_TheSequenceRunsToItsEnd()
    {
        using var world = new CartRecoveryWorld();
        LeadId lead = await world.AddLeadAsync();
        await world.StartCheckoutAsync(lead);
        await world.SettleAsync();

        await world.PassAsync(Duration.FromDays(4), Duration.FromHours(1));

        IReadOnlyList<FunnelEvent> events = await world.EventsAsync();
        CheckoutAbandoned abandoned = events.OfType<CheckoutAbandoned>().ShouldHaveSingleItem();
        (await world.EmailsSentToAsync(lead)).ShouldBe(["cart-recovery-1", "cart-recovery-2", "cart-recovery-3"]);
        EmailSent[] sent = [.. events.OfType<EmailSent>()];
        sent.Select(e => e.OccurredAt - abandoned.OccurredAt).ShouldBe(
            [Duration.Zero, Duration.FromHours(24), Duration.FromHours(72)],
            "sent at the next settle after the step is due, and the clock moves an hour at a time from a whole hour");
        events.OfType<SequenceCompleted>().ShouldHaveSingleItem().Sequence.ShouldBe(GuideSequences.CartRecovery.Key);
        events.OfType<SequenceExited>().ShouldBeEmpty();

        // An order long after the recovery window is not a recovery.
        await world.PassAsync(Duration.FromDays(7), Duration.FromDays(1));
        await world.PlaceAsync(await world.StartCheckoutAsync(lead));
        await world.SettleAsync();

        CartRecoveryReport report = CartRecoveryReport.Create(await world.EventsAsync(), Usd, Duration.FromDays(7));
        report.ShouldBe(new CartRecoveryReport { Abandoned = 1, Recovered = 0, RecoveredRevenue = Money.Zero(Usd) });
        report.RecoveryRate.ShouldBe(Ratio.Of(0, 1));
    }

    [Fact]
    public async Task CheckoutCompletedBeforeTheDeadline_EmitsNothingAndSendsNothing()
    {
        using var world = new CartRecoveryWorld();
        LeadId lead = await world.AddLeadAsync();
        Checkout checkout = await world.StartCheckoutAsync(lead);
        await world.SettleAsync();
        world.Clock.Advance(Duration.FromMinutes(50));
        await world.PlaceAsync(checkout);

        await world.PassAsync(Duration.FromDays(4), Duration.FromHours(1));

        IReadOnlyList<FunnelEvent> events = await world.EventsAsync();
        events.OfType<CheckoutAbandoned>().ShouldBeEmpty();
        events.OfType<SequenceEnrolled>().ShouldBeEmpty();
        world.Sender.Sent.ShouldBeEmpty();
        TrackedCheckout tracked = (await world.Services.GetRequiredService<ICheckoutStore>().FindAsync(lead, GuideSequences.Offer)).ShouldNotBeNull();
        tracked.Status.ShouldBe(CheckoutStatus.Ordered);
    }
}
