using Funnel.Advocacy;
using static Funnel.Storage.ConformanceTests.ConformanceKit;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IReferralStore"/>: keyed by the friend, so a friend is referred once.</summary>
public abstract class ReferralStoreSpecification : VersionedStoreSpecification<IReferralStore, Referral>
{
    [Fact]
    public async Task ListClearedAsync_Mixed_ReturnsPurchasedPastTheWindowEarliestFirstAtMostMax()
    {
        IReferralStore store = CreateStore();
        await store.TryAddAsync(Purchased(1, clearsAt: 30));
        await store.TryAddAsync(Purchased(2, clearsAt: 10));
        await store.TryAddAsync(Purchased(3, clearsAt: 500));
        await store.TryAddAsync(Purchased(4, clearsAt: 20) with { Status = ReferralStatus.Cancelled });
        await store.TryAddAsync(Purchased(5, clearsAt: 20) with { Status = ReferralStatus.Rewarded });
        await store.TryAddAsync(NewDocument(6));
        await store.TryAddAsync(Purchased(7, clearsAt: 40));

        (await store.ListClearedAsync(At(100), 10)).Select(r => r.Friend).ShouldBe([Lead(2), Lead(1), Lead(7)]);
        (await store.ListClearedAsync(At(100), 2)).Select(r => r.Friend).ShouldBe([Lead(2), Lead(1)]);
    }

    [Fact]
    public async Task TryUpdateAsync_RacingRewardsOfOneFriend_ExactlyOneWins()
    {
        IReferralStore store = CreateStore();
        await store.TryAddAsync(Purchased(1, clearsAt: 0));
        Referral due = (await store.ListClearedAsync(At(1), 10)).ShouldHaveSingleItem();

        bool[] results = await Task.WhenAll(Enumerable.Range(0, Racers).Select(_ => Task.Run(() =>
            store.TryUpdateAsync(due, due with { Status = ReferralStatus.Rewarded }))));

        results.Count(r => r).ShouldBe(1);
        (await store.ListClearedAsync(At(1), 10)).ShouldBeEmpty();
    }

    protected static Referral Purchased(int n, int clearsAt) =>
        new() { Friend = Lead(n), Referrer = Lead(1_000), Code = "r", Status = ReferralStatus.Purchased, Order = Order(n), ClearsAt = At(clearsAt) };

    protected override Referral NewDocument(int n) =>
        new() { Friend = Lead(n), Referrer = Lead(1_000), Code = "r", Status = ReferralStatus.Referred };

    protected override Referral Changed(Referral current, int change) =>
        current with { Status = ReferralStatus.Purchased, Order = Order(change), ClearsAt = At(change) };

    protected override Task<Referral?> FindAsync(IReferralStore store, Referral document) => store.FindAsync(document.Friend);

    protected override Task<bool> TryAddAsync(IReferralStore store, Referral document) => store.TryAddAsync(document);

    protected override Task<bool> TryUpdateAsync(IReferralStore store, Referral current, Referral replacement) =>
        store.TryUpdateAsync(current, replacement);

    protected override long VersionOf(Referral document) => document.Version;

    protected override string ContentOf(Referral document) =>
        $"{document.Friend}/{document.Referrer}/{document.Code}/{document.Status}/{document.Order}/{document.ClearsAt}";
}
