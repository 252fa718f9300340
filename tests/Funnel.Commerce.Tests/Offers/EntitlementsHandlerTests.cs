using Funnel.Events;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Samples.EbookMasterclass;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Tests.Offers;

public sealed class EntitlementsHandlerTests
{
    [Fact]
    public async Task HandleAsync_GrantFailedInline_GrantsWhenThePaymentEventIsDelivered()
    {
        var kit = new OfferTestKit();
        Order order = await kit.BuyAsync(1, new CartLine(OfferPathCatalogue.Basic, 1, null));
        kit.Grantor.FailingProduct = order.Lines[0].Products[0];
        OrderResult paid = await kit.Service.RecordPaymentAsync(order.Id, order.Total);
        paid.EntitlementError.ShouldNotBeNull();
        kit.Grantor.FailingProduct = null;

        await Handler(kit).HandleAsync(paid.Events.OfType<PaymentSucceeded>().Single());

        kit.Grantor.Granted.Select(e => e.Product).Order().ShouldBe(order.Lines.SelectMany(l => l.Products).Order());
        (await kit.Orders.FindAsync(order.Id))!.HasPendingEntitlements.ShouldBeFalse();
        kit.Log.Snapshot().OfType<EntitlementGranted>().Count().ShouldBe(kit.Grantor.Granted.Count);
    }

    [Fact]
    public async Task HandleAsync_PaymentEventRedelivered_GrantsNothingTwice()
    {
        var kit = new OfferTestKit();
        Order order = await kit.BuyAsync(2, new CartLine(OfferPathCatalogue.Basic, 1, null));
        OrderResult paid = await kit.Service.RecordPaymentAsync(order.Id, order.Total);
        int granted = kit.Grantor.Granted.Count;
        int recorded = kit.Log.Snapshot().Count;
        PaymentSucceeded payment = paid.Events.OfType<PaymentSucceeded>().Single();
        EntitlementsHandler handler = Handler(kit);

        await handler.HandleAsync(payment);
        await handler.HandleAsync(payment);

        granted.ShouldBeGreaterThan(0);
        kit.Grantor.Granted.Count.ShouldBe(granted);
        kit.Log.Snapshot().Count.ShouldBe(recorded);
    }

    [Fact]
    public async Task HandleAsync_GrantorStillDown_ThrowsSoThePipelineRetries()
    {
        var kit = new OfferTestKit();
        Order order = await kit.BuyAsync(3, new CartLine(OfferPathCatalogue.Basic, 1, null));
        kit.Grantor.FailingProduct = order.Lines[0].Products[0];
        OrderResult paid = await kit.Service.RecordPaymentAsync(order.Id, order.Total);

        Exception error = await Should.ThrowAsync<Exception>(() => Handler(kit).HandleAsync(paid.Events.OfType<PaymentSucceeded>().Single()));

        error.InnerException.ShouldBeOfType<HttpRequestException>();
        (await kit.Orders.FindAsync(order.Id))!.PendingGrants.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task HandleAsync_RevocationFailedInlineOnARefund_RevokesWhenTheRefundIsDelivered()
    {
        var kit = new OfferTestKit();
        Order order = await kit.BuyAsync(4, new CartLine(OfferPathCatalogue.Basic, 1, null));
        await kit.Service.RecordPaymentAsync(order.Id, order.Total);
        kit.Grantor.FailingProduct = order.Lines[0].Products[0];
        OrderResult refunded = await kit.Service.RefundAsync(order.Id, order.Total);
        refunded.EntitlementError.ShouldNotBeNull();
        kit.Grantor.FailingProduct = null;
        RefundIssued refund = refunded.Events.OfType<RefundIssued>().Single();

        await Handler(kit).HandleAsync(refund);
        await Handler(kit).HandleAsync(refund);

        kit.Grantor.Revoked.Count.ShouldBe(kit.Grantor.Granted.Count);
        (await kit.Orders.FindAsync(order.Id))!.HasPendingEntitlements.ShouldBeFalse();
    }

    [Fact]
    public async Task HandleAsync_NotAnOrderEvent_NeedsNoOrderService()
    {
        var handler = new EntitlementsHandler(new ServiceCollection().BuildServiceProvider());

        await handler.HandleAsync(new UpsellDeclined
        {
            LeadId = OfferTestKit.Lead(5), OccurredAt = OfferTestKit.T0, ParentOrder = OrderId.New(), Offer = OfferPathCatalogue.Basic,
        });
    }

    [Fact]
    public async Task HandleAsync_PaymentForAnOrderNotInTheStore_NeedsNoCatalogueAndDoesNothing()
    {
        using ServiceProvider services = new ServiceCollection().AddFunnelCommerce().BuildServiceProvider();
        var handler = new EntitlementsHandler(services);

        await handler.HandleAsync(new PaymentSucceeded
        {
            LeadId = OfferTestKit.Lead(6), OccurredAt = OfferTestKit.T0, Order = OrderId.New(), Amount = OfferTestKit.Usd(100),
        });
    }

    [Fact]
    public void AddFunnelCommerce_Registered_AddsTheEntitlementsHandlerToThePipeline()
    {
        using ServiceProvider services = new ServiceCollection().AddFunnelCommerce().BuildServiceProvider();

        services.GetRequiredService<FunnelPipeline>().Handlers.ShouldContain(EntitlementsHandler.Name);
    }

    private static EntitlementsHandler Handler(OfferTestKit kit) =>
        new(new ServiceCollection().AddSingleton(kit.Service).AddSingleton<IOrderStore>(kit.Orders).BuildServiceProvider());
}
