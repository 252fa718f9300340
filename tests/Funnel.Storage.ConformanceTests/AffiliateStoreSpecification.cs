using Funnel.Advocacy;
using static Funnel.Storage.ConformanceTests.ConformanceKit;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IAffiliateStore"/>: id, code and lead each unique.</summary>
public abstract class AffiliateStoreSpecification : VersionedStoreSpecification<IAffiliateStore, Affiliate>
{
    [Fact]
    public async Task TryAddAsync_TakenCodeOrEnrolledLead_ReturnsFalse()
    {
        IAffiliateStore store = CreateStore();
        await store.TryAddAsync(NewDocument(1));

        (await store.TryAddAsync(NewDocument(2) with { Code = "a1" })).ShouldBeFalse();
        (await store.TryAddAsync(NewDocument(3) with { Lead = Lead(1) })).ShouldBeFalse();

        (await store.FindAsync(Affiliate(2))).ShouldBeNull();
        (await store.FindAsync(Affiliate(3))).ShouldBeNull();
    }

    [Fact]
    public async Task TryAddAsync_RacingEnrolmentsOfOneLead_ExactlyOneWins()
    {
        IAffiliateStore store = CreateStore();

        bool[] results = await Task.WhenAll(Enumerable.Range(1, Racers).Select(n => Task.Run(() => store.TryAddAsync(NewDocument(n) with { Lead = Lead(1) }))));

        results.Count(r => r).ShouldBe(1);
    }

    [Fact]
    public async Task TryAddAsync_RacingEnrolmentsWithOneCode_ExactlyOneWins()
    {
        IAffiliateStore store = CreateStore();

        bool[] results = await Task.WhenAll(Enumerable.Range(1, Racers).Select(n => Task.Run(() => store.TryAddAsync(NewDocument(n) with { Code = "sarah" }))));

        results.Count(r => r).ShouldBe(1);
        (await store.FindByCodeAsync("sarah")).ShouldNotBeNull();
    }

    [Fact]
    public async Task FindByCodeAsync_AfterUpdate_ReturnsTheNewVersion()
    {
        IAffiliateStore store = CreateStore();
        await store.TryAddAsync(NewDocument(1));
        Affiliate current = (await store.FindByCodeAsync("a1")).ShouldNotBeNull();

        await store.TryUpdateAsync(current, current with { Status = AffiliateStatus.Approved });

        Affiliate found = (await store.FindByCodeAsync("a1")).ShouldNotBeNull();
        found.Status.ShouldBe(AffiliateStatus.Approved);
        found.Version.ShouldBe(1);
        (await store.FindByCodeAsync("nobody")).ShouldBeNull();
    }

    protected override Affiliate NewDocument(int n) =>
        new() { Id = Affiliate(n), Lead = Lead(n), Code = "a" + n, Status = AffiliateStatus.Pending, AppliedAt = T0 };

    protected override Affiliate Changed(Affiliate current, int change) =>
        current with { Clicks = change, SalesNumbered = change, DecidedAt = At(change) };

    protected override Task<Affiliate?> FindAsync(IAffiliateStore store, Affiliate document) => store.FindAsync(document.Id);

    protected override Task<bool> TryAddAsync(IAffiliateStore store, Affiliate document) => store.TryAddAsync(document);

    protected override Task<bool> TryUpdateAsync(IAffiliateStore store, Affiliate current, Affiliate replacement) =>
        store.TryUpdateAsync(current, replacement);

    protected override long VersionOf(Affiliate document) => document.Version;

    protected override string ContentOf(Affiliate document) =>
        $"{document.Id}/{document.Lead}/{document.Code}/{document.Status}/{document.Clicks}/{document.SalesNumbered}/{document.DecidedAt}";
}
