using System.Collections.Immutable;
using Funnel.Subscriptions;
using NodaTime;
using static Funnel.Storage.ConformanceTests.ConformanceKit;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="ISubscriptionStore"/>: insert-if-absent, replace-if-version, every field kept, a lead's subscriptions oldest first, and those due, earliest first.</summary>
/// <remarks>
/// Besides the store convention (<see cref="VersionedStoreSpecification{TStore,T}"/>: racing adds and racing updates
/// from one version give one winner). Instants are whole microseconds: durable stores may keep them to the microsecond.
/// </remarks>
public abstract class SubscriptionStoreSpecification : VersionedStoreSpecification<ISubscriptionStore, Subscription>
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly OfferId Pro = new("membership-pro");
    private static readonly OfferId Basic = new("membership");

    [Fact]
    public async Task TryAddAsync_EveryFieldSet_RoundTripsExactlyWithVersionZero()
    {
        ISubscriptionStore store = CreateStore();
        // New York's clocks went forward on 2026-03-08: the period straddles the change. Euros, with credit left.
        Instant start = Instant.FromUtc(2026, 3, 1, 4, 59, 59) + Duration.FromTicks(1_234_560);
        Subscription full = New(1, start + Duration.FromDays(31)) with
        {
            Status = SubscriptionStatus.PastDue,
            Price = new Money(4_999, Currency.EUR),
            Interval = BillingInterval.Year,
            TimeZoneId = "America/New_York",
            StartedAt = start - Duration.FromDays(400),
            BillingAnchor = start - Duration.FromDays(365) + Duration.FromMilliseconds(1),
            Cycle = 3,
            CurrentPeriodStart = start,
            TrialEndsAt = start - Duration.FromDays(386),
            PeriodsPaid = 2,
            CancelAtPeriodEnd = true,
            PausedAt = start - Duration.FromDays(100),
            PausedUntil = start - Duration.FromDays(90),
            PaymentMethod = "pm_1Qx",
            Customer = "cus_9",
            ProviderSubscriptionId = "sub_42",
            Credit = new Money(1_234, Currency.EUR),
            FailedAttempts = 2,
            NextAttemptAt = start + Duration.FromDays(33) + Duration.FromTicks(70),
            AccessGrantedFor = Basic,
            AppliedPayments = ["pi_1", "in_2#failed#1", "pi_ü€"],
            Coupons =
            [
                new SubscriptionCoupon { Code = "LAUNCH50", AmountOff = new Money(2_499, Currency.EUR), PeriodsLeft = 2 },
                new SubscriptionCoupon { Code = "ZEHN", AmountOff = new Money(1_000, Currency.EUR), PeriodsLeft = null },
                new SubscriptionCoupon { Code = "ENDING", AmountOff = new Money(1, Currency.EUR), PeriodsLeft = 0 },
            ],
            EndedAt = start + Duration.FromHours(1),
            EndReason = SubscriptionEndReason.PaymentFailed,
            Version = 9,
        };
        // Yen have no minor unit: ¥1,200 is 1200.
        Subscription yen = New(2, start) with
        {
            Lead = Lead(2), Price = new Money(1_200, Currency.JPY), Credit = new Money(0, Currency.JPY), TimeZoneId = "Asia/Tokyo",
            AccessGrantedFor = null, Status = SubscriptionStatus.Trialing, PeriodsPaid = 0, Cycle = 0,
        };

        (await store.TryAddAsync(full)).ShouldBeTrue();
        (await store.TryAddAsync(yen)).ShouldBeTrue();

        Subscription found = (await store.FindAsync(full.Id)).ShouldNotBeNull();
        found.AppliedPayments.ShouldBe(full.AppliedPayments);
        found.Coupons.ShouldBe(full.Coupons);
        found.ShouldBe(full with { Version = 0, AppliedPayments = found.AppliedPayments, Coupons = found.Coupons });
        found.NextPeriodPrice.ShouldBe(new Money(4_999 - 2_499 - 1_000, Currency.EUR));
        found.DueAt.ShouldBe(full.DueAt);
        (found.Price.MinorUnits, found.Price.Currency.Code, found.Price.Currency.Exponent).ShouldBe((4_999L, "EUR", 2));
        Subscription foundYen = (await store.FindAsync(yen.Id)).ShouldNotBeNull();
        foundYen.ShouldBe(yen with { Version = 0, AppliedPayments = foundYen.AppliedPayments, Coupons = foundYen.Coupons });
        foundYen.AppliedPayments.IsDefault.ShouldBeFalse();
        foundYen.AppliedPayments.ShouldBeEmpty();
        foundYen.Coupons.IsDefault.ShouldBeFalse();
        foundYen.Coupons.ShouldBeEmpty();
        (foundYen.Price.MinorUnits, foundYen.Price.Currency.Exponent).ShouldBe((1_200L, 0));
        foundYen.TrialEndsAt.ShouldBeNull();
        foundYen.PaymentMethod.ShouldBeNull();
        foundYen.EndReason.ShouldBeNull();
        foundYen.AccessGrantedFor.ShouldBeNull();
    }

    [Fact]
    public async Task TryAddAsync_TakenId_ReturnsFalseAndKeepsTheFirst()
    {
        ISubscriptionStore store = CreateStore();
        Subscription s = New(1, Now) with { PaymentMethod = "pm_1" };

        (await store.TryAddAsync(s)).ShouldBeTrue();
        (await store.TryAddAsync(s with { PaymentMethod = "pm_other", Lead = Lead(2) })).ShouldBeFalse();

        (await store.FindAsync(s.Id)).ShouldNotBeNull().PaymentMethod.ShouldBe("pm_1");
        (await store.ListByLeadAsync(Lead(2))).ShouldBeEmpty();
        (await store.FindAsync(SubscriptionId.New())).ShouldBeNull();
    }

    [Fact]
    public async Task TryUpdateAsync_ReplacementWithAnotherId_IsStoredUnderTheCurrentId()
    {
        ISubscriptionStore store = CreateStore();
        await store.TryAddAsync(New(1, Now));
        Subscription stored = (await store.FindAsync(New(1, Now).Id))!;

        (await store.TryUpdateAsync(stored, New(2, Now) with { Cycle = 5, Version = 40 })).ShouldBeTrue();

        Subscription found = (await store.FindAsync(stored.Id)).ShouldNotBeNull();
        (found.Cycle, found.Version).ShouldBe((5, 1L));
        (await store.FindAsync(New(2, Now).Id)).ShouldBeNull();
    }

    [Fact]
    public async Task TryUpdateAsync_RacingRenewalsFromOneVersion_OneWinnerWhoseStateIsStored()
    {
        ISubscriptionStore store = CreateStore();
        await store.TryAddAsync(New(1, Now));
        Subscription stored = (await store.FindAsync(New(1, Now).Id))!;

        bool[] results = await Race.RunAsync(Race.Contenders, i => store.TryUpdateAsync(stored, stored with
        {
            Cycle = i + 2, CurrentPeriodStart = Now, CurrentPeriodEnd = Now + Duration.FromDays(31), PeriodsPaid = 2,
            AppliedPayments = [$"pi_{i}"],
        }));

        results.Count(r => r).ShouldBe(1);
        int winner = Array.IndexOf(results, true);
        Subscription found = (await store.FindAsync(stored.Id))!;
        (found.Version, found.Cycle, found.AppliedPayments.Single()).ShouldBe((1L, winner + 2, $"pi_{winner}"));
        (await store.FindDueAsync(Now, 10)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ListByLeadAsync_ReturnsTheLeadsSubscriptionsOldestFirstEndedIncluded()
    {
        ISubscriptionStore store = CreateStore();
        await store.TryAddAsync(New(2, Now) with { StartedAt = Now });
        await store.TryAddAsync(New(3, Now) with { StartedAt = Now - Duration.FromDays(1) });
        await store.TryAddAsync(New(5, Now) with { StartedAt = Now - Duration.FromDays(1) });
        await store.TryAddAsync(New(1, Now) with { StartedAt = Now + Duration.FromTicks(10), Status = SubscriptionStatus.Ended, AccessGrantedFor = null, EndedAt = Now });
        await store.TryAddAsync(New(4, Now) with { Lead = Lead(2) });

        ImmutableArray<Subscription> mine = await store.ListByLeadAsync(Lead(1));

        mine.Select(s => s.Id).ShouldBe([New(3, Now).Id, New(5, Now).Id, New(2, Now).Id, New(1, Now).Id]);
        mine.ShouldAllBe(s => s.Version == 0);
        (await store.ListByLeadAsync(Lead(3))).ShouldBeEmpty();
    }

    [Fact]
    public async Task ListByLeadAsync_AfterAnUpdate_ListsTheNewStateOnce()
    {
        ISubscriptionStore store = CreateStore();
        await store.TryAddAsync(New(1, Now));
        Subscription stored = (await store.FindAsync(New(1, Now).Id))!;
        await store.TryUpdateAsync(stored, stored with { Status = SubscriptionStatus.Paused, PausedAt = Now, PausedUntil = Now + Duration.FromDays(7) });

        Subscription listed = (await store.ListByLeadAsync(Lead(1))).ShouldHaveSingleItem();

        (listed.Status, listed.Version).ShouldBe((SubscriptionStatus.Paused, 1L));
    }

    [Fact]
    public async Task FindDueAsync_DueOnesEarliestFirstBoundedWithoutEndedOrFuture()
    {
        ISubscriptionStore store = CreateStore();
        await store.TryAddAsync(New(1, Now - Duration.FromMinutes(1)));
        await store.TryAddAsync(New(2, Now));
        await store.TryAddAsync(New(3, Now - Duration.FromHours(1)));
        await store.TryAddAsync(New(4, Now + Duration.FromTicks(10)));
        await store.TryAddAsync(New(5, Now - Duration.FromDays(1)) with { Status = SubscriptionStatus.Ended, AccessGrantedFor = null });
        await store.TryAddAsync(New(6, Now - Duration.FromDays(1)) with { Status = SubscriptionStatus.Paused, AccessGrantedFor = null });

        ImmutableArray<Subscription> due = await store.FindDueAsync(Now, 10);
        ImmutableArray<Subscription> first = await store.FindDueAsync(Now, 2);

        due.Select(s => s.Id).ShouldBe([New(3, Now).Id, New(1, Now).Id, New(2, Now).Id]);
        first.Select(s => s.Id).ShouldBe([New(3, Now).Id, New(1, Now).Id]);
        (await store.FindDueAsync(Now + Duration.FromTicks(10), 10)).Select(s => s.Id).ShouldBe([New(3, Now).Id, New(1, Now).Id, New(2, Now).Id, New(4, Now).Id]);
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => store.FindDueAsync(Now, 0));
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => store.FindDueAsync(Now, -1));
    }

    [Fact]
    public async Task FindDueAsync_EqualDueInstants_OrderedByIdAndPagedInThatOrder()
    {
        ISubscriptionStore store = CreateStore();
        int[] order = [7, 3, 9, 1, 5];
        foreach (int n in order)
        {
            await store.TryAddAsync(New(n, Now - Duration.FromMinutes(1)));
        }

        // Past due: due at the next attempt, not at the period end.
        await store.TryAddAsync(New(8, Now + Duration.FromDays(1)) with { Status = SubscriptionStatus.PastDue, NextAttemptAt = Now - Duration.FromHours(2) });

        (await store.FindDueAsync(Now, 3)).Select(s => s.Id).ShouldBe([New(8, Now).Id, New(1, Now).Id, New(3, Now).Id]);
        (await store.FindDueAsync(Now, 10)).Select(s => s.Id).ShouldBe([.. new[] { 8, 1, 3, 5, 7, 9 }.Select(n => New(n, Now).Id)]);
    }

    [Fact]
    public async Task FindDueAsync_AfterARenewalMovesThePeriodOn_NoLongerListsItUntilTheNextEnd()
    {
        ISubscriptionStore store = CreateStore();
        await store.TryAddAsync(New(1, Now - Duration.FromMinutes(5)));
        Subscription stored = (await store.FindAsync(New(1, Now).Id))!;

        (await store.TryUpdateAsync(stored, stored with
        {
            Cycle = 2, CurrentPeriodStart = stored.CurrentPeriodEnd, CurrentPeriodEnd = Now + Duration.FromDays(30),
        })).ShouldBeTrue();

        (await store.FindDueAsync(Now, 10)).ShouldBeEmpty();
        (await store.FindDueAsync(Now + Duration.FromDays(30), 10)).ShouldHaveSingleItem().Version.ShouldBe(1);
    }

    [Fact]
    public async Task FindDueAsync_PendingAccessGrant_IsDueFromThePeriodStart()
    {
        ISubscriptionStore store = CreateStore();
        Subscription pending = New(1, Now + Duration.FromDays(20)) with { AccessGrantedFor = null };
        await store.TryAddAsync(pending);

        (await store.FindDueAsync(pending.CurrentPeriodStart - Duration.FromTicks(10), 10)).ShouldBeEmpty();
        (await store.FindDueAsync(Now, 10)).ShouldHaveSingleItem().Id.ShouldBe(pending.Id);
    }

    protected override Subscription NewDocument(int n) => New(n, Now);

    protected override Subscription Changed(Subscription current, int change) =>
        current with { Cycle = change + 1, AppliedPayments = [$"pi_{change}"] };

    protected override Task<Subscription?> FindAsync(ISubscriptionStore store, Subscription document) => store.FindAsync(document.Id);

    protected override Task<bool> TryAddAsync(ISubscriptionStore store, Subscription document) => store.TryAddAsync(document);

    protected override Task<bool> TryUpdateAsync(ISubscriptionStore store, Subscription current, Subscription replacement) =>
        store.TryUpdateAsync(current, replacement);

    protected override long VersionOf(Subscription document) => document.Version;

    protected override string ContentOf(Subscription document) =>
        $"{document.Id}/{document.Cycle}/{string.Join(",", document.AppliedPayments)}";

    /// <summary>An active monthly subscription of lead 1 to Pro at $90, with the access granted, whose period ends at <paramref name="periodEnd"/>.</summary>
    private static Subscription New(int n, Instant periodEnd) => new()
    {
        Id = new SubscriptionId(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7)),
        Lead = Lead(1),
        Offer = Pro,
        Status = SubscriptionStatus.Active,
        Price = new Money(9_000, Currency.USD),
        Interval = BillingInterval.Month,
        TimeZoneId = "Europe/Berlin",
        StartedAt = periodEnd - Duration.FromDays(30),
        BillingAnchor = periodEnd - Duration.FromDays(30),
        Cycle = 1,
        CurrentPeriodStart = periodEnd - Duration.FromDays(30),
        CurrentPeriodEnd = periodEnd,
        PeriodsPaid = 1,
        Credit = new Money(0, Currency.USD),
        AccessGrantedFor = Pro,
    };
}
