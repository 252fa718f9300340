using System.Collections.Immutable;
using System.Text;
using Funnel.Offers;
using Funnel.Payments;
using NodaTime;

namespace Funnel.Tests.Payments;

public sealed class WebhookProcessorTests
{
    [Fact]
    public async Task ProcessAsync_TamperedBody_RejectsWithoutStoring()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(1, plan: null);
        await kit.Gateway.ChargeAsync(Charge(order, "key-1"));
        WebhookRequest genuine = kit.Gateway.Webhooks.Single();
        byte[] tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(genuine.Body.Span).Replace("49700", "1", StringComparison.Ordinal));

        WebhookResult result = await kit.Webhooks.ProcessAsync(tampered, genuine.Headers);

        result.Outcome.ShouldBe(WebhookOutcome.Rejected);
        result.Rejection.ShouldBe(WebhookRejection.SignatureMismatch);
        (await kit.EventStore.ListAsync(WebhookEventStatus.Received, 100)).ShouldBeEmpty();
        (await kit.EventStore.ListAsync(WebhookEventStatus.Processed, 100)).ShouldBeEmpty();
        (await kit.OrderAsync(order.Id)).Status.ShouldBe(OrderStatus.AwaitingPayment);
    }

    [Fact]
    public async Task ProcessAsync_MissingSignature_RejectsWithReason()
    {
        var kit = new PaymentTestKit();

        WebhookResult result = await kit.Webhooks.ProcessAsync("{}"u8.ToArray(), new Dictionary<string, string>());

        result.Outcome.ShouldBe(WebhookOutcome.Rejected);
        result.Rejection.ShouldBe(WebhookRejection.MissingSignature);
        result.Message!.ShouldContain(InMemoryPaymentGateway.SignatureHeader);
    }

    [Fact]
    public async Task ProcessAsync_ConcurrentDuplicates_AppliesExactlyOnce()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(2, plan: null);
        await kit.Gateway.ChargeAsync(Charge(order, "key-2"));
        WebhookRequest webhook = kit.Gateway.Webhooks.Single();

        WebhookResult[] results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => kit.Webhooks.ProcessAsync(webhook.Body, webhook.Headers))));

        results.Count(r => r.Outcome == WebhookOutcome.Processed).ShouldBe(1);
        results.Count(r => r.Outcome == WebhookOutcome.Duplicate).ShouldBe(15);
        results.SelectMany(r => r.Events).OfType<Funnel.Events.PaymentSucceeded>().ShouldHaveSingleItem();
        kit.Grantor.Granted.Count.ShouldBe(4);
        (await kit.OrderAsync(order.Id)).Paid.ShouldBe(order.Total);
    }

    [Fact]
    public async Task ProcessAsync_PlanWebhooksDeliveredConcurrentlyThreeTimes_PaysEachInstallmentOnce()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(6, "3-monthly");
        await kit.Gateway.StartPlanAsync(new InstallmentPlanRequest
        {
            Order = order.Id,
            Lead = order.Lead,
            Installments = order.Schedule,
            Interval = Period.FromMonths(1),
            PaymentMethod = InMemoryPaymentGateway.SucceedingCard,
            IdempotencyKey = IdempotencyKeys.ForPlan(order.Id),
        });
        kit.Kit.Clock.Advance(Duration.FromDays(70));
        kit.Gateway.CollectDueInstallments();
        WebhookRequest[] deliveries = [.. kit.Gateway.Webhooks, .. kit.Gateway.Webhooks, .. kit.Gateway.Webhooks];

        WebhookResult[] results = await Task.WhenAll(deliveries.Select(w => Task.Run(() => kit.Webhooks.ProcessAsync(w.Body, w.Headers))));

        results.Count(r => r.Outcome == WebhookOutcome.Processed).ShouldBe(3);
        results.SelectMany(r => r.Events).OfType<InstallmentPaid>().Select(e => e.Installment).Order().ShouldBe([1, 2, 3]);
        Order paid = await kit.OrderAsync(order.Id);
        paid.Paid.ShouldBe(order.Total);
        kit.Grantor.Granted.Count.ShouldBe(4);
    }

    [Fact]
    public async Task ProcessAsync_RefundBeforeItsPayment_ParksThenAppliesWhenThePaymentArrives()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(3, plan: null);
        PaymentResult charge = await kit.Gateway.ChargeAsync(Charge(order, "key-3"));
        await kit.Gateway.RefundAsync(new RefundRequest { Order = order.Id, PaymentId = charge.PaymentId!, Amount = order.Total, IdempotencyKey = "refund-3" });
        ImmutableArray<WebhookRequest> webhooks = kit.Gateway.Webhooks;

        WebhookResult refundFirst = (await kit.DeliverAsync([webhooks[1]])).Single();
        refundFirst.Outcome.ShouldBe(WebhookOutcome.Parked);
        WebhookResult payment = (await kit.DeliverAsync([webhooks[0]])).Single();

        payment.Outcome.ShouldBe(WebhookOutcome.Processed);
        payment.Events.OfType<Funnel.Events.RefundIssued>().ShouldHaveSingleItem();
        Order after = await kit.OrderAsync(order.Id);
        after.Status.ShouldBe(OrderStatus.Refunded);
        kit.Grantor.Revoked.Count.ShouldBe(4);
        (await kit.EventStore.ListAsync(WebhookEventStatus.Parked, 100)).ShouldBeEmpty();
    }

    [Fact]
    public async Task RetryParkedAsync_PaymentStillNotRecorded_StaysParkedWithTheAttemptAndTheReason()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(41, plan: null);
        PaymentResult charge = await kit.Gateway.ChargeAsync(Charge(order, "key-41"));
        await kit.Gateway.RefundAsync(new RefundRequest { Order = order.Id, PaymentId = charge.PaymentId!, Amount = order.Total, IdempotencyKey = "refund-41" });
        ImmutableArray<WebhookRequest> webhooks = kit.Gateway.Webhooks;
        string eventId = (await kit.DeliverAsync([webhooks[1]])).Single().EventId!;

        WebhookResult retried = (await kit.Webhooks.RetryParkedAsync(eventId)).ShouldNotBeNull();

        retried.Outcome.ShouldBe(WebhookOutcome.Parked);
        retried.Message.ShouldNotBeNull().ShouldContain("is not recorded yet");
        StoredWebhookEvent stored = (await kit.EventStore.FindAsync(eventId)).ShouldNotBeNull();
        (stored.Status, stored.Attempts, stored.Error).ShouldBe((WebhookEventStatus.Parked, 2, retried.Message));
        WebhookResult payment = (await kit.DeliverAsync([webhooks[0]])).Single();
        payment.Events.OfType<Funnel.Events.RefundIssued>().ShouldHaveSingleItem();
        (await kit.EventStore.FindAsync(eventId)).ShouldNotBeNull().Status.ShouldBe(WebhookEventStatus.Processed);
    }

    [Fact]
    public async Task RetryParkedAsync_PaymentRecordedMeanwhile_AppliesItOnce()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(42, plan: null);
        PaymentResult charge = await kit.Gateway.ChargeAsync(Charge(order, "key-42"));
        await kit.Gateway.RefundAsync(new RefundRequest { Order = order.Id, PaymentId = charge.PaymentId!, Amount = order.Total, IdempotencyKey = "refund-42" });
        ImmutableArray<WebhookRequest> webhooks = kit.Gateway.Webhooks;
        string eventId = (await kit.DeliverAsync([webhooks[1]])).Single().EventId!;
        StoredWebhookEvent parked = (await kit.EventStore.FindAsync(eventId)).ShouldNotBeNull();
        // The payment is recorded by another path than its webhook (which would have released the refund itself).
        var bypass = new WebhookProcessor(kit.Gateway.Verifier, new NoParkedLookup(kit.EventStore), kit.Payments, kit.Kit.Clock);
        (await bypass.ProcessAsync(webhooks[0].Body, webhooks[0].Headers)).Outcome.ShouldBe(WebhookOutcome.Processed);
        (await kit.EventStore.FindAsync(eventId)).ShouldNotBeNull().Version.ShouldBe(parked.Version);

        WebhookResult retried = (await kit.Webhooks.RetryParkedAsync(eventId)).ShouldNotBeNull();

        retried.Outcome.ShouldBe(WebhookOutcome.Processed);
        retried.Events.OfType<Funnel.Events.RefundIssued>().ShouldHaveSingleItem();
        (await kit.OrderAsync(order.Id)).Status.ShouldBe(OrderStatus.Refunded);
        (await kit.Webhooks.RetryParkedAsync(eventId)).ShouldBeNull();
    }

    [Fact]
    public async Task RetryParkedAsync_NoSuchParkedEvent_ReturnsNull()
    {
        var kit = new PaymentTestKit();

        (await kit.Webhooks.RetryParkedAsync("evt_missing")).ShouldBeNull();
    }

    [Fact]
    public async Task ProcessAsync_PaymentRecordedWhileTheRefundIsBeingParked_AppliesTheRefund()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(8, plan: null);
        PaymentResult charge = await kit.Gateway.ChargeAsync(Charge(order, "key-8"));
        await kit.Gateway.RefundAsync(new RefundRequest { Order = order.Id, PaymentId = charge.PaymentId!, Amount = order.Total, IdempotencyKey = "refund-8" });
        ImmutableArray<WebhookRequest> webhooks = kit.Gateway.Webhooks;
        var store = new InterleavingStore();
        var processor = new WebhookProcessor(kit.Gateway.Verifier, store, kit.Payments, kit.Kit.Clock);

        // The payment's webhook is processed in full after the refund found no payment but before the refund is stored as parked.
        store.BeforePark = () => processor.ProcessAsync(webhooks[0].Body, webhooks[0].Headers);
        WebhookResult refund = await processor.ProcessAsync(webhooks[1].Body, webhooks[1].Headers);

        refund.Outcome.ShouldBe(WebhookOutcome.Processed);
        refund.Events.OfType<Funnel.Events.RefundIssued>().ShouldHaveSingleItem();
        (await kit.OrderAsync(order.Id)).Status.ShouldBe(OrderStatus.Refunded);
        (await store.ListAsync(WebhookEventStatus.Parked, 100)).ShouldBeEmpty();
    }

    [Fact]
    public async Task RetryFailedAsync_StoreWasDown_ListsTheEventThenAppliesIt()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(4, plan: null);
        await kit.Gateway.ChargeAsync(Charge(order, "key-4"));
        WebhookRequest webhook = kit.Gateway.Webhooks.Single();
        kit.Orders.Down = true;

        WebhookResult failed = await kit.Webhooks.ProcessAsync(webhook.Body, webhook.Headers);
        failed.Outcome.ShouldBe(WebhookOutcome.Failed);
        StoredWebhookEvent listed = (await kit.Webhooks.ListFailedAsync()).ShouldHaveSingleItem();
        listed.Error!.ShouldContain("down");
        (await kit.Webhooks.ProcessAsync(webhook.Body, webhook.Headers)).Outcome.ShouldBe(WebhookOutcome.Duplicate);

        kit.Orders.Down = false;
        WebhookResult retried = (await kit.Webhooks.RetryFailedAsync()).ShouldHaveSingleItem();

        retried.Outcome.ShouldBe(WebhookOutcome.Processed);
        (await kit.Webhooks.ListFailedAsync()).ShouldBeEmpty();
        (await kit.OrderAsync(order.Id)).Status.ShouldBe(OrderStatus.Paid);
    }

    [Fact]
    public async Task RetryAsync_FailedEvent_AppliesItAndASecondRetryFindsNothing()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(5, plan: null);
        await kit.Gateway.ChargeAsync(Charge(order, "key-5"));
        WebhookRequest webhook = kit.Gateway.Webhooks.Single();
        kit.Orders.Down = true;
        WebhookResult failed = await kit.Webhooks.ProcessAsync(webhook.Body, webhook.Headers);
        failed.Outcome.ShouldBe(WebhookOutcome.Failed);
        kit.Orders.Down = false;

        WebhookResult retried = (await kit.Webhooks.RetryAsync(failed.EventId!)).ShouldNotBeNull();

        retried.Outcome.ShouldBe(WebhookOutcome.Processed);
        (await kit.OrderAsync(order.Id)).Status.ShouldBe(OrderStatus.Paid);
        (await kit.EventStore.FindAsync(failed.EventId!)).ShouldNotBeNull().Status.ShouldBe(WebhookEventStatus.Processed);
        (await kit.Webhooks.RetryAsync(failed.EventId!)).ShouldBeNull();
    }

    [Fact]
    public async Task RetryAsync_UnknownOrClaimedEvent_ReturnsNullAndChangesNothing()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(6, plan: null);
        await kit.Gateway.ChargeAsync(Charge(order, "key-6"));
        WebhookRequest webhook = kit.Gateway.Webhooks.Single();
        kit.Orders.Down = true;
        WebhookResult failed = await kit.Webhooks.ProcessAsync(webhook.Body, webhook.Headers);
        var other = new WebhookProcessor(kit.Gateway.Verifier, kit.EventStore, kit.Payments, kit.Kit.Clock);
        kit.Orders.Down = false;
        StoredWebhookEvent before = (await kit.EventStore.FindAsync(failed.EventId!)).ShouldNotBeNull();
        (await kit.EventStore.ClaimRetriesAsync(kit.Kit.Clock.GetCurrentInstant(), kit.Kit.Clock.GetCurrentInstant(), 10,
            kit.Webhooks.StaleAfter, "job")).ShouldHaveSingleItem();

        (await kit.Webhooks.RetryAsync("evt_unknown")).ShouldBeNull();
        (await other.RetryAsync(failed.EventId!)).ShouldBeNull("the retry job holds the claim");

        StoredWebhookEvent after = (await kit.EventStore.FindAsync(failed.EventId!)).ShouldNotBeNull();
        (after.Status, after.Attempts).ShouldBe((WebhookEventStatus.Failed, before.Attempts));
    }

    [Fact]
    public async Task RetryFailedAsync_ProcessStoppedAfterStoringTheEvent_AppliesItOnceStale()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(8, plan: null);
        await kit.Gateway.ChargeAsync(Charge(order, "key-8"));
        WebhookRequest webhook = kit.Gateway.Webhooks.Single();
        WebhookVerification verified = await kit.Gateway.Verifier.VerifyAsync(webhook);
        // What a process that stopped between storing the event and applying it leaves behind.
        (await kit.EventStore.TryAddAsync(new StoredWebhookEvent
        {
            EventId = verified.EventId!,
            EventType = verified.EventType,
            ReceivedAt = kit.Kit.Clock.GetCurrentInstant(),
            Notification = verified.Notification,
            Status = WebhookEventStatus.Received,
        })).ShouldBeTrue();

        (await kit.Webhooks.ListFailedAsync()).ShouldBeEmpty("it may still be being applied");
        (await kit.Webhooks.ProcessAsync(webhook.Body, webhook.Headers)).Outcome.ShouldBe(WebhookOutcome.Duplicate);
        kit.Kit.Clock.Advance(kit.Webhooks.StaleAfter);

        (await kit.Webhooks.ListFailedAsync()).ShouldHaveSingleItem().EventId.ShouldBe(verified.EventId);
        (await kit.Webhooks.RetryFailedAsync()).ShouldHaveSingleItem().Outcome.ShouldBe(WebhookOutcome.Processed);
        (await kit.OrderAsync(order.Id)).Status.ShouldBe(OrderStatus.Paid);
        (await kit.Webhooks.ListFailedAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task RetryFailedAsync_TwoInstancesAtOnce_EachEventRetriedByOneOfThem()
    {
        var kit = new PaymentTestKit();
        for (int lead = 20; lead < 26; lead++)
        {
            Order order = await kit.PlaceAsync(lead, plan: null);
            await kit.Gateway.ChargeAsync(Charge(order, "key-" + lead));
        }

        kit.Orders.Down = true;
        foreach (WebhookRequest webhook in kit.Gateway.Webhooks)
        {
            (await kit.Webhooks.ProcessAsync(webhook.Body, webhook.Headers)).Outcome.ShouldBe(WebhookOutcome.Failed);
        }

        kit.Orders.Down = false;
        var other = new WebhookProcessor(kit.Gateway.Verifier, kit.EventStore, kit.Payments, kit.Kit.Clock);

        ImmutableArray<WebhookResult>[] runs = await Task.WhenAll(
            Task.Run(() => kit.Webhooks.RetryFailedAsync()), Task.Run(() => other.RetryFailedAsync()));

        string[] retried = [.. runs.SelectMany(r => r).Select(r => r.EventId!)];
        retried.Length.ShouldBe(6);
        retried.Distinct().Count().ShouldBe(6);
        runs.SelectMany(r => r).ShouldAllBe(r => r.Outcome == WebhookOutcome.Processed);
        (await kit.EventStore.ListAsync(WebhookEventStatus.Processed, 100)).Length.ShouldBe(6);
    }

    [Fact]
    public async Task RetryFailedAsync_ClaimRanOutAndAnotherInstanceRetried_TheFirstCannotOverwriteIt()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(30, plan: null);
        await kit.Gateway.ChargeAsync(Charge(order, "key-30"));
        WebhookRequest webhook = kit.Gateway.Webhooks.Single();
        kit.Orders.Down = true;
        await kit.Webhooks.ProcessAsync(webhook.Body, webhook.Headers);
        Instant now = kit.Kit.Clock.GetCurrentInstant();
        StoredWebhookEvent claimedFirst = (await kit.EventStore.ClaimRetriesAsync(now, now, 10, kit.Webhooks.StaleAfter, "slow")).ShouldHaveSingleItem();
        kit.Orders.Down = false;

        (await kit.Webhooks.RetryFailedAsync()).ShouldBeEmpty("the slow instance holds the claim");
        kit.Kit.Clock.Advance(kit.Webhooks.StaleAfter);
        (await kit.Webhooks.RetryFailedAsync()).ShouldHaveSingleItem().Outcome.ShouldBe(WebhookOutcome.Processed);

        (await kit.EventStore.TryUpdateAsync(claimedFirst, claimedFirst with { Status = WebhookEventStatus.Failed, Error = "late" })).ShouldBeFalse();
        (await kit.EventStore.FindAsync(claimedFirst.EventId)).ShouldNotBeNull().Status.ShouldBe(WebhookEventStatus.Processed);
    }

    [Fact]
    public async Task ProcessAsync_CancelledWhileApplying_ListsTheEventForRetry()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(7, plan: null);
        await kit.Gateway.ChargeAsync(Charge(order, "key-7"));
        WebhookRequest webhook = kit.Gateway.Webhooks.Single();
        using var cancellation = new CancellationTokenSource();
        kit.Orders.CancelOnRead = cancellation;

        await Should.ThrowAsync<OperationCanceledException>(() => kit.Webhooks.ProcessAsync(webhook.Body, webhook.Headers, cancellation.Token));

        (await kit.Webhooks.ListFailedAsync()).ShouldHaveSingleItem().Attempts.ShouldBe(1);
        (await kit.Webhooks.ProcessAsync(webhook.Body, webhook.Headers)).Outcome.ShouldBe(WebhookOutcome.Duplicate);
        (await kit.Webhooks.RetryFailedAsync()).ShouldHaveSingleItem().Outcome.ShouldBe(WebhookOutcome.Processed);
        (await kit.OrderAsync(order.Id)).Status.ShouldBe(OrderStatus.Paid);
    }

    [Fact]
    public async Task ProcessAsync_Dispute_RecordsOnceAndEmitsEvent()
    {
        var kit = new PaymentTestKit();
        Order order = await kit.PlaceAsync(5, plan: null);
        PaymentAttempt paid = await kit.PayAsync(order.Id);
        kit.Gateway.Dispute(paid.Payment!.PaymentId!, "fraudulent");

        ImmutableArray<WebhookResult> results = await kit.DeliverAsync([.. kit.Gateway.Webhooks, .. kit.Gateway.Webhooks]);

        results.SelectMany(r => r.Events).OfType<PaymentDisputed>().Single().Reason.ShouldBe("fraudulent");
    }

    [Fact]
    public async Task ProcessAsync_OrderNeverPlacedHere_ParksItWithTheReasonAndNeverRetriesIt()
    {
        var kit = new PaymentTestKit();
        Order placed = await kit.PlaceAsync(30, plan: null);
        await kit.Gateway.ChargeAsync(Charge(placed, "key-30") with { Order = OrderId.New() });
        WebhookRequest webhook = kit.Gateway.Webhooks.Single();

        WebhookResult result = await kit.Webhooks.ProcessAsync(webhook.Body, webhook.Headers);
        WebhookResult replay = await kit.Webhooks.ProcessAsync(webhook.Body, webhook.Headers);
        kit.Kit.Clock.Advance(Duration.FromDays(1));
        ImmutableArray<WebhookResult> retried = await kit.Webhooks.RetryFailedAsync();

        result.Outcome.ShouldBe(WebhookOutcome.Unprocessable);
        result.Message!.ShouldContain("unknown");
        replay.Outcome.ShouldBe(WebhookOutcome.Duplicate);
        retried.ShouldBeEmpty();
        (await kit.Webhooks.ListFailedAsync()).ShouldBeEmpty();
        StoredWebhookEvent parked = (await kit.EventStore.ListAsync(WebhookEventStatus.Unprocessable, 10)).ShouldHaveSingleItem();
        parked.Error!.ShouldContain("unknown");
        result.Events.ShouldBeEmpty();
    }

    [Fact]
    public async Task RetryFailedAsync_FailedEventOfAnUnknownOrder_IsParkedInsteadOfRetriedAgain()
    {
        var kit = new PaymentTestKit();
        Order placed = await kit.PlaceAsync(31, plan: null);
        await kit.Gateway.ChargeAsync(Charge(placed, "key-31") with { Order = OrderId.New() });
        WebhookRequest webhook = kit.Gateway.Webhooks.Single();
        kit.Orders.Down = true;
        (await kit.Webhooks.ProcessAsync(webhook.Body, webhook.Headers)).Outcome.ShouldBe(WebhookOutcome.Failed);
        kit.Orders.Down = false;

        WebhookResult retried = (await kit.Webhooks.RetryFailedAsync()).ShouldHaveSingleItem();

        retried.Outcome.ShouldBe(WebhookOutcome.Unprocessable);
        (await kit.Webhooks.RetryFailedAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task ProcessAsync_VerifierSaysUnprocessable_StoresItParkedWithTheReason()
    {
        var kit = new PaymentTestKit();
        var verifier = new FixedVerifier(new WebhookVerification { EventId = "evt_bad", EventType = "invoice.paid", Unprocessable = "funnel_installment overflows" });
        var processor = new WebhookProcessor(verifier, kit.EventStore, kit.Payments, kit.Kit.Clock);

        WebhookResult result = await processor.ProcessAsync(Array.Empty<byte>(), new Dictionary<string, string>());

        result.Outcome.ShouldBe(WebhookOutcome.Unprocessable);
        StoredWebhookEvent stored = (await kit.EventStore.FindAsync("evt_bad")).ShouldNotBeNull();
        (stored.Status, stored.Error, stored.Notification).ShouldBe((WebhookEventStatus.Unprocessable, "funnel_installment overflows", null));
        (await processor.ProcessAsync(Array.Empty<byte>(), new Dictionary<string, string>())).Outcome.ShouldBe(WebhookOutcome.Duplicate);
    }

    private sealed class FixedVerifier(WebhookVerification verification) : IWebhookSignatureVerifier
    {
        public Task<WebhookVerification> VerifyAsync(WebhookRequest request, CancellationToken cancellationToken = default) => Task.FromResult(verification);
    }

    private static ChargeRequest Charge(Order order, string key) => new()
    {
        Order = order.Id,
        Lead = order.Lead,
        Amount = order.Total,
        PaymentMethod = InMemoryPaymentGateway.SucceedingCard,
        IdempotencyKey = key,
        SaveForLater = true,
    };

    /// <summary>An event store that runs <see cref="BeforePark"/> once, just before an event is stored as parked.</summary>
    private sealed class InterleavingStore : IWebhookEventStore
    {
        private readonly InMemoryWebhookEventStore inner = new();

        public Func<Task>? BeforePark { get; set; }

        public Task<StoredWebhookEvent?> FindAsync(string eventId, CancellationToken cancellationToken = default) => inner.FindAsync(eventId, cancellationToken);

        public Task<bool> TryAddAsync(StoredWebhookEvent stored, CancellationToken cancellationToken = default) => inner.TryAddAsync(stored, cancellationToken);

        public async Task<bool> TryUpdateAsync(StoredWebhookEvent current, StoredWebhookEvent replacement, CancellationToken cancellationToken = default)
        {
            if (replacement.Status == WebhookEventStatus.Parked && BeforePark is { } run)
            {
                BeforePark = null;
                await run();
            }

            return await inner.TryUpdateAsync(current, replacement, cancellationToken);
        }

        public Task<ImmutableArray<StoredWebhookEvent>> ListAsync(WebhookEventStatus status, int max, CancellationToken cancellationToken = default) => inner.ListAsync(status, max, cancellationToken);

        public Task<ImmutableArray<StoredWebhookEvent>> ListParkedAsync(OrderId order, string paymentId, CancellationToken cancellationToken = default) =>
            inner.ListParkedAsync(order, paymentId, cancellationToken);

        public Task<ImmutableArray<StoredWebhookEvent>> ClaimRetriesAsync(Instant now, Instant receivedBefore, int max, Duration lease, string owner, CancellationToken cancellationToken = default) =>
            inner.ClaimRetriesAsync(now, receivedBefore, max, lease, owner, cancellationToken);
    }

    /// <summary>A store whose parked lookup finds nothing, as if the payment were recorded without releasing its parked events.</summary>
    private sealed class NoParkedLookup(IWebhookEventStore inner) : IWebhookEventStore
    {
        public Task<StoredWebhookEvent?> FindAsync(string eventId, CancellationToken cancellationToken = default) => inner.FindAsync(eventId, cancellationToken);

        public Task<bool> TryAddAsync(StoredWebhookEvent stored, CancellationToken cancellationToken = default) => inner.TryAddAsync(stored, cancellationToken);

        public Task<bool> TryUpdateAsync(StoredWebhookEvent current, StoredWebhookEvent replacement, CancellationToken cancellationToken = default) =>
            inner.TryUpdateAsync(current, replacement, cancellationToken);

        public Task<ImmutableArray<StoredWebhookEvent>> ListAsync(WebhookEventStatus status, int max, CancellationToken cancellationToken = default) => inner.ListAsync(status, max, cancellationToken);

        public Task<ImmutableArray<StoredWebhookEvent>> ListParkedAsync(OrderId order, string paymentId, CancellationToken cancellationToken = default) =>
            Task.FromResult(ImmutableArray<StoredWebhookEvent>.Empty);

        public Task<ImmutableArray<StoredWebhookEvent>> ClaimRetriesAsync(Instant now, Instant receivedBefore, int max, Duration lease, string owner, CancellationToken cancellationToken = default) =>
            inner.ClaimRetriesAsync(now, receivedBefore, max, lease, owner, cancellationToken);
    }
}
