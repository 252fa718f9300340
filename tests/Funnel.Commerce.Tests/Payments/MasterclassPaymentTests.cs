using System.Collections.Immutable;
using Funnel.Kpis;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tests.Offers;
using NodaTime;

namespace Funnel.Tests.Payments;

public sealed class MasterclassPaymentTests
{
    private static readonly Money Installment = OfferTestKit.Usd(180m);

    [Fact]
    public async Task PayAsync_ThreeInstallmentPlanWithEveryWebhookReplayedTwiceOutOfOrder_GrantsOnceAndCollectsThreeInstallments()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(1, "3-monthly");
        PaymentAttempt first = await kit.PayAsync(order.Id);
        first.Payment!.Outcome.ShouldBe(PaymentOutcome.Succeeded);
        kit.Kit.Clock.Advance(Duration.FromDays(32));
        kit.Gateway.CollectDueInstallments().Single().Outcome.ShouldBe(PaymentOutcome.Succeeded);
        kit.Kit.Clock.Advance(Duration.FromDays(31));
        kit.Gateway.CollectDueInstallments().Single().Outcome.ShouldBe(PaymentOutcome.Succeeded);

        ImmutableArray<WebhookRequest> webhooks = kit.Gateway.Webhooks;
        webhooks.Length.ShouldBe(3);
        ImmutableArray<WebhookResult> results = await kit.DeliverAsync([.. webhooks.Reverse(), .. webhooks.Reverse(), webhooks[1], webhooks[0]]);

        results.Count(r => r.Outcome == WebhookOutcome.Processed).ShouldBe(3);
        results.Count(r => r.Outcome == WebhookOutcome.Duplicate).ShouldBe(5);
        Order paid = await kit.OrderAsync(order.Id);
        paid.Installments.Select(i => i.Status).ShouldAllBe(s => s == InstallmentStatus.Paid);
        paid.Installments.Select(i => i.PaymentId).Distinct().Count().ShouldBe(3);
        paid.Paid.ShouldBe(OfferTestKit.Usd(540m));
        paid.Status.ShouldBe(OrderStatus.Paid);
        kit.Grantor.Granted.Select(g => g.Product).ShouldBe(
            ["masterclass-videos", "masterclass-templates", "masterclass-community", "strategy-call-30"], ignoreOrder: true);
        kit.Grantor.Revoked.ShouldBeEmpty();

        FunnelReport report = new FunnelReporter(new FunnelReportSettings { Sections = [PaymentMetrics.ReportSection] }).CreateReport(MasterclassScenario.Funnel, kit.Events);
        report.Overall.Revenue.ShouldBe(OfferTestKit.Usd(540m));
        report.Section<PaymentMetrics>()!.Collected.ShouldBe(OfferTestKit.Usd(540m));
        report.Section<PaymentMetrics>()!.Payments.ShouldBe(3);
        report.Section<PaymentMetrics>()!.InstallmentsPaid.ShouldBe(3);
        report.Section<PaymentMetrics>()!.FailedInstallmentRate.ShouldBe(Ratio.Of(0, 3));
    }

    [Fact]
    public async Task RetryFailedInstallmentsAsync_ThirdInstallmentDeclinedThenPaid_PausesAndRestoresAccess()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(2, "3-monthly");
        await kit.PayAsync(order.Id);
        string savedMethod = (await kit.OrderAsync(order.Id)).PaymentMethod!;
        kit.Kit.Clock.Advance(Duration.FromDays(32));
        kit.Gateway.CollectDueInstallments();
        kit.Gateway.ReplaceCard(savedMethod, InMemoryPaymentGateway.InsufficientFundsCard);
        kit.Kit.Clock.Advance(Duration.FromDays(31));
        kit.Gateway.CollectDueInstallments().Single().DeclineCode.ShouldBe("insufficient_funds");
        await kit.DeliverAsync(kit.Gateway.Webhooks);

        Order paused = await kit.OrderAsync(order.Id);
        paused.AccessPaused.ShouldBeTrue();
        paused.Installments[2].Status.ShouldBe(InstallmentStatus.Failed);
        paused.Installments[2].FailedAttempts.ShouldBe(1);
        kit.Grantor.Revoked.Count.ShouldBe(4);
        kit.Events.OfType<AccessPaused>().Single().Installment.ShouldBe(3);

        kit.Gateway.ReplaceCard(savedMethod, InMemoryPaymentGateway.SucceedingCard);
        (await kit.Payments.RetryFailedInstallmentsAsync(order.Id)).ShouldBeEmpty("the first retry is due 3 days after the failure");
        kit.Kit.Clock.Advance(Duration.FromDays(3));
        ImmutableArray<PaymentAttempt> retried = await kit.Payments.RetryFailedInstallmentsAsync(order.Id);
        await kit.DeliverAsync(kit.Gateway.Webhooks);

        retried.Single().Payment!.Outcome.ShouldBe(PaymentOutcome.Succeeded);
        Order restored = await kit.OrderAsync(order.Id);
        restored.AccessPaused.ShouldBeFalse();
        restored.Installments.ShouldAllBe(i => i.Status == InstallmentStatus.Paid);
        restored.Paid.ShouldBe(OfferTestKit.Usd(540m));
        restored.Entitlements.Length.ShouldBe(4);
        kit.Grantor.Granted.Count.ShouldBe(8, "four grants at purchase and four when access was restored");
        kit.Events.OfType<AccessRestored>().Count().ShouldBe(1);

        FunnelReport report = new FunnelReporter(new FunnelReportSettings { Sections = [PaymentMetrics.ReportSection] }).CreateReport(MasterclassScenario.Funnel, kit.Events);
        report.Section<PaymentMetrics>()!.Collected.ShouldBe(OfferTestKit.Usd(540m));
        report.Section<PaymentMetrics>()!.InstallmentsFailed.ShouldBe(1);
        report.Section<PaymentMetrics>()!.FailedInstallmentRate.ShouldBe(Ratio.Of(1, 3));
    }

    [Fact]
    public async Task RetryFailedInstallmentsAsync_PartialRefundRevokedTheOfferWhilePaused_DoesNotGrantItAgain()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(9, "3-monthly");
        await kit.PayAsync(order.Id);
        string savedMethod = (await kit.OrderAsync(order.Id)).PaymentMethod!;
        kit.Kit.Clock.Advance(Duration.FromDays(32));
        kit.Gateway.CollectDueInstallments();
        kit.Gateway.ReplaceCard(savedMethod, InMemoryPaymentGateway.InsufficientFundsCard);
        kit.Kit.Clock.Advance(Duration.FromDays(31));
        kit.Gateway.CollectDueInstallments();
        await kit.DeliverAsync(kit.Gateway.Webhooks);
        (await kit.OrderAsync(order.Id)).AccessPaused.ShouldBeTrue();

        await kit.Payments.RefundAsync(order.Id, Installment, [OfferPathCatalogue.Basic]);
        kit.Gateway.ReplaceCard(savedMethod, InMemoryPaymentGateway.SucceedingCard);
        kit.Kit.Clock.Advance(Duration.FromDays(3));
        (await kit.Payments.RetryFailedInstallmentsAsync(order.Id)).Single().Payment!.Outcome.ShouldBe(PaymentOutcome.Succeeded);

        Order after = await kit.OrderAsync(order.Id);
        after.AccessPaused.ShouldBeFalse();
        after.Entitlements.ShouldBeEmpty("the refund took the offer back");
        after.PendingGrants.ShouldBeEmpty();
        kit.Grantor.Granted.Count.ShouldBe(4, "only the grants at purchase");
    }

    [Fact]
    public async Task AcceptUpsellAsync_AfterMainPurchase_ChargesSavedMethodWithoutNewCardEntry()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(3, plan: null);
        await kit.PayAsync(order.Id);
        Order paid = await kit.OrderAsync(order.Id);
        kit.Gateway.CardEntries.ShouldBe(1);
        paid.PaymentMethod.ShouldStartWith("pm_");

        PaymentAttempt upsell = await kit.Payments.AcceptUpsellAsync(order.Id, OfferPathCatalogue.Premium, OfferTestKit.NewYork);

        kit.Gateway.CardEntries.ShouldBe(1);
        upsell.Payment!.Outcome.ShouldBe(PaymentOutcome.Succeeded);
        upsell.Result.Order!.Status.ShouldBe(OrderStatus.Paid);
        upsell.Result.Order.PaymentMethod.ShouldBe(paid.PaymentMethod);
        upsell.Result.Order.Paid.ShouldBe(OfferTestKit.Usd(797m));
        upsell.Result.Events.OfType<UpsellAccepted>().ShouldHaveSingleItem();
        upsell.Result.Events.OfType<Funnel.Events.PaymentSucceeded>().Single().Amount.ShouldBe(OfferTestKit.Usd(797m));
    }

    [Fact]
    public async Task PayAsync_DecliningCard_GrantsNothingAndReportsTheCode()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(4, plan: null);

        PaymentAttempt attempt = await kit.PayAsync(order.Id, InMemoryPaymentGateway.DecliningCard);
        await kit.DeliverAsync(kit.Gateway.Webhooks);

        attempt.Payment!.Outcome.ShouldBe(PaymentOutcome.Declined);
        attempt.Payment.DeclineCode.ShouldBe("card_declined");
        Order after = await kit.OrderAsync(order.Id);
        after.Status.ShouldBe(OrderStatus.AwaitingPayment);
        after.AccessPaused.ShouldBeFalse();
        kit.Grantor.Granted.ShouldBeEmpty();
        kit.Events.OfType<Funnel.Events.PaymentFailed>().Single().Reason.ShouldBe("card_declined");
    }

    [Fact]
    public async Task RetryFailedInstallmentsAsync_CheckoutDeclinedOnAnOrderPlacedWithAMethodOnFile_ChargesNothing()
    {
        var kit = new PaymentTestKit();
        Checkout checkout = await kit.Service.StartCheckoutAsync(
            OfferTestKit.Lead(10), new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic, 1, null)] }, OfferTestKit.NewYork);
        Order order = (await kit.Service.PlaceOrderAsync(checkout, InMemoryPaymentGateway.SucceedingCard)).Order!;
        await kit.PayAsync(order.Id, InMemoryPaymentGateway.DecliningCard);
        await kit.DeliverAsync(kit.Gateway.Webhooks);
        kit.Kit.Clock.Advance(Duration.FromDays(30));

        ImmutableArray<PaymentAttempt> retried = await kit.Payments.RetryFailedInstallmentsAsync(order.Id);

        retried.ShouldBeEmpty("dunning collects overdue installments of a purchase, not a checkout the buyer left after a decline");
        (await kit.OrderAsync(order.Id)).Status.ShouldBe(OrderStatus.AwaitingPayment);
        kit.Grantor.Granted.ShouldBeEmpty();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("3-monthly")]
    public async Task PayAsync_AnotherCardAfterADecline_UsesANewKeyAndPaysTheOrder(string? plan)
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(5, plan);

        PaymentAttempt declined = await kit.PayAsync(order.Id, InMemoryPaymentGateway.DecliningCard);
        PaymentAttempt paid = await kit.PayAsync(order.Id, InMemoryPaymentGateway.SucceedingCard);
        await kit.DeliverAsync(kit.Gateway.Webhooks);

        declined.Payment!.Outcome.ShouldBe(PaymentOutcome.Declined);
        declined.Result.Order!.FailedPaymentAttempts.ShouldBe(1);
        paid.Payment!.Outcome.ShouldBe(PaymentOutcome.Succeeded);
        Order after = await kit.OrderAsync(order.Id);
        after.Status.ShouldBe(OrderStatus.Paid);
        after.FailedPaymentAttempts.ShouldBe(1);
        kit.Grantor.Granted.ShouldNotBeEmpty();
    }

    [Fact]
    public void ForPayment_LaterAttempts_GetDistinctKeysAndTheFirstIsTheOrderKey()
    {
        OrderId order = OrderId.New();

        IdempotencyKeys.ForPayment(order).ShouldBe(IdempotencyKeys.ForOrder(order));
        IdempotencyKeys.ForPayment(order, 2).ShouldBe(IdempotencyKeys.ForOrder(order) + "_try_2");
        IdempotencyKeys.ForPlan(order, 2).ShouldBe(IdempotencyKeys.ForOrder(order) + "_plan_try_2");
        Should.Throw<ArgumentOutOfRangeException>(() => IdempotencyKeys.ForPayment(order, 0));
    }

    [Fact]
    public async Task PayAsync_CardRequiringAuthentication_GrantsOnlyAfterTheBuyerAuthenticates()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(5, plan: null);

        PaymentAttempt attempt = await kit.PayAsync(order.Id, InMemoryPaymentGateway.AuthenticationCard);
        attempt.Payment!.Outcome.ShouldBe(PaymentOutcome.RequiresAction);
        attempt.Payment.ActionToken.ShouldNotBeNull();
        kit.Grantor.Granted.ShouldBeEmpty();

        kit.Gateway.CompleteAuthentication(attempt.Payment.PaymentId!);
        await kit.DeliverAsync(kit.Gateway.Webhooks);

        (await kit.OrderAsync(order.Id)).Status.ShouldBe(OrderStatus.Paid);
        kit.Grantor.Granted.Count.ShouldBe(4);
    }

    [Fact]
    public async Task RefundAsync_PlanPaidInFull_RefundsEachInstallmentAndRevokesOnce()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(6, "3-monthly");
        await kit.PayAsync(order.Id);
        kit.Kit.Clock.Advance(Duration.FromDays(70));
        kit.Gateway.CollectDueInstallments().Length.ShouldBe(2);
        await kit.DeliverAsync(kit.Gateway.Webhooks);

        OrderResult refunded = await kit.Payments.RefundAsync(order.Id, OfferTestKit.Usd(540m));
        ImmutableArray<WebhookResult> replays = await kit.DeliverAsync(kit.Gateway.Webhooks);

        refunded.Order!.Status.ShouldBe(OrderStatus.Refunded);
        refunded.Events.OfType<Funnel.Events.RefundIssued>().Select(r => r.Amount).ShouldBe([Installment, Installment, Installment]);
        replays.SelectMany(r => r.Events).ShouldBeEmpty("the refunds were already recorded by id");
        (await kit.OrderAsync(order.Id)).Refunded.ShouldBe(OfferTestKit.Usd(540m));
        kit.Grantor.Revoked.Count.ShouldBe(4);
        FunnelReport report = new FunnelReporter(new FunnelReportSettings { Sections = [PaymentMetrics.ReportSection] }).CreateReport(MasterclassScenario.Funnel, kit.Events);
        report.Section<PaymentMetrics>()!.RefundRate.ShouldBe(Ratio.Of(1, 1));
    }
}
