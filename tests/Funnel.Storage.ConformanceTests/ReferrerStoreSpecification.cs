using Funnel.Advocacy;
using Funnel.Leads;
using static Funnel.Storage.ConformanceTests.ConformanceKit;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IReferrerStore"/>: keyed by lead, with a unique code.</summary>
public abstract class ReferrerStoreSpecification : VersionedStoreSpecification<IReferrerStore, Referrer>
{
    [Fact]
    public async Task TryAddAsync_CodeOfAnotherLead_ReturnsFalse()
    {
        IReferrerStore store = CreateStore();
        await store.TryAddAsync(NewDocument(1));

        (await store.TryAddAsync(NewDocument(2) with { Code = "r1" })).ShouldBeFalse();

        (await store.FindAsync(Lead(2))).ShouldBeNull();
        (await store.FindByCodeAsync("r1")).ShouldNotBeNull().Lead.ShouldBe(Lead(1));
    }

    [Fact]
    public async Task TryAddAsync_RacingLeadsWithOneCode_ExactlyOneGetsIt()
    {
        IReferrerStore store = CreateStore();

        bool[] results = await Task.WhenAll(Enumerable.Range(1, Racers).Select(n => Task.Run(() => store.TryAddAsync(NewDocument(n) with { Code = "shared" }))));

        results.Count(r => r).ShouldBe(1);
        Referrer owner = (await store.FindByCodeAsync("shared")).ShouldNotBeNull();
        (await store.FindAsync(owner.Lead)).ShouldNotBeNull().Code.ShouldBe("shared");
    }

    [Fact]
    public async Task FindByCodeAsync_UnknownCode_ReturnsNull()
    {
        IReferrerStore store = CreateStore();
        await store.TryAddAsync(NewDocument(1));

        (await store.FindByCodeAsync("nobody")).ShouldBeNull();
    }

    protected override Referrer NewDocument(int n) => new()
    {
        Lead = Lead(n),
        Email = EmailAddress.Parse($"person{n}@example.com"),
        Code = "r" + n,
        Credit = Cents(0),
    };

    protected override Referrer Changed(Referrer current, int change) =>
        current with { Credit = Cents(change), Fingerprints = ["card" + change] };

    protected override Task<Referrer?> FindAsync(IReferrerStore store, Referrer document) => store.FindAsync(document.Lead);

    protected override Task<bool> TryAddAsync(IReferrerStore store, Referrer document) => store.TryAddAsync(document);

    protected override Task<bool> TryUpdateAsync(IReferrerStore store, Referrer current, Referrer replacement) =>
        store.TryUpdateAsync(current, replacement);

    protected override long VersionOf(Referrer document) => document.Version;

    protected override string ContentOf(Referrer document) =>
        $"{document.Lead}/{document.Code}/{document.Email}/{document.Credit}/{string.Join(",", document.Fingerprints)}";
}
