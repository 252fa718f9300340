using Funnel.Advocacy;
using static Funnel.Storage.ConformanceTests.ConformanceKit;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IAffiliatePayoutStore"/>: payouts inserted once, listed per affiliate oldest first.</summary>
public abstract class AffiliatePayoutStoreSpecification
{
    /// <summary>Creates a fresh, empty store.</summary>
    protected abstract IAffiliatePayoutStore CreateStore();

    [Fact]
    public async Task TryAddAsync_RacingAddsOfOnePayout_ExactlyOneWins()
    {
        IAffiliatePayoutStore store = CreateStore();
        Payout payout = Payout(1, at: 0);

        bool[] results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => store.TryAddAsync(payout))));

        results.Count(r => r).ShouldBe(1);
        (await store.ListAsync(Affiliate(1), 10)).ShouldHaveSingleItem().Id.ShouldBe(payout.Id);
    }

    [Fact]
    public async Task ListAsync_Mixed_ReturnsTheAffiliatesPayoutsOldestFirstAtMostMax()
    {
        IAffiliatePayoutStore store = CreateStore();
        Payout first = Payout(1, at: 0), second = Payout(1, at: 10), third = Payout(1, at: 20);
        foreach (Payout payout in new[] { first, Payout(2, at: 5), second, third })
        {
            (await store.TryAddAsync(payout)).ShouldBeTrue();
        }

        (await store.ListAsync(Affiliate(1), 10)).Select(p => p.Id).ShouldBe([first.Id, second.Id, third.Id]);
        (await store.ListAsync(Affiliate(1), 2)).Select(p => p.Id).ShouldBe([first.Id, second.Id]);
        (await store.ListAsync(Affiliate(3), 10)).ShouldBeEmpty();
    }

    private static Payout Payout(int affiliate, int at) =>
        new(Guid.NewGuid(), Affiliate(affiliate), Cents(5_000), At(at), [Guid.NewGuid()]);
}
