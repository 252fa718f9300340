using Funnel.Definitions;
using Funnel.Events;
using Funnel.Offers;
using NodaTime;
using NodaTime.Testing;
using static Funnel.Tests.Offers.OfferTestKit;

namespace Funnel.Tests.Offers;

public class ScarcityTests
{
    private static readonly Deadline Evergreen = new()
    {
        Key = "enroll-this-week",
        Evergreen = Duration.FromDays(7),
        StartsOn = EventMatch.For(EventTypes.SalesPageVisited, "masterclass-basic"),
    };

    private static SalesPageVisited Visit(int lead, Instant at) => new() { LeadId = Lead(lead), OccurredAt = at, Offer = "masterclass-basic" };

    [Fact]
    public async Task Reserve_ManyParallelBuyers_NeverExceedCapacity()
    {
        var seats = new InMemorySeatInventory(new FakeClock(T0));
        var limit = new SeatLimit { Capacity = 25 };

        SeatReservation?[] results = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => Task.Run(() => seats.TryReserveAsync("cohort", Lead(i), limit))));
        bool[] confirmed = await Task.WhenAll(results.Where(r => r is not null).Select(r => Task.Run(() => seats.ConfirmAsync(r!.Value))));

        results.Count(r => r is not null).ShouldBe(25);
        confirmed.ShouldAllBe(c => c);
        seats.Count("cohort").ShouldBe((25, 0));
        (await seats.TryReserveAsync("cohort", Lead(999), limit)).ShouldBeNull();
    }

    [Fact]
    public async Task Reserve_HoldExpires_FreesTheSeatAndTheLateConfirmFails()
    {
        var clock = new FakeClock(T0);
        var seats = new InMemorySeatInventory(clock);
        var limit = new SeatLimit { Capacity = 1, HoldFor = Duration.FromMinutes(15) };
        SeatReservation first = (await seats.TryReserveAsync("cohort", Lead(1), limit))!.Value;

        (await seats.TryReserveAsync("cohort", Lead(2), limit)).ShouldBeNull();
        clock.Advance(Duration.FromMinutes(15));
        SeatReservation? second = await seats.TryReserveAsync("cohort", Lead(2), limit);

        second.ShouldNotBeNull();
        (await seats.ConfirmAsync(first)).ShouldBeFalse();
        (await seats.ConfirmAsync(second.Value)).ShouldBeTrue();
    }

    [Fact]
    public async Task Reserve_SameLeadTwice_GetsTheSameHold()
    {
        var seats = new InMemorySeatInventory(new FakeClock(T0));
        var limit = new SeatLimit { Capacity = 2 };

        SeatReservation? a = await seats.TryReserveAsync("cohort", Lead(1), limit);
        SeatReservation? b = await seats.TryReserveAsync("cohort", Lead(1), limit);

        b.ShouldBe(a);
        seats.Count("cohort").ShouldBe((0, 1));
    }

    [Fact]
    public async Task Evergreen_RevisitsAfterClearingCookies_DoNotRestartIt()
    {
        var clock = new FakeClock(T0);
        var tracker = new DeadlineTracker(new InMemoryDeadlineStore(), clock);

        DeadlineStatus first = await tracker.ObserveAsync(Evergreen, Visit(1, T0));
        DeadlineStatus again = await tracker.ObserveAsync(Evergreen, Visit(1, T0 + Duration.FromDays(3)));
        clock.Advance(Duration.FromDays(7));
        DeadlineStatus later = await tracker.GetStatusAsync(Evergreen, Lead(1));

        first.EndsAt.ShouldBe(T0 + Duration.FromDays(7));
        again.EndsAt.ShouldBe(first.EndsAt);
        again.RemainingAt(T0 + Duration.FromDays(3)).ShouldBe(Duration.FromDays(4));
        later.IsOpen.ShouldBeFalse();
        later.RemainingAt(clock.GetCurrentInstant()).ShouldBe(Duration.Zero);
    }

    [Fact]
    public async Task Evergreen_OtherLeadOrUnrelatedEvent_HasItsOwnClock()
    {
        var clock = new FakeClock(T0);
        var tracker = new DeadlineTracker(new InMemoryDeadlineStore(), clock);
        await tracker.ObserveAsync(Evergreen, Visit(1, T0));

        DeadlineStatus unrelated = await tracker.ObserveAsync(Evergreen, new PageViewed { LeadId = Lead(2), OccurredAt = T0, Page = "/blog" });
        DeadlineStatus other = await tracker.ObserveAsync(Evergreen, Visit(2, T0 + Duration.FromDays(2)));

        unrelated.ShouldBe(new DeadlineStatus(null, true));
        other.EndsAt.ShouldBe(T0 + Duration.FromDays(9));
    }

    [Fact]
    public async Task Evergreen_ConcurrentFirstVisits_KeepOneStart()
    {
        var store = new InMemoryDeadlineStore();

        Instant[] starts = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() =>
            store.GetOrStartAsync("enroll-this-week", Lead(1), T0 + Duration.FromSeconds(i)))));

        (await store.FindStartAsync("enroll-this-week", Lead(1))).ShouldBe(T0);
        starts.ShouldContain(T0);
    }

    [Fact]
    public async Task Evergreen_OlderEventArrivingLate_MovesTheStartEarlierNeverLater()
    {
        var clock = new FakeClock(T0);
        var tracker = new DeadlineTracker(new InMemoryDeadlineStore(), clock);

        await tracker.ObserveAsync(Evergreen, Visit(1, T0));
        DeadlineStatus older = await tracker.ObserveAsync(Evergreen, Visit(1, T0 - Duration.FromDays(1)));
        DeadlineStatus newer = await tracker.ObserveAsync(Evergreen, Visit(1, T0 + Duration.FromDays(1)));

        older.EndsAt.ShouldBe(T0 + Duration.FromDays(6));
        newer.EndsAt.ShouldBe(T0 + Duration.FromDays(6));
    }

    [Fact]
    public async Task FixedDeadline_IsTheSameForEveryone()
    {
        var clock = new FakeClock(T0);
        var tracker = new DeadlineTracker(new InMemoryDeadlineStore(), clock);
        var deadline = new Deadline { Key = "cart-closes", EndsAt = T0 + Duration.FromHours(1) };

        (await tracker.GetStatusAsync(deadline, Lead(1))).IsOpen.ShouldBeTrue();
        clock.Advance(Duration.FromHours(1));
        (await tracker.GetStatusAsync(deadline, Lead(2))).IsOpen.ShouldBeFalse();
    }

    [Fact]
    public async Task Redeem_ManyParallelOrders_NeverExceedTheLimits()
    {
        var store = new InMemoryCouponRedemptionStore();

        bool[] total = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => Task.Run(() => store.TryRedeemAsync("VIP100", Lead(i), 10, 1))));
        bool[] perLead = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => store.TryRedeemAsync("LAUNCH20", Lead(1), null, 3))));

        total.Count(r => r).ShouldBe(10);
        perLead.Count(r => r).ShouldBe(3);
    }
}
