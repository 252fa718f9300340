using Funnel.Advocacy;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Onboarding;
using Funnel.Payments;
using Funnel.Sequences;
using Funnel.Storage.ConformanceTests;
using NodaTime;

namespace Funnel.Tests.Storage;

// The store contract (tests/Funnel.Storage.ConformanceTests) run against every in-memory store; the SQLite and
// PostgreSQL stores run the same suites.
public sealed class InMemoryLeadStoreConformanceTests : LeadStoreSpecificationTests
{
    protected override ILeadStore CreateStore() => new InMemoryLeadStore();
}

public sealed class InMemoryOrderStoreConformanceTests : OrderStoreSpecificationTests
{
    protected override IOrderStore CreateStore() => new InMemoryOrderStore();
}

public sealed class InMemoryReviewStoreConformanceTests : ReviewStoreSpecificationTests
{
    protected override IReviewStore CreateStore() => new InMemoryReviewStore();
}

public sealed class InMemoryEnrolmentStoreConformanceTests : EnrolmentStoreSpecificationTests
{
    protected override IEnrolmentStore CreateStore() => new InMemoryEnrolmentStore();
}

public sealed class InMemorySendOutboxConformanceTests : SendOutboxSpecificationTests
{
    protected override ISendOutbox CreateStore() => new InMemorySendOutbox();
}

public sealed class InMemoryWebhookEventStoreConformanceTests : WebhookEventStoreSpecificationTests
{
    protected override IWebhookEventStore CreateStore() => new InMemoryWebhookEventStore();
}

public sealed class InMemorySeatInventoryConformanceTests : SeatInventorySpecificationTests
{
    protected override ISeatInventory CreateStore(IClock clock) => new InMemorySeatInventory(clock);
}

public sealed class InMemoryCouponRedemptionStoreConformanceTests : CouponRedemptionStoreSpecificationTests
{
    protected override ICouponRedemptionStore CreateStore() => new InMemoryCouponRedemptionStore();
}

public sealed class InMemoryDeadlineStoreConformanceTests : DeadlineStoreSpecificationTests
{
    protected override IDeadlineStore CreateStore() => new InMemoryDeadlineStore();
}

public sealed class InMemoryCourseProgressStoreConformanceTests : CourseProgressStoreSpecificationTests
{
    protected override ICourseProgressStore CreateStore() => new InMemoryCourseProgressStore();
}

/// <summary>
/// Stores that implement only the single-call members, so the batch members run their default implementations
/// (the loops a third-party store written before them gets): the same suites must pass.
/// </summary>
public sealed class DefaultBatchMembersEnrolmentStoreConformanceTests : EnrolmentStoreSpecificationTests
{
    protected override IEnrolmentStore CreateStore() => new SingleCallEnrolmentStore(new InMemoryEnrolmentStore());

    private sealed class SingleCallEnrolmentStore(IEnrolmentStore inner) : IEnrolmentStore
    {
        public Task<bool> TryAddAsync(Enrolment enrolment, ReEntryPolicy reEntry, CancellationToken cancellationToken = default) => inner.TryAddAsync(enrolment, reEntry, cancellationToken);

        public Task<Enrolment?> FindAsync(EnrolmentId id, CancellationToken cancellationToken = default) => inner.FindAsync(id, cancellationToken);

        public Task<System.Collections.Immutable.ImmutableArray<Enrolment>> ListForLeadAsync(LeadId lead, CancellationToken cancellationToken = default) => inner.ListForLeadAsync(lead, cancellationToken);

        public Task<bool> TryUpdateAsync(Enrolment current, Enrolment replacement, CancellationToken cancellationToken = default) => inner.TryUpdateAsync(current, replacement, cancellationToken);

        public Task<bool> TryReserveDayAsync(LeadId lead, LocalDate day, string key, CancellationToken cancellationToken = default) => inner.TryReserveDayAsync(lead, day, key, cancellationToken);
    }
}

/// <inheritdoc cref="DefaultBatchMembersEnrolmentStoreConformanceTests"/>
public sealed class DefaultBatchMembersSendOutboxConformanceTests : SendOutboxSpecificationTests
{
    protected override ISendOutbox CreateStore() => new SingleCallOutbox(new InMemorySendOutbox());

    private sealed class SingleCallOutbox(ISendOutbox inner) : ISendOutbox
    {
        public Task<bool> TryAddAsync(OutboxEntry entry, CancellationToken cancellationToken = default) => inner.TryAddAsync(entry, cancellationToken);

        public Task<OutboxEntry?> FindAsync(string key, CancellationToken cancellationToken = default) => inner.FindAsync(key, cancellationToken);

        public Task<System.Collections.Immutable.ImmutableArray<OutboxEntry>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default) =>
            inner.ClaimDueAsync(now, max, lease, owner, cancellationToken);

        public Task<bool> TryUpdateAsync(OutboxEntry current, OutboxEntry replacement, CancellationToken cancellationToken = default) => inner.TryUpdateAsync(current, replacement, cancellationToken);

        public Task<System.Collections.Immutable.ImmutableArray<global::Funnel.Events.FunnelEvent>> ClaimEventsAsync(Instant now, int max, Duration lease, CancellationToken cancellationToken = default) =>
            inner.ClaimEventsAsync(now, max, lease, cancellationToken);

        public Task AcknowledgeEventsAsync(IEnumerable<EventId> ids, CancellationToken cancellationToken = default) => inner.AcknowledgeEventsAsync(ids, cancellationToken);

        public Task<int> PurgeCompletedAsync(Instant completedBefore, int max, CancellationToken cancellationToken = default) => inner.PurgeCompletedAsync(completedBefore, max, cancellationToken);

        public Task<System.Collections.Immutable.ImmutableArray<OutboxEntry>> ListAsync(SendState state, int limit, CancellationToken cancellationToken = default) =>
            inner.ListAsync(state, limit, cancellationToken);
    }
}

/// <inheritdoc cref="DefaultBatchMembersEnrolmentStoreConformanceTests"/>
public sealed class DefaultBatchMembersLeadStoreConformanceTests : LeadStoreSpecificationTests
{
    protected override ILeadStore CreateStore() => new SingleCallLeadStore(new InMemoryLeadStore());

    private sealed class SingleCallLeadStore(ILeadStore inner) : ILeadStore
    {
        public Task<LeadProfile?> FindAsync(LeadId id, CancellationToken cancellationToken = default) => inner.FindAsync(id, cancellationToken);

        public Task<LeadProfile?> FindByEmailAsync(EmailAddress email, CancellationToken cancellationToken = default) => inner.FindByEmailAsync(email, cancellationToken);

        public Task<bool> TryAddAsync(LeadProfile profile, CancellationToken cancellationToken = default) => inner.TryAddAsync(profile, cancellationToken);

        public Task<bool> TryUpdateAsync(LeadProfile current, LeadProfile replacement, CancellationToken cancellationToken = default) => inner.TryUpdateAsync(current, replacement, cancellationToken);
    }
}

public sealed class InMemoryFunnelEventLogConformanceTests : FunnelEventLogSpecificationTests
{
    protected override Funnel.Pipeline.IFunnelEventLog CreateLog() => new Funnel.Pipeline.InMemoryFunnelEventLog();
}

public sealed class InMemoryEventSubscriptionStoreConformanceTests : EventSubscriptionStoreSpecificationTests
{
    protected override Funnel.Pipeline.IEventSubscriptionStore CreateStore() => new Funnel.Pipeline.InMemoryEventSubscriptionStore();
}

public sealed class InMemoryParkedEventStoreConformanceTests : ParkedEventStoreSpecificationTests
{
    protected override Funnel.Pipeline.IParkedEventStore CreateStore() => new Funnel.Pipeline.InMemoryParkedEventStore();
}

public sealed class InMemoryLeadPrivacyConformanceTests : LeadPrivacySpecificationTests
{
    protected override PrivacyWorld CreateWorld()
    {
        InMemoryLeadStore leads = new();
        Funnel.Pipeline.InMemoryFunnelEventLog events = new();
        return new PrivacyWorld(leads, events, [events, leads], text =>
        {
            string everything = System.Text.Json.JsonSerializer.Serialize<object>(leads.Snapshot(), FunnelJson.Options)
                + System.Text.Json.JsonSerializer.Serialize<object>(events.Snapshot().Cast<object>().ToArray(), FunnelJson.Options);
            IReadOnlyList<string> found = everything.Contains(text, StringComparison.OrdinalIgnoreCase) ? ["memory"] : [];
            return Task.FromResult(found);
        });
    }
}

public sealed class InMemoryCheckoutStoreConformanceTests : CheckoutStoreSpecificationTests
{
    protected override Funnel.CartRecovery.ICheckoutStore CreateStore() => new Funnel.CartRecovery.InMemoryCheckoutStore();
}

public sealed class InMemoryInvoiceStoreConformanceTests : InvoiceStoreSpecificationTests
{
    protected override Funnel.Invoices.IInvoiceStore CreateStore() => new Funnel.Invoices.InMemoryInvoiceStore();
}

public sealed class InMemoryBroadcastStoreConformanceTests : BroadcastStoreSpecification
{
    protected override IBroadcastStore CreateStore() => new InMemoryBroadcastStore();
}

public sealed class InMemoryWaitlistStoreConformanceTests : WaitlistStoreSpecification
{
    protected override Funnel.Waitlists.IWaitlistStore CreateStore() => new Funnel.Waitlists.InMemoryWaitlistStore();
}

public sealed class InMemorySequenceTestStoreConformanceTests : SequenceTestStoreSpecification
{
    protected override ISequenceTestStore CreateStore() => new InMemorySequenceTestStore();
}

public sealed class InMemorySubscriptionStoreConformanceTests : SubscriptionStoreSpecification
{
    protected override Funnel.Subscriptions.ISubscriptionStore CreateStore() => new Funnel.Subscriptions.InMemorySubscriptionStore();
}
