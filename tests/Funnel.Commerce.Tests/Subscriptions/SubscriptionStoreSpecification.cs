using System.Collections.Immutable;
using Funnel.Subscriptions;
using NodaTime;

namespace Funnel.Tests.Subscriptions;

/// <summary>The contract of <see cref="ISubscriptionStore"/>: insert-if-absent, replace-if-version, a lead's subscriptions, and those due, earliest first.</summary>
/// <remarks>
/// Written as a suite every implementation subclasses with its own <see cref="CreateStore"/>, so the durable stores can
/// run it when they come (its place then is Funnel.Storage.ConformanceTests). Instants are whole seconds.
/// </remarks>
public abstract class SubscriptionStoreSpecification
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 2, 9, 0);

    protected abstract ISubscriptionStore CreateStore();

    [Fact]
    public async Task TryAddAsync_ThenFindAsync_RoundTripsWithVersionZeroAndKeepsTheFirst()
    {
        ISubscriptionStore store = CreateStore();
        Subscription s = New(1, Now + Duration.FromDays(3)) with
        {
            Version = 9, PaymentMethod = "pm_1", Customer = "cus_1", Credit = SubscriptionTestKit.Usd(12.34m),
            AppliedPayments = ["pi_1", "in_2#failed#1"], AccessGrantedFor = SubscriptionTestKit.Pro, TrialEndsAt = Now,
        };

        (await store.TryAddAsync(s)).ShouldBeTrue();
        (await store.TryAddAsync(s with { PaymentMethod = "pm_other" })).ShouldBeFalse();

        Subscription found = (await store.FindAsync(s.Id)).ShouldNotBeNull();
        found.AppliedPayments.ShouldBe(s.AppliedPayments);
        found.ShouldBe(s with { Version = 0, AppliedPayments = found.AppliedPayments });
        (await store.FindAsync(SubscriptionId.New())).ShouldBeNull();
    }

    [Fact]
    public async Task TryUpdateAsync_CurrentVersionWinsOnceAndStaleLoses()
    {
        ISubscriptionStore store = CreateStore();
        Subscription s = New(1, Now);
        await store.TryAddAsync(s);
        Subscription stored = (await store.FindAsync(s.Id))!;

        bool[] results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => store.TryUpdateAsync(stored, stored with { Cycle = i + 1 }))));

        results.Count(r => r).ShouldBe(1);
        (await store.FindAsync(s.Id))!.Version.ShouldBe(1);
        (await store.TryUpdateAsync(New(2, Now), New(2, Now))).ShouldBeFalse();
        (await store.FindAsync(New(2, Now).Id)).ShouldBeNull();
    }

    [Fact]
    public async Task ListByLeadAsync_ReturnsTheLeadsSubscriptionsOldestFirst()
    {
        ISubscriptionStore store = CreateStore();
        await store.TryAddAsync(New(2, Now) with { StartedAt = Now });
        await store.TryAddAsync(New(3, Now) with { StartedAt = Now - Duration.FromDays(1) });
        await store.TryAddAsync(New(4, Now) with { Lead = SubscriptionTestKit.Lead(2) });

        ImmutableArray<Subscription> mine = await store.ListByLeadAsync(SubscriptionTestKit.Lead(1));

        mine.Select(s => s.Id).ShouldBe([New(3, Now).Id, New(2, Now).Id]);
        (await store.ListByLeadAsync(SubscriptionTestKit.Lead(3))).ShouldBeEmpty();
    }

    [Fact]
    public async Task FindDueAsync_DueOnesEarliestFirstBoundedWithoutEndedOrFuture()
    {
        ISubscriptionStore store = CreateStore();
        await store.TryAddAsync(New(1, Now - Duration.FromMinutes(1)));
        await store.TryAddAsync(New(2, Now));
        await store.TryAddAsync(New(3, Now - Duration.FromHours(1)));
        await store.TryAddAsync(New(4, Now + Duration.FromSeconds(1)));
        await store.TryAddAsync(New(5, Now - Duration.FromDays(1)) with { Status = SubscriptionStatus.Ended, AccessGrantedFor = null });
        await store.TryAddAsync(New(6, Now - Duration.FromDays(1)) with { Status = SubscriptionStatus.Paused, AccessGrantedFor = null });

        ImmutableArray<Subscription> due = await store.FindDueAsync(Now, 10);
        ImmutableArray<Subscription> first = await store.FindDueAsync(Now, 2);

        due.Select(s => s.Id).ShouldBe([New(3, Now).Id, New(1, Now).Id, New(2, Now).Id]);
        first.Select(s => s.Id).ShouldBe([New(3, Now).Id, New(1, Now).Id]);
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => store.FindDueAsync(Now, 0));
    }

    /// <summary>An active subscription of lead 1 to Pro, with the access granted, whose period ends at <paramref name="periodEnd"/>.</summary>
    private static Subscription New(int n, Instant periodEnd) => new()
    {
        Id = new SubscriptionId(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7)),
        Lead = SubscriptionTestKit.Lead(1),
        Offer = SubscriptionTestKit.Pro,
        Status = SubscriptionStatus.Active,
        Price = SubscriptionTestKit.Usd(90),
        Interval = BillingInterval.Month,
        TimeZoneId = "Europe/Berlin",
        StartedAt = periodEnd - Duration.FromDays(30),
        BillingAnchor = periodEnd - Duration.FromDays(30),
        Cycle = 1,
        CurrentPeriodStart = periodEnd - Duration.FromDays(30),
        CurrentPeriodEnd = periodEnd,
        PeriodsPaid = 1,
        Credit = SubscriptionTestKit.Usd(0),
        AccessGrantedFor = SubscriptionTestKit.Pro,
    };
}

public sealed class InMemorySubscriptionStoreTests : SubscriptionStoreSpecification
{
    protected override ISubscriptionStore CreateStore() => new InMemorySubscriptionStore();
}
