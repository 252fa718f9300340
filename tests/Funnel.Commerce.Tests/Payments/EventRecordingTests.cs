using Funnel.Events;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tests.Offers;

namespace Funnel.Tests.Payments;

/// <summary>The services record their events in the event log themselves; a caller never appends them again.</summary>
public sealed class EventRecordingTests
{
    [Fact]
    public async Task PlaceOrderAsync_CheckoutAndOrder_RecordsExactlyTheReturnedEvents()
    {
        var kit = new OfferTestKit();

        Checkout checkout = await kit.Service.StartCheckoutAsync(
            OfferTestKit.Lead(1), new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic, 1, null)] }, OfferTestKit.NewYork);
        OrderResult placed = await kit.Service.PlaceOrderAsync(checkout, paymentMethod: null);

        kit.Log.Snapshot().ShouldBe([.. checkout.Events, .. placed.Events]);
        kit.Log.Snapshot().Select(e => e.EventType).ShouldBe(["checkout_started", "order_placed"]);
    }

    [Fact]
    public async Task DeclineUpsellAsync_Declined_RecordsTheDecline()
    {
        var kit = new OfferTestKit();
        Order order = await kit.BuyAsync(2, new CartLine(OfferPathCatalogue.Basic, 1, null));
        OfferId upsell = kit.Service.Path.Next(OfferPathCatalogue.Basic, OfferTransition.Purchased)!.Value;
        int before = kit.Log.Snapshot().Count;

        UpsellDecision decision = await kit.Service.DeclineUpsellAsync(order.Id, upsell);

        kit.Log.Snapshot().Skip(before).ShouldBe(decision.Events);
        decision.Events.ShouldHaveSingleItem().ShouldBeOfType<UpsellDeclined>();
    }

    [Fact]
    public async Task RecordPaymentAsync_ManualPayment_RecordsPaymentAndGrantsInTheLog()
    {
        var kit = new OfferTestKit();
        Order order = await kit.BuyAsync(3, new CartLine(OfferPathCatalogue.Basic, 1, null));
        int before = kit.Log.Snapshot().Count;

        OrderResult paid = await kit.Service.RecordPaymentAsync(order.Id, order.Total);

        kit.Log.Snapshot().Skip(before).ShouldBe(paid.Events);
        paid.Events.OfType<PaymentSucceeded>().ShouldHaveSingleItem();
        paid.Events.OfType<EntitlementGranted>().Count().ShouldBe(kit.Grantor.Granted.Count);
    }

    [Fact]
    public async Task ProcessAsync_WebhookOfAPaymentTheChargeRecorded_AppendsNothingMore()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(4, plan: null);
        PaymentAttempt attempt = await kit.PayAsync(order.Id);
        int recorded = kit.Events.Count;

        WebhookResult webhook = (await kit.DeliverAsync(kit.Gateway.Webhooks)).Single();

        webhook.Outcome.ShouldBe(WebhookOutcome.Processed);
        webhook.Events.ShouldBeEmpty();
        kit.Events.Count.ShouldBe(recorded);
        kit.Events.OfType<PaymentSucceeded>().ShouldHaveSingleItem().Id.ShouldBe(attempt.Result.Events.OfType<PaymentSucceeded>().Single().Id);
    }

    [Fact]
    public async Task ProcessAsync_WebhookReplayedAfterTheEventStoreForgotIt_AppendsNothingTwice()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(5, plan: null);
        await kit.Gateway.ChargeAsync(new ChargeRequest
        {
            Order = order.Id, Lead = order.Lead, Amount = order.Total, PaymentMethod = InMemoryPaymentGateway.SucceedingCard, IdempotencyKey = "key-5",
        });
        WebhookRequest delivery = kit.Gateway.Webhooks.Single();
        WebhookResult first = await kit.Webhooks.ProcessAsync(delivery.Body, delivery.Headers);
        int recorded = kit.Events.Count;
        var amnesiac = new WebhookProcessor(kit.Gateway.Verifier, new InMemoryWebhookEventStore(), kit.Payments, kit.Kit.Clock);

        WebhookResult replay = await amnesiac.ProcessAsync(delivery.Body, delivery.Headers);

        first.Events.OfType<PaymentSucceeded>().ShouldHaveSingleItem();
        replay.Outcome.ShouldBe(WebhookOutcome.Processed);
        replay.Events.ShouldBeEmpty();
        kit.Events.Count.ShouldBe(recorded);
        kit.Grantor.Granted.Count.ShouldBe(4);
    }

    [Fact]
    public async Task ProcessAsync_PaymentWebhook_EventIdsDeriveFromTheProviderPaymentId()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(6, plan: null);
        PaymentResult charge = await kit.Gateway.ChargeAsync(new ChargeRequest
        {
            Order = order.Id, Lead = order.Lead, Amount = order.Total, PaymentMethod = InMemoryPaymentGateway.SucceedingCard, IdempotencyKey = "key-6",
        });

        WebhookResult result = (await kit.DeliverAsync(kit.Gateway.Webhooks)).Single();

        EventId cause = OrderService.CauseOf("payment", charge.PaymentId!);
        result.Events.OfType<PaymentSucceeded>().Single().Id.ShouldBe(EventId.Derive(cause, "payment_succeeded:0"));
        result.Events.OfType<EntitlementGranted>().Select(e => e.Id).ShouldBe(
            Enumerable.Range(0, 4).Select(n => EventId.Derive(cause, $"entitlement_granted:{n}")));
        kit.Events.Select(e => e.Id).ShouldBeUnique();
    }

    [Fact]
    public async Task RefundAsync_ProviderRefundThenItsWebhook_RecordsTheRefundOnce()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(7, plan: null);
        await kit.PayAsync(order.Id);
        await kit.DeliverAsync(kit.Gateway.Webhooks);

        OrderResult refunded = await kit.Payments.RefundAsync(order.Id, order.Total);
        await kit.DeliverAsync(kit.Gateway.Webhooks);

        kit.Events.OfType<RefundIssued>().ShouldHaveSingleItem().Id.ShouldBe(refunded.Events.OfType<RefundIssued>().Single().Id);
        kit.Events.OfType<EntitlementRevoked>().Count().ShouldBe(4);
    }
}
