using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Onboarding;
using Funnel.Pipeline;
using Funnel.Segments;
using Funnel.Webinars;
using NodaTime;
using NodaTime.Testing;
using static Funnel.Tests.Advocacy.AdvocacyTestKit;

namespace Funnel.Tests.Advocacy;

/// <summary>The engines over shared stores: racing calls keep the uniqueness rules, and two instances share one state.</summary>
public class StoreBackedEngineTests
{
    private const int Racers = 16;

    [Fact]
    public async Task ApplyAsync_OnePaymentReplayedConcurrently_EarnsOnce()
    {
        var (program, sarah, _) = ProgramWithAffiliate();
        program.RecordClick("sarah", Lead(2));
        await program.ApplyAsync(Placed(2, 1, Usd(100), T0));
        PaymentSucceeded payment = Paid(2, 1, Usd(100), T0);

        var results = await Task.WhenAll(Enumerable.Range(0, Racers).Select(_ => Task.Run(() => program.ApplyAsync(payment))));

        results.SelectMany(r => r).OfType<CommissionEarned>().ShouldHaveSingleItem().Amount.ShouldBe(Usd(30));
        (await program.LedgerAsync(sarah.Id)).ShouldHaveSingleItem().Amount.ShouldBe(Usd(30));
    }

    [Fact]
    public async Task ApplyAsync_OneOrderPlacedConcurrently_AttributesOnce()
    {
        var (program, sarah, _) = ProgramWithAffiliate();
        program.RecordClick("sarah", Lead(2));
        OrderPlaced order = Placed(2, 1, Usd(100), T0);

        var results = await Task.WhenAll(Enumerable.Range(0, Racers).Select(_ => Task.Run(() => program.ApplyAsync(order))));

        results.SelectMany(r => r).OfType<AffiliateSaleAttributed>().ShouldHaveSingleItem();
        (await program.StatsAsync(sarah.Id)).Conversions.ShouldBe(1);
    }

    [Fact]
    public async Task PayOutAsync_Concurrently_PaysEachEntryOnce()
    {
        var (program, sarah, clock) = ProgramWithAffiliate();
        for (int buyer = 2; buyer <= 5; buyer++)
        {
            program.RecordClick("sarah", Lead(buyer));
            program.Apply(Placed(buyer, buyer, Usd(100), T0));
            program.Apply(Paid(buyer, buyer, Usd(100), T0));
        }

        clock.Advance(Duration.FromDays(31));
        program.ApproveCleared();

        var results = await Task.WhenAll(Enumerable.Range(0, Racers).Select(_ => Task.Run(() => program.PayOutAsync(sarah.Id))));

        results.Sum(r => r.Payout?.Amount.MinorUnits ?? 0).ShouldBe(Usd(120).MinorUnits);
        (await program.PayoutsAsync(sarah.Id)).Sum(p => p.Amount.MinorUnits).ShouldBe(Usd(120).MinorUnits);
    }

    [Fact]
    public async Task AffiliatePrograms_TwoInstancesOverOneSetOfStores_ShareTheirState()
    {
        var clock = new FakeClock(T0);
        var (affiliates, clicks, sales, payouts) = (new InMemoryAffiliateStore(), new InMemoryAffiliateClickStore(), new InMemoryAffiliateSaleStore(), new InMemoryAffiliatePayoutStore());
        var first = new AffiliateProgram(Settings(), affiliates, clicks, sales, payouts, clock, new InMemoryFunnelEventLog());
        var second = new AffiliateProgram(Settings(), affiliates, clicks, sales, payouts, clock, new InMemoryFunnelEventLog());
        Affiliate sarah = (await first.EnrolAsync(Lead(1), "sarah")).Affiliate;
        await second.DecideAsync(sarah.Id, approve: true);
        await first.RecordClickAsync("sarah", Lead(2));

        (await second.ApplyAsync(Placed(2, 1, Usd(100), T0))).ShouldHaveSingleItem().ShouldBeOfType<AffiliateSaleAttributed>();
        (await first.ApplyAsync(Placed(2, 1, Usd(100), T0))).ShouldBeEmpty();
        (await first.AttributedToAsync(OrderNo(1))).ShouldBe(sarah.Id);
    }

    [Fact]
    public async Task ReleaseRewardsAsync_Concurrently_RewardsAndCreditsOnce()
    {
        var clock = new FakeClock(T0);
        ReferralProgram program = InMemoryEngines.Referrals(new ReferralProgramSettings { FriendCoupon = new Coupon { Code = "FRIEND20", PercentOff = 20m }, ReferrerCredit = Usd(50) }, clock);
        string code = await program.CodeForAsync(Lead(1), EmailAddress.Parse("alice@example.com"));
        await program.ReferAsync(code, Lead(2), EmailAddress.Parse("bob@example.com"));
        await program.RecordPurchaseAsync(Placed(2, 1, Usd(497), T0));
        clock.Advance(Duration.FromDays(31));

        var results = await Task.WhenAll(Enumerable.Range(0, Racers).Select(_ => Task.Run(() => program.ReleaseRewardsAsync())));

        results.SelectMany(r => r).ShouldHaveSingleItem().ShouldBeOfType<ReferralRewardEarned>();
        (await program.CreditOfAsync(Lead(1))).ShouldBe(Usd(50));
    }

    [Fact]
    public async Task ReferAsync_OneFriendThroughTwoCodesConcurrently_IsReferredOnce()
    {
        ReferralProgram program = InMemoryEngines.Referrals(new ReferralProgramSettings { FriendCoupon = new Coupon { Code = "FRIEND20", PercentOff = 20m }, ReferrerCredit = Usd(50) }, new FakeClock(T0));
        string alice = await program.CodeForAsync(Lead(1), EmailAddress.Parse("alice@example.com"));
        string carol = await program.CodeForAsync(Lead(3), EmailAddress.Parse("carol@example.com"));

        var outcomes = await Task.WhenAll(Enumerable.Range(0, Racers).Select(i => Task.Run(() =>
            program.ReferAsync(i % 2 == 0 ? alice : carol, Lead(2), EmailAddress.Parse("bob@example.com")))));

        outcomes.Count(o => o.Rejection is null).ShouldBe(1);
        outcomes.Count(o => o.Rejection == ReferralRejection.AlreadyReferred).ShouldBe(Racers - 1);
    }

    [Fact]
    public async Task RegisterAsync_OneLeadConcurrently_RegistersOnce()
    {
        var registrar = InMemoryEngines.Webinars([new Webinar { Key = "w", Length = Duration.FromHours(1), Every = Duration.FromMinutes(15) }], new FakeClock(T0));

        var results = await Task.WhenAll(Enumerable.Range(0, Racers).Select(_ => Task.Run(() => registrar.RegisterAsync("w", Lead(1), DateTimeZone.Utc))));

        results.SelectMany(r => r.Events).OfType<WebinarRegistered>().ShouldHaveSingleItem();
        results.Select(r => r.Registration.Session.StartsAt).Distinct().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task RecordNoShowsAsync_Concurrently_ReportsEachNoShowOnce()
    {
        var clock = new FakeClock(T0);
        var registrar = InMemoryEngines.Webinars([new Webinar { Key = "w", Length = Duration.FromHours(1), Every = Duration.FromMinutes(15) }], clock);
        for (int lead = 1; lead <= 5; lead++)
        {
            await registrar.RegisterAsync("w", Lead(lead), DateTimeZone.Utc);
        }

        clock.Advance(Duration.FromHours(2));

        var results = await Task.WhenAll(Enumerable.Range(0, Racers).Select(_ => Task.Run(() => registrar.RecordNoShowsAsync())));

        results.SelectMany(r => r).OfType<WebinarMissed>().Select(e => e.LeadId.Value).Order().ShouldBe([.. Enumerable.Range(1, 5).Select(n => Lead(n).Value).Order()]);
    }

    [Fact]
    public async Task EntitlementLedger_GrantAndLaterRevokeAppliedConcurrently_LatestWins()
    {
        var store = new InMemoryEntitlementStore();
        var ledger = new EntitlementLedger(store);
        var grant = new EntitlementGranted { LeadId = Lead(1), OccurredAt = T0, Order = OrderNo(1), Product = "course" };
        var revoke = new EntitlementRevoked { LeadId = Lead(1), OccurredAt = T0 + Duration.FromDays(1), Order = OrderNo(1), Product = "course" };

        await Task.WhenAll(Enumerable.Range(0, Racers).Select(i => Task.Run(() => ledger.ApplyAsync(i % 2 == 0 ? grant : revoke))));

        (await ledger.HoldsAsync(Lead(1), "course")).ShouldBeFalse();
        (await store.FindAsync(Lead(1), "course", OrderNo(1))).ShouldNotBeNull().ChangedAt.ShouldBe(revoke.OccurredAt);
    }

    [Fact]
    public async Task EvaluateAsync_Concurrently_ReportsEachMemberEnteringOnce()
    {
        var store = new InMemorySegmentMembershipStore();
        var segment = new SegmentDefinition("opted-in", new EventRule { EventType = EventTypes.OptedIn });
        LeadPopulationBuilder builder = new();
        for (int n = 1; n <= 10; n++)
        {
            int index = builder.Add(new LeadProfile { Id = Lead(n), Email = EmailAddress.Parse($"p{n}@example.com"), CreatedAt = T0 });
            builder.AddEvent(index, new OptedIn { LeadId = Lead(n), OccurredAt = T0, Magnet = "guide" });
        }

        LeadPopulation population = builder.Build();

        var results = await Task.WhenAll(Enumerable.Range(0, Racers).Select(_ => Task.Run(() => new SegmentTracker(segment, store).EvaluateAsync(population, T0))));

        results.SelectMany(r => r.Events).OfType<SegmentEntered>().Select(e => e.LeadId.Value).Order().ShouldBe([.. Enumerable.Range(1, 10).Select(n => Lead(n).Value).Order()]);
    }
}
