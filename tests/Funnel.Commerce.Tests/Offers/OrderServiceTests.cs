using Funnel.Events;
using Funnel.Kpis;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using NodaTime;
using static Funnel.Tests.Offers.OfferTestKit;

namespace Funnel.Tests.Offers;

public class OrderServiceTests
{
    private static readonly CartLine Basic = new(OfferPathCatalogue.Basic);
    private static readonly CartLine Bump = new(OfferPathCatalogue.CoverPack);

    [Fact]
    public async Task PlaceOrder_WithBump_EmitsCheckoutOrderAndAddOnEventsAndGrantsNothingYet()
    {
        var kit = new OfferTestKit();

        Checkout checkout = await kit.Service.StartCheckoutAsync(Lead(1), new Cart { Lines = [Basic, Bump], CouponCodes = ["LAUNCH20"] }, NewYork);
        OrderResult placed = await kit.Service.PlaceOrderAsync(checkout, "pm_123");

        checkout.Events.ShouldHaveSingleItem().ShouldBeOfType<CheckoutStarted>().Offer.ShouldBe(OfferPathCatalogue.Basic);
        Order order = placed.Order!;
        order.Status.ShouldBe(OrderStatus.AwaitingPayment);
        order.Total.ShouldBe(Usd(419.20m));
        order.Coupons.ShouldBe(["LAUNCH20"]);
        order.Entitlements.ShouldBeEmpty();
        placed.Events.Select(e => e.EventType).ShouldBe([EventTypes.OrderPlaced, OfferEventTypes.AddOnAccepted]);
        placed.Events[0].ShouldBeOfType<OrderPlaced>().Total.ShouldBe(Usd(419.20m));
        placed.Events[1].ShouldBeOfType<AddOnAccepted>().Amount.ShouldBe(Usd(21.60m));
        kit.Grantor.Granted.ShouldBeEmpty();
        (await kit.Orders.FindAsync(order.Id)).ShouldBe(order);
    }

    [Fact]
    public async Task RecordPayment_First_GrantsEveryProductOnce()
    {
        var kit = new OfferTestKit();
        Order order = await kit.BuyAsync(1, new CartLine(OfferPathCatalogue.Basic, 1, "3-monthly"), Bump);

        OrderResult first = await kit.Service.RecordPaymentAsync(order.Id, order.Schedule[0].Amount);
        OrderResult second = await kit.Service.RecordPaymentAsync(order.Id, order.Schedule[1].Amount);

        first.Order!.Status.ShouldBe(OrderStatus.Paid);
        // The lead never saw the enroll-this-week deadline start, so its bonus is still open and included.
        kit.Grantor.Granted.Select(e => e.Product).ShouldBe(["masterclass-videos", "masterclass-templates", "masterclass-community", "strategy-call-30", "cover-design-pack"]);
        kit.Grantor.Granted.Select(e => e.Kind).ShouldContain(ProductKind.CommunityAccess);
        first.Events.Select(e => e.EventType).ShouldBe([EventTypes.PaymentSucceeded, .. Enumerable.Repeat(OfferEventTypes.EntitlementGranted, 5)]);
        second.Events.ShouldHaveSingleItem().ShouldBeOfType<PaymentSucceeded>().Amount.ShouldBe(Usd(180m));
        second.Order!.Paid.ShouldBe(Usd(387m));
        second.Order.HasPendingEntitlements.ShouldBeFalse();
        second.Order.Version.ShouldBe(first.Order.Version + 1);
    }

    [Fact]
    public async Task RecordPayment_GrantorFails_KeepsThePaymentAndTheGrantPendingUntilRetried()
    {
        var kit = new OfferTestKit();
        Order order = await kit.BuyAsync(1, Basic, Bump);
        kit.Grantor.FailingProduct = "masterclass-community";

        OrderResult paid = await kit.Service.RecordPaymentAsync(order.Id, order.Total);

        paid.EntitlementError.ShouldBeOfType<HttpRequestException>();
        paid.Order!.Status.ShouldBe(OrderStatus.Paid);
        paid.Order.Paid.ShouldBe(order.Total);
        paid.Events.Select(e => e.EventType).ShouldBe([EventTypes.PaymentSucceeded, OfferEventTypes.EntitlementGranted, OfferEventTypes.EntitlementGranted]);
        kit.Grantor.Granted.Select(e => e.Product).ShouldBe(["masterclass-videos", "masterclass-templates"]);
        Order stored = (await kit.Orders.FindAsync(order.Id))!;
        stored.HasPendingEntitlements.ShouldBeTrue();
        stored.PendingGrants.Select(e => e.Product).ShouldBe(["masterclass-community", "strategy-call-30", "cover-design-pack"]);

        OrderResult stillDown = await kit.Service.RetryEntitlementsAsync(order.Id);
        kit.Grantor.FailingProduct = null;
        OrderResult retried = await kit.Service.RetryEntitlementsAsync(order.Id);

        stillDown.EntitlementError.ShouldNotBeNull();
        stillDown.Events.ShouldBeEmpty();
        retried.EntitlementError.ShouldBeNull();
        retried.Events.OfType<EntitlementGranted>().Select(e => e.Product).ShouldBe(["masterclass-community", "strategy-call-30", "cover-design-pack"]);
        retried.Order!.HasPendingEntitlements.ShouldBeFalse();
        kit.Grantor.Granted.Select(e => e.Product).ShouldBe(["masterclass-videos", "masterclass-templates", "masterclass-community", "strategy-call-30", "cover-design-pack"]);
    }

    [Fact]
    public async Task Refund_OfAGrantThatNeverWentThrough_DropsItWithoutRevokingAndRetriesFailedRevocations()
    {
        var kit = new OfferTestKit();
        Order order = await kit.BuyAsync(1, Basic, Bump);
        kit.Grantor.FailingProduct = "cover-design-pack";
        await kit.Service.RecordPaymentAsync(order.Id, order.Total);

        OrderResult bumpRefund = await kit.Service.RefundAsync(order.Id, Usd(27m), [OfferPathCatalogue.CoverPack]);

        bumpRefund.EntitlementError.ShouldBeNull();
        bumpRefund.Order!.HasPendingEntitlements.ShouldBeFalse();
        kit.Grantor.Revoked.ShouldBeEmpty();

        kit.Grantor.FailingProduct = "masterclass-videos";
        OrderResult full = await kit.Service.RefundAsync(order.Id, order.Total - Usd(27m));

        full.EntitlementError.ShouldNotBeNull();
        full.Order!.Status.ShouldBe(OrderStatus.Refunded);
        full.Order.PendingRevocations.Select(e => e.Product).ShouldBe(["masterclass-videos", "masterclass-templates", "masterclass-community", "strategy-call-30"]);
        kit.Grantor.FailingProduct = null;
        OrderResult retried = await kit.Service.RetryEntitlementsAsync(order.Id);
        retried.Events.OfType<EntitlementRevoked>().Count().ShouldBe(4);
        retried.Order!.HasPendingEntitlements.ShouldBeFalse();
        kit.Grantor.Revoked.Select(e => e.Product).ShouldBe(["masterclass-videos", "masterclass-templates", "masterclass-community", "strategy-call-30"]);
    }

    [Fact]
    public async Task RecordPayment_Overpaying_Throws()
    {
        var kit = new OfferTestKit();
        Order order = await kit.BuyAsync(1, Bump);

        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => kit.Service.RecordPaymentAsync(order.Id, Usd(28m)));
        await Should.ThrowAsync<ArgumentException>(() => kit.Service.RecordPaymentAsync(order.Id, Money.FromMajor(27m, Currency.EUR)));
    }

    [Fact]
    public async Task RecordPayment_ConcurrentInstallments_AreAllCounted()
    {
        var kit = new OfferTestKit();
        Order order = await kit.BuyAsync(1, new CartLine(OfferPathCatalogue.CoverPack, 10));

        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => kit.Service.RecordPaymentAsync(order.Id, Usd(27m)))));

        (await kit.Orders.FindAsync(order.Id))!.Paid.ShouldBe(Usd(270m));
        kit.Grantor.Granted.Count.ShouldBe(1);
    }

    [Fact]
    public async Task RecordPayment_ConcurrentPaymentsAndRetries_ReportEachGrantOnce()
    {
        var kit = new OfferTestKit();
        kit.Grantor.Remote = true;
        Order order = await kit.BuyAsync(1, Basic, Bump);
        Money half = Usd(262m);

        OrderResult[] results = await Task.WhenAll(
            Enumerable.Range(0, 2).Select(_ => Task.Run(() => kit.Service.RecordPaymentAsync(order.Id, half)))
                .Concat(Enumerable.Range(0, 8).Select(_ => Task.Run(() => kit.Service.RetryEntitlementsAsync(order.Id)))));

        Order paid = (await kit.Orders.FindAsync(order.Id))!;
        paid.Status.ShouldBe(OrderStatus.Paid);
        paid.HasPendingEntitlements.ShouldBeFalse();
        paid.Entitlements.Length.ShouldBe(5);
        string[] granted = [.. results.SelectMany(r => r.Events).OfType<EntitlementGranted>().Select(e => e.Product).Order(StringComparer.Ordinal)];
        granted.ShouldBe([.. paid.Entitlements.Select(e => e.Product).Order(StringComparer.Ordinal)]);
        kit.Grantor.Granted.Count.ShouldBe(5);
    }

    [Fact]
    public async Task Refund_PartialForTheBump_RevokesOnlyTheBump()
    {
        var kit = new OfferTestKit();
        Order order = await kit.BuyAsync(1, Basic, Bump);
        await kit.Service.RecordPaymentAsync(order.Id, order.Total);

        OrderResult refund = await kit.Service.RefundAsync(order.Id, Usd(27m), [OfferPathCatalogue.CoverPack]);

        refund.Order!.Status.ShouldBe(OrderStatus.PartiallyRefunded);
        kit.Grantor.Revoked.Select(e => e.Product).ShouldBe(["cover-design-pack"]);
        refund.Order.Entitlements.Select(e => e.Product).ShouldBe(["masterclass-videos", "masterclass-templates", "masterclass-community", "strategy-call-30"]);
        refund.Events.Select(e => e.EventType).ShouldBe([EventTypes.RefundIssued, OfferEventTypes.EntitlementRevoked]);
    }

    [Fact]
    public async Task Refund_Full_RevokesEverythingAndFreesTheSeat()
    {
        Catalogue limited = OfferPathCatalogue.Catalogue with
        {
            Offers = OfferPathCatalogue.Catalogue.Offers.SetItem(0, OfferPathCatalogue.Catalogue.Offers[0] with { Seats = new SeatLimit { Capacity = 1 } }),
        };
        var kit = new OfferTestKit(limited);
        Order order = await kit.BuyAsync(1, Basic);
        await kit.Service.RecordPaymentAsync(order.Id, order.Total);
        (await kit.Service.StartCheckoutAsync(Lead(2), new Cart { Lines = [Basic] }, NewYork)).Rejection.ShouldBe(OrderRejection.SoldOut);

        await kit.Service.RefundAsync(order.Id, Usd(400m));
        OrderResult full = await kit.Service.RefundAsync(order.Id, Usd(97m));

        full.Order!.Status.ShouldBe(OrderStatus.Refunded);
        full.Order.Entitlements.ShouldBeEmpty();
        kit.Grantor.Revoked.Count.ShouldBe(4);
        (await kit.Service.StartCheckoutAsync(Lead(2), new Cart { Lines = [Basic] }, NewYork)).Rejection.ShouldBeNull();
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => kit.Service.RefundAsync(order.Id, Usd(1m)));
    }

    [Fact]
    public async Task AcceptUpsell_OneClick_ChargesThePaymentMethodOnFile()
    {
        var kit = new OfferTestKit();
        Order basic = await kit.BuyAsync(1, Basic);

        OrderResult upsell = await kit.Service.AcceptUpsellAsync(basic.Id, OfferPathCatalogue.Premium, NewYork, "3-monthly");

        upsell.Order!.PaymentMethod.ShouldBe("pm_card_on_file");
        upsell.Order.UpsellOf.ShouldBe(basic.Id);
        upsell.Order.Total.ShouldBe(Usd(810m));
        upsell.Order.Schedule.Length.ShouldBe(3);
        upsell.Events.Select(e => e.EventType).ShouldBe([OfferEventTypes.UpsellAccepted, EventTypes.OrderPlaced]);
        upsell.Events[0].ShouldBeOfType<UpsellAccepted>().Order.ShouldBe(upsell.Order.Id);
    }

    [Fact]
    public async Task AcceptUpsell_NotInThePathOrNoPaymentMethod_Throws()
    {
        var kit = new OfferTestKit();
        Order basic = await kit.BuyAsync(1, Basic);
        Checkout checkout = await kit.Service.StartCheckoutAsync(Lead(2), new Cart { Lines = [Basic] }, NewYork);
        Order noCard = (await kit.Service.PlaceOrderAsync(checkout, paymentMethod: null)).Order!;

        await Should.ThrowAsync<ArgumentException>(() => kit.Service.AcceptUpsellAsync(basic.Id, OfferPathCatalogue.LaunchPlanner, NewYork));
        await Should.ThrowAsync<InvalidOperationException>(() => kit.Service.AcceptUpsellAsync(noCard.Id, OfferPathCatalogue.Premium, NewYork));
    }

    [Fact]
    public async Task PlaceOrder_BeforeTheEvergreenDeadline_IncludesTheBonus()
    {
        var kit = new OfferTestKit();
        await kit.Deadlines.ObserveAsync(OfferPathCatalogue.EnrollThisWeek, new SalesPageVisited { LeadId = Lead(1), OccurredAt = T0, Offer = OfferPathCatalogue.Basic });
        await kit.Deadlines.ObserveAsync(OfferPathCatalogue.EnrollThisWeek, new SalesPageVisited { LeadId = Lead(2), OccurredAt = T0, Offer = OfferPathCatalogue.Basic });

        Order early = await kit.BuyAsync(1, Basic);
        kit.Clock.Advance(Duration.FromDays(8));
        Order late = await kit.BuyAsync(2, Basic);

        early.Lines[0].Products.ShouldContain("strategy-call-30");
        late.Lines[0].Products.ShouldNotContain("strategy-call-30");
    }

    [Fact]
    public async Task StartCheckout_AfterTheOffersDeadline_IsRejected()
    {
        Catalogue closing = OfferPathCatalogue.Catalogue with
        {
            Offers = OfferPathCatalogue.Catalogue.Offers.SetItem(2, OfferPathCatalogue.Catalogue.Offers[2] with { Deadline = new Deadline { Key = "kit-closes", EndsAt = T0 + Duration.FromHours(1) } }),
        };
        var kit = new OfferTestKit(closing);
        var cart = new Cart { Lines = [new(OfferPathCatalogue.MiniKit)] };

        (await kit.Service.StartCheckoutAsync(Lead(1), cart, NewYork)).Rejection.ShouldBeNull();
        kit.Clock.Advance(Duration.FromHours(1));
        Checkout late = await kit.Service.StartCheckoutAsync(Lead(1), cart, NewYork);

        late.Rejection.ShouldBe(OrderRejection.DeadlinePassed);
        late.Quote.ShouldBeNull();
        late.Events.ShouldBeEmpty();
    }

    [Fact]
    public async Task PlaceOrder_CouponLimitReached_IsRejectedAndGivesTheSeatBack()
    {
        Catalogue catalogue = OfferPathCatalogue.Catalogue with
        {
            Offers = OfferPathCatalogue.Catalogue.Offers.SetItem(0, OfferPathCatalogue.Catalogue.Offers[0] with { Seats = new SeatLimit { Capacity = 5 } }),
            Coupons = [new Coupon { Code = "ONCE", PercentOff = 50m, MaxRedemptions = 1 }],
        };
        var kit = new OfferTestKit(catalogue);
        var cart = new Cart { Lines = [Basic], CouponCodes = ["ONCE"] };

        Checkout first = await kit.Service.StartCheckoutAsync(Lead(1), cart, NewYork);
        Checkout second = await kit.Service.StartCheckoutAsync(Lead(2), cart, NewYork);
        second.Quote!.Total.ShouldBe(Usd(248.50m));
        (await kit.Service.PlaceOrderAsync(first, "pm")).Order.ShouldNotBeNull();
        OrderResult rejected = await kit.Service.PlaceOrderAsync(second, "pm");

        rejected.Rejection.ShouldBe(OrderRejection.CouponLimitReached);
        rejected.Order.ShouldBeNull();
        kit.Seats.Count(OfferPathCatalogue.Basic).ShouldBe((1, 0));
    }

    [Fact]
    public async Task PlaceOrder_TwiceFromOneCheckout_ConfirmsTheSeatOnce()
    {
        Catalogue catalogue = OfferPathCatalogue.Catalogue with
        {
            Offers = OfferPathCatalogue.Catalogue.Offers.SetItem(0, OfferPathCatalogue.Catalogue.Offers[0] with { Seats = new SeatLimit { Capacity = 5 } }),
        };
        var kit = new OfferTestKit(catalogue);
        Checkout checkout = await kit.Service.StartCheckoutAsync(Lead(1), new Cart { Lines = [Basic] }, NewYork);

        (await kit.Service.PlaceOrderAsync(checkout, "pm")).Order.ShouldNotBeNull();
        (await kit.Service.PlaceOrderAsync(checkout, "pm")).Rejection.ShouldBe(OrderRejection.SeatExpired);
        kit.Seats.Count(OfferPathCatalogue.Basic).ShouldBe((1, 0));
    }

    [Fact]
    public async Task PlaceOrder_SeatHoldExpired_IsRejected()
    {
        Catalogue catalogue = OfferPathCatalogue.Catalogue with
        {
            Offers = OfferPathCatalogue.Catalogue.Offers.SetItem(0, OfferPathCatalogue.Catalogue.Offers[0] with { Seats = new SeatLimit { Capacity = 1, HoldFor = Duration.FromMinutes(10) } }),
        };
        var kit = new OfferTestKit(catalogue);
        Checkout checkout = await kit.Service.StartCheckoutAsync(Lead(1), new Cart { Lines = [Basic] }, NewYork);

        kit.Clock.Advance(Duration.FromMinutes(10));

        (await kit.Service.PlaceOrderAsync(checkout, "pm")).Rejection.ShouldBe(OrderRejection.SeatExpired);
    }

    [Fact]
    public async Task Events_FeedTheKpiReport_CartAbandonmentSeesCheckoutsAndOrders()
    {
        var kit = new OfferTestKit();
        var events = new List<FunnelEvent>();
        Checkout bought = await kit.Service.StartCheckoutAsync(Lead(1), new Cart { Lines = [Basic] }, NewYork);
        events.AddRange(bought.Events);
        OrderResult order = await kit.Service.PlaceOrderAsync(bought, "pm");
        events.AddRange(order.Events);
        events.AddRange((await kit.Service.RecordPaymentAsync(order.Order!.Id, order.Order.Total)).Events);
        events.AddRange((await kit.Service.StartCheckoutAsync(Lead(2), new Cart { Lines = [Basic] }, NewYork)).Events);
        events.AddRange((await kit.Service.RefundAsync(order.Order.Id, Usd(497m))).Events);

        FunnelReport report = new FunnelReporter().CreateReport(Funnel.Samples.EbookMasterclass.MasterclassScenario.Funnel, events);

        report.CheckoutsStarted.ShouldBe(2);
        report.CheckoutsAbandoned.ShouldBe(1);
        report.Overall.Revenue.ShouldBe(Usd(497m));
        report.RefundedOrders.ShouldBe(1);
    }
}
