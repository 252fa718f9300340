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
    public async Task TryReserveAsync_ConfirmedSeatsAndRacingLeads_ConfirmedSeatsCountAndNeverExpire()
    {
        FakeClock clock = new(Start);
        ISeatInventory seats = CreateStore(clock);
        for (int i = 0; i < 4; i++)
        {
            SeatReservation sold = (await seats.TryReserveAsync("vip", LeadId.New(), TenSeats)).ShouldNotBeNull();
            (await seats.ConfirmAsync(sold)).ShouldBeTrue();
        }

        SeatReservation?[] held = await Race.RunAsync(50, _ => seats.TryReserveAsync("vip", LeadId.New(), TenSeats));
        held.Count(h => h is not null).ShouldBe(6);

        clock.Advance(TenSeats.HoldFor);

        SeatReservation?[] later = await Race.RunAsync(50, _ => seats.TryReserveAsync("vip", LeadId.New(), TenSeats));
        later.Count(h => h is not null).ShouldBe(6, "the expired holds are free again; the 4 sold seats are not");
        (await seats.TryReserveAsync("other-offer", LeadId.New(), TenSeats with { Capacity = 1 })).ShouldNotBeNull("each offer has its own seats");
    }

    [Fact]
    public async Task ReleaseAsync_HeldOrSoldSeat_FreesItForAnotherLead()
    {
        ISeatInventory seats = CreateStore(new FakeClock(Start));
        SeatLimit one = TenSeats with { Capacity = 1 };
        SeatReservation held = (await seats.TryReserveAsync("vip", LeadId.New(), one)).ShouldNotBeNull();

        await seats.ReleaseAsync(held);

        SeatReservation sold = (await seats.TryReserveAsync("vip", LeadId.New(), one)).ShouldNotBeNull();
        (await seats.ConfirmAsync(held)).ShouldBeFalse("a released hold cannot be confirmed");
        (await seats.ConfirmAsync(sold)).ShouldBeTrue();
        (await seats.TryReserveAsync("vip", LeadId.New(), one)).ShouldBeNull();

        await seats.ReleaseAsync(sold);

        (await seats.TryReserveAsync("vip", LeadId.New(), one)).ShouldNotBeNull("a refunded seat is free again");
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

    [Fact]
    public async Task TryRedeemAsync_RacingLeadsWithBothLimits_NeitherLimitIsExceeded()
    {
        ICouponRedemptionStore coupons = CreateStore();
        LeadId[] leads = [.. Enumerable.Range(0, 20).Select(_ => LeadId.New())];

        bool[] redeemed = await Race.RunAsync(60, i => coupons.TryRedeemAsync("LAUNCH", leads[i % leads.Length], maxTotal: 10, maxPerLead: 2));

        redeemed.Count(r => r).ShouldBe(10);
        Enumerable.Range(0, 60).Where(i => redeemed[i]).GroupBy(i => i % leads.Length).ShouldAllBe(g => g.Count() <= 2);
    }

    [Fact]
    public async Task TryRedeemAsync_CodeInAnotherCase_SharesTheLimits()
    {
        ICouponRedemptionStore coupons = CreateStore();
        LeadId lead = LeadId.New();

        (await coupons.TryRedeemAsync("Launch", lead, maxTotal: 1, maxPerLead: null)).ShouldBeTrue();

        (await coupons.TryRedeemAsync("LAUNCH", LeadId.New(), maxTotal: 1, maxPerLead: null)).ShouldBeFalse();
        await coupons.ReleaseAsync("launch", lead);
        (await coupons.TryRedeemAsync("LAUNCH", LeadId.New(), maxTotal: 1, maxPerLead: null)).ShouldBeTrue();
    }

    [Fact]
    public async Task ReleaseAsync_LeadWithoutRedemption_GivesNothingBack()
    {
        ICouponRedemptionStore coupons = CreateStore();
        (await coupons.TryRedeemAsync("LAUNCH", LeadId.New(), maxTotal: 1, maxPerLead: null)).ShouldBeTrue();

        await coupons.ReleaseAsync("LAUNCH", LeadId.New());
        await coupons.ReleaseAsync("OTHER", LeadId.New());

        (await coupons.TryRedeemAsync("LAUNCH", LeadId.New(), maxTotal: 1, maxPerLead: null)).ShouldBeFalse();
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
        seen.Select((s, i) => s <= Start + Duration.FromMinutes(Race.Contenders - i)).ShouldAllBe(earlierOrOwn => earlierOrOwn);
        (await deadlines.GetOrStartAsync("launch", lead, Start + Duration.FromDays(1))).ShouldBe(Start + Duration.FromMinutes(1));
        (await deadlines.FindStartAsync("launch", LeadId.New())).ShouldBeNull();
    }

    [Fact]
    public async Task GetOrStartAsync_EarlierStartArrivesLate_ReplacesTheStoredStart()
    {
        IDeadlineStore deadlines = CreateStore();
        LeadId lead = LeadId.New();
        (await deadlines.GetOrStartAsync("launch", lead, Start)).ShouldBe(Start);
        (await deadlines.GetOrStartAsync("launch", lead, Start + Duration.FromHours(1))).ShouldBe(Start);

        (await deadlines.GetOrStartAsync("launch", lead, Start - Duration.FromHours(1))).ShouldBe(Start - Duration.FromHours(1));

        (await deadlines.FindStartAsync("launch", lead)).ShouldBe(Start - Duration.FromHours(1));
        (await deadlines.FindStartAsync("other", lead)).ShouldBeNull("each deadline has its own start");
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
