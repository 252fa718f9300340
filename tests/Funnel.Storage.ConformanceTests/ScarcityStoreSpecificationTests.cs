using Funnel.Offers;
using Funnel.Onboarding;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="ISeatInventory"/>: subclass it with a <see cref="CreateStore"/> of your store.</summary>
public abstract class SeatInventorySpecificationTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly SeatLimit TenSeats = new() { Capacity = 10, HoldFor = Duration.FromMinutes(15) };

    /// <summary>Returns a new, empty inventory whose holds expire by <paramref name="clock"/>.</summary>
    protected abstract ISeatInventory CreateStore(IClock clock);

    [Fact]
    public async Task TryReserveAsync_HundredConcurrentLeadsForTenSeats_ExactlyTenHold()
    {
        ISeatInventory seats = CreateStore(new FakeClock(Start));

        SeatReservation?[] held = await Race.RunAsync(100, _ => seats.TryReserveAsync("vip", LeadId.New(), TenSeats));

        held.Count(h => h is not null).ShouldBe(10);
    }

    [Fact]
    public async Task TryReserveAsync_HoldExpires_SeatIsFreeAgainAndTheOldHoldCannotConfirm()
    {
        FakeClock clock = new(Start);
        ISeatInventory seats = CreateStore(clock);
        SeatLimit one = TenSeats with { Capacity = 1 };
        SeatReservation first = (await seats.TryReserveAsync("vip", LeadId.New(), one)).ShouldNotBeNull();
        (await seats.TryReserveAsync("vip", LeadId.New(), one)).ShouldBeNull();

        clock.Advance(one.HoldFor);

        SeatReservation second = (await seats.TryReserveAsync("vip", LeadId.New(), one)).ShouldNotBeNull();
        (await seats.ConfirmAsync(first)).ShouldBeFalse();
        (await seats.ConfirmAsync(second)).ShouldBeTrue();
    }

    [Fact]
    public async Task ConfirmAsync_Twice_ConfirmsOnce()
    {
        ISeatInventory seats = CreateStore(new FakeClock(Start));
        SeatReservation held = (await seats.TryReserveAsync("vip", LeadId.New(), TenSeats)).ShouldNotBeNull();

        bool[] confirmed = await Race.RunAsync(Race.Contenders, _ => seats.ConfirmAsync(held));

        confirmed.Count(c => c).ShouldBe(1);
    }

    [Fact]
    public async Task TryReserveAsync_SameLeadTwice_GetsItsHoldBack()
    {
        ISeatInventory seats = CreateStore(new FakeClock(Start));
        LeadId lead = LeadId.New();

        SeatReservation first = (await seats.TryReserveAsync("vip", lead, TenSeats)).ShouldNotBeNull();

        (await seats.TryReserveAsync("vip", lead, TenSeats)).ShouldBe(first);
    }
}

/// <summary>The contract of <see cref="ICouponRedemptionStore"/>: subclass it with a <see cref="CreateStore"/> of your store.</summary>
public abstract class CouponRedemptionStoreSpecificationTests
{
    /// <summary>Returns a new, empty store.</summary>
    protected abstract ICouponRedemptionStore CreateStore();

    [Fact]
    public async Task TryRedeemAsync_ConcurrentRedemptions_NeverExceedTheTotalLimit()
    {
        ICouponRedemptionStore coupons = CreateStore();

        bool[] redeemed = await Race.RunAsync(50, _ => coupons.TryRedeemAsync("LAUNCH", LeadId.New(), maxTotal: 7, maxPerLead: null));

        redeemed.Count(r => r).ShouldBe(7);
    }

    [Fact]
    public async Task TryRedeemAsync_ConcurrentRedemptionsOfOneLead_NeverExceedThePerLeadLimit()
    {
        ICouponRedemptionStore coupons = CreateStore();
        LeadId lead = LeadId.New();

        bool[] redeemed = await Race.RunAsync(Race.Contenders, _ => coupons.TryRedeemAsync("LAUNCH", lead, maxTotal: null, maxPerLead: 1));

        redeemed.Count(r => r).ShouldBe(1);
        await coupons.ReleaseAsync("LAUNCH", lead);
        (await coupons.TryRedeemAsync("LAUNCH", lead, maxTotal: null, maxPerLead: 1)).ShouldBeTrue();
    }
}

/// <summary>The contract of <see cref="IDeadlineStore"/>: subclass it with a <see cref="CreateStore"/> of your store.</summary>
public abstract class DeadlineStoreSpecificationTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 2, 9, 0);

    /// <summary>Returns a new, empty store.</summary>
    protected abstract IDeadlineStore CreateStore();

    [Fact]
    public async Task GetOrStartAsync_ConcurrentStarts_TheEarliestWins()
    {
        IDeadlineStore deadlines = CreateStore();
        LeadId lead = LeadId.New();

        Instant[] seen = await Race.RunAsync(Race.Contenders, i => deadlines.GetOrStartAsync("launch", lead, Start + Duration.FromMinutes(Race.Contenders - i)));

        (await deadlines.FindStartAsync("launch", lead)).ShouldBe(Start + Duration.FromMinutes(1));
        seen.ShouldAllBe(s => s <= Start + Duration.FromMinutes(Race.Contenders));
        (await deadlines.GetOrStartAsync("launch", lead, Start + Duration.FromDays(1))).ShouldBe(Start + Duration.FromMinutes(1));
        (await deadlines.FindStartAsync("launch", LeadId.New())).ShouldBeNull();
    }
}

/// <summary>The contract of <see cref="ICourseProgressStore"/>: subclass it with a <see cref="CreateStore"/> of your store.</summary>
public abstract class CourseProgressStoreSpecificationTests
{
    /// <summary>Returns a new, empty store.</summary>
    protected abstract ICourseProgressStore CreateStore();

    [Fact]
    public async Task AddAsync_ConcurrentAddsOfOneModule_AddedOnce()
    {
        ICourseProgressStore progress = CreateStore();
        LeadId lead = LeadId.New();

        (bool Added, System.Collections.Immutable.ImmutableHashSet<string> Completed)[] results =
            await Race.RunAsync(Race.Contenders, _ => progress.AddAsync(lead, "course", "module-1"));

        results.Count(r => r.Added).ShouldBe(1);
        results.ShouldAllBe(r => r.Completed.SetEquals(new[] { "module-1" }));
        (await progress.AddAsync(lead, "course", "module-2")).Completed.Count.ShouldBe(2);
        (await progress.GetAsync(lead, "other")).ShouldBeEmpty();
    }
}
