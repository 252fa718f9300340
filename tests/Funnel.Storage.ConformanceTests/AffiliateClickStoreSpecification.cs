using Funnel.Advocacy;
using static Funnel.Storage.ConformanceTests.ConformanceKit;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IAffiliateClickStore"/>: clicks inserted once, listed per visitor in the order added.</summary>
public abstract class AffiliateClickStoreSpecification
{
    /// <summary>Creates a fresh, empty store.</summary>
    protected abstract IAffiliateClickStore CreateStore();

    [Fact]
    public async Task TryAddAsync_RacingAddsOfOneClick_ExactlyOneWins()
    {
        IAffiliateClickStore store = CreateStore();
        AffiliateClick click = Click(1, at: 0);

        bool[] results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => store.TryAddAsync(click))));

        results.Count(r => r).ShouldBe(1);
        (await store.ListAsync(Lead(1), T0, 10)).ShouldHaveSingleItem().Id.ShouldBe(click.Id);
    }

    [Fact]
    public async Task ListAsync_Mixed_ReturnsTheVisitorsClicksSinceTheInstantInTheOrderAddedAtMostMax()
    {
        IAffiliateClickStore store = CreateStore();
        AffiliateClick old = Click(1, at: -10), late = Click(1, at: 50), early = Click(1, at: 20), same = Click(1, at: 20);
        foreach (AffiliateClick click in new[] { old, late, early, same, Click(2, at: 30) })
        {
            (await store.TryAddAsync(click)).ShouldBeTrue();
        }

        (await store.ListAsync(Lead(1), T0, 10)).Select(c => c.Id).ShouldBe([late.Id, early.Id, same.Id]);
        (await store.ListAsync(Lead(1), T0, 2)).Select(c => c.Id).ShouldBe([late.Id, early.Id]);
        (await store.ListAsync(Lead(3), T0, 10)).ShouldBeEmpty();
    }

    private static AffiliateClick Click(int visitor, int at) =>
        new() { Id = Guid.NewGuid(), Affiliate = Affiliate(1), Visitor = Lead(visitor), At = At(at) };
}
