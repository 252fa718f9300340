using System.Collections.Immutable;
using Funnel.Payments;
using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IWebhookEventStore"/>: subclass it with a <see cref="CreateStore"/> of your store.</summary>
public abstract class WebhookEventStoreSpecificationTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly Duration Lease = Duration.FromMinutes(5);
    private static readonly Currency Usd = Currency.FromCode("USD");

    /// <summary>Returns a new, empty store.</summary>
    protected abstract IWebhookEventStore CreateStore();

    [Fact]
    public async Task TryAddAsync_ConcurrentAddsOfOneEventId_ExactlyOneWins()
    {
        IWebhookEventStore store = CreateStore();

        bool[] added = await Race.RunAsync(Race.Contenders, i => store.TryAddAsync(Event("evt_1", Now + Duration.FromSeconds(i))));

        added.Count(a => a).ShouldBe(1);
        StoredWebhookEvent stored = (await store.FindAsync("evt_1")).ShouldNotBeNull();
        (stored.ReceivedAt, stored.Version).ShouldBe((Now + Duration.FromSeconds(Array.IndexOf(added, true)), 0L));
        (await store.TryAddAsync(Event("evt_1", Now))).ShouldBeFalse();
    }

    [Fact]
    public async Task TryUpdateAsync_ReplacementWithAnotherIdAndVersion_StoredUnderTheCurrentIdWithTheNextVersion()
    {
        IWebhookEventStore store = CreateStore();
        (await store.TryAddAsync(Event("evt_1", Now) with { Version = 7 })).ShouldBeTrue();
        StoredWebhookEvent current = (await store.FindAsync("evt_1")).ShouldNotBeNull();
        current.Version.ShouldBe(0, "an added event is stored with version 0");

        (await store.TryUpdateAsync(current, Event("evt_2", Now) with { Status = WebhookEventStatus.Failed, Version = 42 })).ShouldBeTrue();

        StoredWebhookEvent stored = (await store.FindAsync("evt_1")).ShouldNotBeNull();
        (stored.EventId, stored.Status, stored.Version).ShouldBe(("evt_1", WebhookEventStatus.Failed, 1L));
        (await store.FindAsync("evt_2")).ShouldBeNull();
    }

    [Fact]
    public async Task TryUpdateAsync_StaleVersion_ReturnsFalseAndChangesNothing()
    {
        IWebhookEventStore store = CreateStore();
        StoredWebhookEvent received = Event("evt_1", Now);
        await store.TryAddAsync(received);
        (await store.TryUpdateAsync(received, received with { Status = WebhookEventStatus.Processed })).ShouldBeTrue();

        (await store.TryUpdateAsync(received, received with { Status = WebhookEventStatus.Failed, Error = "late" })).ShouldBeFalse();

        StoredWebhookEvent stored = (await store.FindAsync("evt_1")).ShouldNotBeNull();
        (stored.Status, stored.Error, stored.Version).ShouldBe((WebhookEventStatus.Processed, (string?)null, 1L));
    }

    [Fact]
    public async Task TryUpdateAsync_ParallelUpdatesFromOneVersion_ExactlyOneWins()
    {
        IWebhookEventStore store = CreateStore();
        StoredWebhookEvent received = Event("evt_1", Now);
        await store.TryAddAsync(received);

        bool[] won = await Race.RunAsync(Race.Contenders, i => store.TryUpdateAsync(received, received with { Attempts = i + 1 }));

        won.Count(w => w).ShouldBe(1);
        (await store.FindAsync("evt_1")).ShouldNotBeNull().Attempts.ShouldBe(Array.IndexOf(won, true) + 1);
    }

    [Fact]
    public async Task Unprocessable_AddedOrMovedThere_KeepsItsReasonIsListedAndIsNeverClaimedForRetry()
    {
        IWebhookEventStore store = CreateStore();
        await store.TryAddAsync(Event("evt_added", Now) with { Status = WebhookEventStatus.Unprocessable, Error = "metadata overflows", Notification = null });
        StoredWebhookEvent failed = Event("evt_moved", Now + Duration.FromSeconds(1)) with { Status = WebhookEventStatus.Failed };
        await store.TryAddAsync(failed);
        StoredWebhookEvent current = (await store.FindAsync("evt_moved")).ShouldNotBeNull();
        (await store.TryUpdateAsync(current, current with { Status = WebhookEventStatus.Unprocessable, Error = "order unknown" })).ShouldBeTrue();

        ImmutableArray<StoredWebhookEvent> listed = await store.ListAsync(WebhookEventStatus.Unprocessable, 10);
        ImmutableArray<StoredWebhookEvent> claimed = await store.ClaimRetriesAsync(Now + Duration.FromDays(1), Now + Duration.FromDays(1), 10, Lease, "instance-a");

        listed.Select(e => (e.EventId, e.Error)).ShouldBe([("evt_added", "metadata overflows"), ("evt_moved", "order unknown")]);
        claimed.ShouldBeEmpty();
        (await store.FindAsync("evt_added")).ShouldNotBeNull().Status.ShouldBe(WebhookEventStatus.Unprocessable);
    }

    [Fact]
    public async Task ListAsync_MoreEventsThanMax_ReturnsTheOldestOfTheStatusOnly()
    {
        IWebhookEventStore store = CreateStore();
        for (int i = 0; i < 5; i++)
        {
            await store.TryAddAsync(Event("evt_" + i, Now - Duration.FromMinutes(i)) with { Status = WebhookEventStatus.Failed });
        }

        await store.TryAddAsync(Event("evt_x", Now - Duration.FromDays(1)) with { Status = WebhookEventStatus.Processed });

        ImmutableArray<StoredWebhookEvent> listed = await store.ListAsync(WebhookEventStatus.Failed, 2);

        listed.Select(e => e.EventId).ShouldBe(["evt_4", "evt_3"]);
    }

    [Fact]
    public async Task ListParkedAsync_ParkedEventsOfSeveralPayments_ReturnsOnlyThoseOfTheOrderAndPayment()
    {
        IWebhookEventStore store = CreateStore();
        OrderId order = OrderId.New();
        StoredWebhookEvent refund = Event("evt_refund", Now, order, "pay_1");
        StoredWebhookEvent dispute = Event("evt_dispute", Now + Duration.FromSeconds(1), order, "pay_1");
        await store.TryAddAsync(refund);
        await store.TryAddAsync(dispute);
        await store.TryAddAsync(Event("evt_other_payment", Now, order, "pay_2") with { Status = WebhookEventStatus.Parked });
        await store.TryAddAsync(Event("evt_other_order", Now, OrderId.New(), "pay_1") with { Status = WebhookEventStatus.Parked });
        await store.TryUpdateAsync(refund, refund with { Status = WebhookEventStatus.Parked });
        await store.TryUpdateAsync(dispute, dispute with { Status = WebhookEventStatus.Parked });

        (await store.ListParkedAsync(order, "pay_1")).Select(e => e.EventId).ShouldBe(["evt_refund", "evt_dispute"]);

        StoredWebhookEvent parked = (await store.FindAsync("evt_refund")).ShouldNotBeNull();
        await store.TryUpdateAsync(parked, parked with { Status = WebhookEventStatus.Processed });
        (await store.ListParkedAsync(order, "pay_1")).Select(e => e.EventId).ShouldBe(["evt_dispute"]);
    }

    [Fact]
    public async Task ClaimRetriesAsync_FailedAndStaleReceived_ClaimsThemOldestFirstUpToMax()
    {
        IWebhookEventStore store = CreateStore();
        await store.TryAddAsync(Event("fresh", Now - Duration.FromMinutes(1)));
        await store.TryAddAsync(Event("stale", Now - Duration.FromMinutes(10)));
        await store.TryAddAsync(Event("failed", Now - Duration.FromMinutes(20)) with { Status = WebhookEventStatus.Failed });
        await store.TryAddAsync(Event("failed-new", Now) with { Status = WebhookEventStatus.Failed });
        await store.TryAddAsync(Event("done", Now - Duration.FromDays(1)) with { Status = WebhookEventStatus.Processed });

        ImmutableArray<StoredWebhookEvent> claimed = await store.ClaimRetriesAsync(Now, Now - Duration.FromMinutes(5), 2, Lease, "a");

        claimed.Select(e => e.EventId).ShouldBe(["failed", "stale"]);
        claimed.ShouldAllBe(e => e.ClaimedBy == "a" && e.ClaimedUntil == Now + Lease && e.Version == 1);
        (await store.ClaimRetriesAsync(Now, Now - Duration.FromMinutes(5), 10, Lease, "b")).Select(e => e.EventId).ShouldBe(["failed-new"]);
    }

    [Fact]
    public async Task ClaimRetriesAsync_LeaseEnds_ClaimableAgainAndTheOldHolderIsFenced()
    {
        IWebhookEventStore store = CreateStore();
        await store.TryAddAsync(Event("evt_1", Now) with { Status = WebhookEventStatus.Failed });
        StoredWebhookEvent first = (await store.ClaimRetriesAsync(Now, Now, 10, Lease, "a")).ShouldHaveSingleItem();

        (await store.ClaimRetriesAsync(Now + Lease - Duration.FromSeconds(1), Now, 10, Lease, "b")).ShouldBeEmpty();
        StoredWebhookEvent second = (await store.ClaimRetriesAsync(Now + Lease, Now, 10, Lease, "b")).ShouldHaveSingleItem();
        (second.ClaimedBy, second.Version).ShouldBe(("b", 2L));

        (await store.TryUpdateAsync(first, first with { Status = WebhookEventStatus.Processed, ClaimedBy = null, ClaimedUntil = null })).ShouldBeFalse();
        (await store.TryUpdateAsync(second, second with { Status = WebhookEventStatus.Processed, ClaimedBy = null, ClaimedUntil = null })).ShouldBeTrue();
        (await store.ClaimRetriesAsync(Now + Lease + Lease, Now + Lease + Lease, 10, Lease, "c")).ShouldBeEmpty();
    }

    [Fact]
    public async Task ClaimRetriesAsync_ConcurrentClaimers_EachEventClaimedOnce()
    {
        IWebhookEventStore store = CreateStore();
        for (int i = 0; i < 100; i++)
        {
            await store.TryAddAsync(Event("evt_" + i, Now - Duration.FromSeconds(i)) with { Status = WebhookEventStatus.Failed });
        }

        ImmutableArray<StoredWebhookEvent>[] claims = await Race.RunAsync(Race.Contenders, i => store.ClaimRetriesAsync(Now, Now, 10, Lease, "c" + i));

        string[] ids = [.. claims.SelectMany(c => c).Select(e => e.EventId)];
        ids.Length.ShouldBe(100);
        ids.Distinct().Count().ShouldBe(100);
    }

    private static StoredWebhookEvent Event(string id, Instant receivedAt, OrderId? order = null, string paymentId = "pay_1") => new()
    {
        EventId = id,
        EventType = "charge.refunded",
        ReceivedAt = receivedAt,
        Status = WebhookEventStatus.Received,
        Notification = new PaymentNotification
        {
            EventId = id,
            Kind = PaymentNotificationKind.Refunded,
            Order = order ?? OrderId.New(),
            OccurredAt = receivedAt,
            PaymentId = paymentId,
            Amount = Money.FromMajor(27, Usd),
            AdjustmentId = "re_" + id,
        },
    };
}
