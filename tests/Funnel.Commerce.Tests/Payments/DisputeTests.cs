using System.Collections.Immutable;
using System.Text.Json;
using FluentValidation;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tests.Offers;

namespace Funnel.Tests.Payments;

public sealed class DisputeTests
{
    [Fact]
    public async Task ProcessAsync_DisputeUnderDefaultPolicy_PausesAccessAndAWonDisputeRestoresIt()
    {
        var kit = new PaymentTestKit();
        (Order order, string dispute) = await PaidAndDisputedAsync(kit, 40);
        int granted = kit.Grantor.Granted.Count;

        Order paused = await kit.OrderAsync(order.Id);
        kit.Gateway.CloseDispute(dispute, won: true);
        ImmutableArray<WebhookResult> closing = await kit.DeliverAsync([kit.Gateway.Webhooks[^1], kit.Gateway.Webhooks[^1]]);
        Order restored = await kit.OrderAsync(order.Id);

        paused.AccessPaused.ShouldBeTrue();
        paused.Entitlements.ShouldBeEmpty();
        kit.Grantor.Revoked.Count.ShouldBe(granted);
        paused.Disputes.ShouldHaveSingleItem().Status.ShouldBe(DisputeStatus.Open);
        closing.Select(r => r.Outcome).ShouldBe([WebhookOutcome.Processed, WebhookOutcome.Duplicate]);
        restored.AccessPaused.ShouldBeFalse();
        restored.Entitlements.ShouldBe(paused.PausedEntitlements);
        restored.HasPendingEntitlements.ShouldBeFalse();
        kit.Grantor.Granted.Count.ShouldBe(granted * 2);
        restored.Disputes.ShouldHaveSingleItem().Status.ShouldBe(DisputeStatus.Won);
        DisputeClosed closed = kit.Events.OfType<DisputeClosed>().ShouldHaveSingleItem();
        closed.Won.ShouldBeTrue();
        closed.DisputeId.ShouldBe(dispute);
        closed.Amount.ShouldBe(order.Total);
    }

    [Fact]
    public async Task ProcessAsync_DisputeLost_LeavesAccessPaused()
    {
        var kit = new PaymentTestKit();
        (Order order, string dispute) = await PaidAndDisputedAsync(kit, 41);

        kit.Gateway.CloseDispute(dispute, won: false);
        await kit.DeliverAsync([kit.Gateway.Webhooks[^1]]);
        Order lost = await kit.OrderAsync(order.Id);

        lost.AccessPaused.ShouldBeTrue();
        lost.Entitlements.ShouldBeEmpty();
        lost.Disputes.ShouldHaveSingleItem().Status.ShouldBe(DisputeStatus.Lost);
        kit.Events.OfType<DisputeClosed>().ShouldHaveSingleItem().Won.ShouldBeFalse();
    }

    [Fact]
    public async Task ProcessAsync_DisputeUnderRevokePolicy_RevokesForGoodEvenWhenWon()
    {
        var kit = new PaymentTestKit(DunningPolicy.Default with { OnDispute = DisputeAccess.Revoke });
        (Order order, string dispute) = await PaidAndDisputedAsync(kit, 42);
        int granted = kit.Grantor.Granted.Count;

        kit.Gateway.CloseDispute(dispute, won: true);
        await kit.DeliverAsync([kit.Gateway.Webhooks[^1]]);
        Order won = await kit.OrderAsync(order.Id);

        won.Entitlements.ShouldBeEmpty();
        won.PausedEntitlements.ShouldBeEmpty();
        won.AccessPaused.ShouldBeFalse();
        kit.Grantor.Revoked.Count.ShouldBe(granted);
        kit.Grantor.Granted.Count.ShouldBe(granted);
        won.Disputes.ShouldHaveSingleItem().Access.ShouldBe(DisputeAccess.Revoke);
    }

    [Fact]
    public async Task ProcessAsync_DisputeUnderKeepPolicy_LeavesAccessAndRecordsTheDispute()
    {
        var kit = new PaymentTestKit(DunningPolicy.Default with { OnDispute = DisputeAccess.Keep });
        (Order order, _) = await PaidAndDisputedAsync(kit, 43);

        Order kept = await kit.OrderAsync(order.Id);

        kept.AccessPaused.ShouldBeFalse();
        kept.Entitlements.ShouldNotBeEmpty();
        kit.Grantor.Revoked.ShouldBeEmpty();
        kit.Events.OfType<PaymentDisputed>().ShouldHaveSingleItem();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ProcessAsync_CloseDeliveredBeforeOpeningAndReplayed_EndsAsInOrderAndRecordsEachEventOnce(bool won)
    {
        var inOrder = new PaymentTestKit();
        (Order expectedOrder, string expectedDispute) = await PaidAndDisputedAsync(inOrder, 44);
        inOrder.Gateway.CloseDispute(expectedDispute, won);
        await inOrder.DeliverAsync([inOrder.Gateway.Webhooks[^1]]);
        var reordered = new PaymentTestKit();
        Order order = await reordered.PlaceAsync(44, plan: null);
        PaymentAttempt paid = await reordered.PayAsync(order.Id);
        string dispute = reordered.Gateway.Dispute(paid.Payment!.PaymentId!, "fraudulent");
        reordered.Gateway.CloseDispute(dispute, won);
        WebhookRequest opening = reordered.Gateway.Webhooks[^2];
        WebhookRequest closing = reordered.Gateway.Webhooks[^1];

        ImmutableArray<WebhookResult> results = await reordered.DeliverAsync([closing, opening, closing, opening]);

        results.Select(r => r.Outcome).ShouldBe([WebhookOutcome.Processed, WebhookOutcome.Processed, WebhookOutcome.Duplicate, WebhookOutcome.Duplicate]);
        results[1].Events.ShouldBeEmpty("the opening was recorded with the close");
        Order actual = await reordered.OrderAsync(order.Id);
        Order expected = await inOrder.OrderAsync(expectedOrder.Id);
        actual.AccessPaused.ShouldBe(expected.AccessPaused);
        actual.Entitlements.Select(e => e.Product).ShouldBe(expected.Entitlements.Select(e => e.Product));
        actual.Disputes.Single().Status.ShouldBe(expected.Disputes.Single().Status);
        reordered.Events.OfType<PaymentDisputed>().ShouldHaveSingleItem();
        reordered.Events.OfType<DisputeClosed>().ShouldHaveSingleItem().Won.ShouldBe(won);
    }

    [Fact]
    public async Task ProcessAsync_CloseThenOpeningBothBeforeThePayment_AreParkedAndAppliedOnceWhenThePaymentArrives()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(45, plan: null);
        PaymentResult charged = await kit.Gateway.ChargeAsync(new ChargeRequest
        {
            Order = order.Id, Lead = order.Lead, Amount = order.Total, PaymentMethod = InMemoryPaymentGateway.SucceedingCard, IdempotencyKey = "key-45",
        });
        string dispute = kit.Gateway.Dispute(charged.PaymentId!, "fraudulent");
        kit.Gateway.CloseDispute(dispute, won: false);
        (WebhookRequest payment, WebhookRequest opening, WebhookRequest closing) = (kit.Gateway.Webhooks[0], kit.Gateway.Webhooks[1], kit.Gateway.Webhooks[2]);

        ImmutableArray<WebhookResult> results = await kit.DeliverAsync([closing, opening, payment, closing]);

        results.Select(r => r.Outcome).ShouldBe([WebhookOutcome.Parked, WebhookOutcome.Parked, WebhookOutcome.Processed, WebhookOutcome.Duplicate]);
        Order after = await kit.OrderAsync(order.Id);
        after.Status.ShouldBe(OrderStatus.Paid);
        after.AccessPaused.ShouldBeTrue();
        after.Disputes.ShouldHaveSingleItem().Status.ShouldBe(DisputeStatus.Lost);
        kit.Events.OfType<PaymentDisputed>().ShouldHaveSingleItem();
        kit.Events.OfType<DisputeClosed>().ShouldHaveSingleItem().Won.ShouldBeFalse();
    }

    [Fact]
    public async Task CreateReport_PaymentsAndDisputes_ReportsDisputedMoneyExactlyAndTheRateByCount()
    {
        var kit = new PaymentTestKit(DunningPolicy.Default with { OnDispute = DisputeAccess.Keep });
        (Order first, string lost) = await PaidAndDisputedAsync(kit, 46);
        (Order second, string won) = await PaidAndDisputedAsync(kit, 47);
        for (int lead = 48; lead < 50; lead++)
        {
            await kit.PayAsync((await kit.PlaceAsync(lead, plan: null)).Id);
        }

        kit.Gateway.CloseDispute(lost, won: false);
        kit.Gateway.CloseDispute(won, won: true);
        await kit.DeliverAsync(kit.Gateway.Webhooks);

        FunnelReport report = new FunnelReporter(new FunnelReportSettings { Sections = [PaymentMetrics.ReportSection] }).CreateReport(MasterclassScenario.Funnel, kit.Events);
        PaymentMetrics metrics = report.Section<PaymentMetrics>()!;

        metrics.Disputes.ShouldBe(2);
        metrics.Disputed.ShouldBe(first.Total + second.Total);
        metrics.Payments.ShouldBe(4);
        metrics.DisputeRate.ShouldBe(Ratio.Of(2, 4));
        metrics.DisputesWon.ShouldBe(1);
        metrics.DisputesLost.ShouldBe(1);
    }

    [Fact]
    public void Constructor_UndefinedDisputeAccess_ThrowsNamingTheField()
    {
        var kit = new OfferTestKit();
        var policy = new DunningPolicy { OnDispute = (DisputeAccess)7 };

        ValidationException error = Should.Throw<ValidationException>(() =>
            new PaymentService(kit.Service, kit.Prices, new InMemoryPaymentGateway(kit.Clock), policy, kit.Clock));

        error.Message.ShouldContain("OnDispute");
    }

    [Fact]
    public void Order_StoredBeforeDisputesExisted_ReadsWithNoDisputes()
    {
        var order = new Order
        {
            Id = OrderId.New(), Lead = OfferTestKit.Lead(1), PlacedAt = NodaTime.Instant.FromUnixTimeSeconds(0), Lines = [], Total = OfferTestKit.Usd(1m),
            Schedule = [], Paid = OfferTestKit.Usd(0m), Refunded = OfferTestKit.Usd(0m),
        };
        string json = JsonSerializer.Serialize(order, FunnelJson.Options);
        string legacy = System.Text.RegularExpressions.Regex.Replace(json, "\"disputes\":\\[\\],?", string.Empty);

        legacy.ShouldNotContain("disputes");
        JsonSerializer.Deserialize<Order>(legacy, FunnelJson.Options)!.Disputes.ShouldBeEmpty();
    }

    private static async Task<(Order Order, string Dispute)> PaidAndDisputedAsync(PaymentTestKit kit, int lead)
    {
        Order order = await kit.PlaceAsync(lead, plan: null);
        PaymentAttempt paid = await kit.PayAsync(order.Id);
        string dispute = kit.Gateway.Dispute(paid.Payment!.PaymentId!, "fraudulent");
        await kit.DeliverAsync(kit.Gateway.Webhooks);
        return (await kit.OrderAsync(order.Id), dispute);
    }
}
