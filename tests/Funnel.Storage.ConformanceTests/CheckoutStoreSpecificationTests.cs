using System.Collections.Immutable;
using Funnel.CartRecovery;
using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="ICheckoutStore"/>: subclass it with a <see cref="CreateStore"/> of your store.</summary>
/// <remarks>Instants are whole seconds: durable stores may keep them to the microsecond.</remarks>
public abstract class CheckoutStoreSpecificationTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly Duration Lease = Duration.FromMinutes(5);
    private static readonly OfferId Offer = new("masterclass-basic");

    /// <summary>Returns a new, empty store.</summary>
    protected abstract ICheckoutStore CreateStore();

    [Fact]
    public async Task TryAddAsync_ThenFindAsync_RoundTripsEveryFieldWithVersionZero()
    {
        ICheckoutStore store = CreateStore();
        TrackedCheckout checkout = Checkout(LeadId.New(), Now) with
        {
            Status = CheckoutStatus.Abandoned, ClaimedBy = "instance-a", ClaimedUntil = Now + Lease, Version = 9,
        };

        (await store.TryAddAsync(checkout)).ShouldBeTrue();

        (await store.FindAsync(checkout.Lead, Offer)).ShouldBe(checkout with { Version = 0 });
        (await store.FindAsync(checkout.Lead, new OfferId("other"))).ShouldBeNull();
        (await store.FindAsync(LeadId.New(), Offer)).ShouldBeNull();
    }

    [Fact]
    public async Task TryAddAsync_ConcurrentAddsForOneLeadAndOffer_ExactlyOneWins()
    {
        ICheckoutStore store = CreateStore();
        LeadId lead = LeadId.New();

        bool[] added = await Race.RunAsync(Race.Contenders, i => store.TryAddAsync(Checkout(lead, Now + Duration.FromSeconds(i))));

        added.Count(a => a).ShouldBe(1);
        (await store.FindAsync(lead, Offer)).ShouldNotBeNull().StartedAt.ShouldBe(Now + Duration.FromSeconds(Array.IndexOf(added, true)));
        (await store.TryAddAsync(Checkout(lead, Now))).ShouldBeFalse();
    }

    [Fact]
    public async Task TryAddAsync_SameLeadOtherOffer_IsAnotherCheckout()
    {
        ICheckoutStore store = CreateStore();
        LeadId lead = LeadId.New();
        await store.TryAddAsync(Checkout(lead, Now));

        (await store.TryAddAsync(Checkout(lead, Now) with { Offer = new OfferId("mini-kit") })).ShouldBeTrue();

        (await store.FindAsync(lead, new OfferId("mini-kit"))).ShouldNotBeNull();
    }

    [Fact]
    public async Task TryUpdateAsync_CurrentVersion_StoresTheReplacementUnderTheCurrentKeyWithTheNextVersion()
    {
        ICheckoutStore store = CreateStore();
        TrackedCheckout current = Checkout(LeadId.New(), Now);
        await store.TryAddAsync(current);
        TrackedCheckout restarted = Checkout(LeadId.New(), Now + Duration.FromMinutes(10)) with { Offer = new OfferId("elsewhere"), Version = 42 };

        (await store.TryUpdateAsync(current, restarted)).ShouldBeTrue();

        (await store.FindAsync(current.Lead, Offer)).ShouldBe(restarted with { Lead = current.Lead, Offer = Offer, Version = 1 });
        (await store.FindAsync(restarted.Lead, new OfferId("elsewhere"))).ShouldBeNull();
    }

    [Fact]
    public async Task TryUpdateAsync_StaleVersion_ReturnsFalseAndChangesNothing()
    {
        ICheckoutStore store = CreateStore();
        TrackedCheckout current = Checkout(LeadId.New(), Now);
        await store.TryAddAsync(current);
        (await store.TryUpdateAsync(current, current with { Status = CheckoutStatus.Ordered })).ShouldBeTrue();

        (await store.TryUpdateAsync(current, current with { Status = CheckoutStatus.Abandoned })).ShouldBeFalse();

        TrackedCheckout stored = (await store.FindAsync(current.Lead, Offer)).ShouldNotBeNull();
        (stored.Status, stored.Version).ShouldBe((CheckoutStatus.Ordered, 1L));
    }

    [Fact]
    public async Task TryUpdateAsync_ParallelUpdatesFromOneVersion_ExactlyOneWins()
    {
        ICheckoutStore store = CreateStore();
        TrackedCheckout current = Checkout(LeadId.New(), Now);
        await store.TryAddAsync(current);

        bool[] won = await Race.RunAsync(Race.Contenders, i => store.TryUpdateAsync(current, current with { ClaimedBy = $"instance-{i}" }));

        won.Count(w => w).ShouldBe(1);
        (await store.FindAsync(current.Lead, Offer)).ShouldNotBeNull().ClaimedBy.ShouldBe($"instance-{Array.IndexOf(won, true)}");
    }

    [Fact]
    public async Task TryUpdateAsync_Unknown_ReturnsFalse()
    {
        ICheckoutStore store = CreateStore();

        (await store.TryUpdateAsync(Checkout(LeadId.New(), Now), Checkout(LeadId.New(), Now))).ShouldBeFalse();
    }

    [Fact]
    public async Task ClaimDueAsync_DueOpenCheckouts_ClaimsThemEarliestDueFirstUpToMax()
    {
        ICheckoutStore store = CreateStore();
        TrackedCheckout early = Checkout(LeadId.New(), Now - Duration.FromHours(3));
        TrackedCheckout middle = Checkout(LeadId.New(), Now - Duration.FromHours(2));
        TrackedCheckout late = Checkout(LeadId.New(), Now - Duration.FromHours(1));
        TrackedCheckout notDue = Checkout(LeadId.New(), Now - Duration.FromMinutes(59));
        await store.TryAddAsync(late);
        await store.TryAddAsync(early);
        await store.TryAddAsync(notDue);
        await store.TryAddAsync(middle);
        await store.TryAddAsync(Checkout(LeadId.New(), Now - Duration.FromDays(1)) with { Status = CheckoutStatus.Ordered });
        await store.TryAddAsync(Checkout(LeadId.New(), Now - Duration.FromDays(1)) with { Status = CheckoutStatus.Abandoned });

        ImmutableArray<TrackedCheckout> claimed = await store.ClaimDueAsync(Now, 2, Lease, "a");

        claimed.Select(c => c.Lead).ShouldBe([early.Lead, middle.Lead]);
        claimed.ShouldAllBe(c => c.ClaimedBy == "a" && c.ClaimedUntil >= Now + Lease && c.Version == 1 && c.Status == CheckoutStatus.Open);
        (await store.FindAsync(early.Lead, Offer)).ShouldNotBeNull().ClaimedBy.ShouldBe("a");
        (await store.ClaimDueAsync(Now, 10, Lease, "b")).Select(c => c.Lead).ShouldBe([late.Lead], "a checkout due exactly now is due");
        (await store.ClaimDueAsync(Now, 10, Lease, "c")).ShouldBeEmpty();
    }

    [Fact]
    public async Task ClaimDueAsync_LeaseEnds_ClaimableAgainAndTheOldHolderIsFenced()
    {
        ICheckoutStore store = CreateStore();
        await store.TryAddAsync(Checkout(LeadId.New(), Now - Duration.FromHours(2)));
        TrackedCheckout first = (await store.ClaimDueAsync(Now, 10, Lease, "a")).ShouldHaveSingleItem();

        (await store.ClaimDueAsync(Now + Lease - Duration.FromSeconds(1), 10, Lease, "b")).ShouldBeEmpty();
        TrackedCheckout second = (await store.ClaimDueAsync(Now + Lease + Duration.FromSeconds(1), 10, Lease, "b")).ShouldHaveSingleItem();

        (second.ClaimedBy, second.Version).ShouldBe(("b", 2L));
        (await store.TryUpdateAsync(first, first with { Status = CheckoutStatus.Abandoned })).ShouldBeFalse("the expired holder is fenced by the version");
        (await store.TryUpdateAsync(second, second with { Status = CheckoutStatus.Abandoned })).ShouldBeTrue();
        (await store.ClaimDueAsync(Now + Duration.FromDays(1), 10, Lease, "c")).ShouldBeEmpty("an abandoned checkout is never claimed again");
    }

    [Fact]
    public async Task ClaimDueAsync_ConcurrentClaimers_EachCheckoutIsClaimedByOneOfThem()
    {
        ICheckoutStore store = CreateStore();
        LeadId[] leads = [.. Enumerable.Range(0, 24).Select(_ => LeadId.New())];
        for (int i = 0; i < leads.Length; i++)
        {
            await store.TryAddAsync(Checkout(leads[i], Now - Duration.FromHours(2) + Duration.FromSeconds(i)));
        }

        ImmutableArray<TrackedCheckout>[] claims = await Race.RunAsync(Race.Contenders, i => store.ClaimDueAsync(Now, 3, Lease, $"instance-{i}"));

        List<LeadId> claimed = [.. claims.SelectMany(c => c).Select(c => c.Lead)];
        claimed.Distinct().Count().ShouldBe(claimed.Count, "no checkout is claimed twice");
        claimed.AddRange((await store.ClaimDueAsync(Now, 100, Lease, "late")).Select(c => c.Lead));
        claimed.Select(l => l.Value).Order().ShouldBe(leads.Select(l => l.Value).Order());
        for (int i = 0; i < claims.Length; i++)
        {
            foreach (TrackedCheckout c in claims[i])
            {
                (await store.FindAsync(c.Lead, Offer)).ShouldNotBeNull().ClaimedBy.ShouldBe($"instance-{i}");
            }
        }
    }

    [Fact]
    public async Task ClaimDueAsync_InvalidArguments_Throw()
    {
        ICheckoutStore store = CreateStore();

        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => store.ClaimDueAsync(Now, 0, Lease, "a"));
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => store.ClaimDueAsync(Now, 1, Duration.Zero, "a"));
        await Should.ThrowAsync<ArgumentNullException>(() => store.ClaimDueAsync(Now, 1, Lease, null!));
    }

    private static TrackedCheckout Checkout(LeadId lead, Instant startedAt) => new()
    {
        Lead = lead,
        Offer = Offer,
        Checkout = EventId.New(),
        StartedAt = startedAt,
        DueAt = startedAt + Duration.FromHours(1),
    };
}
