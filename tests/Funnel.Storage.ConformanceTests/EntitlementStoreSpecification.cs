using Funnel.Onboarding;
using static Funnel.Storage.ConformanceTests.ConformanceKit;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IEntitlementStore"/>: keyed by lead, product and order.</summary>
public abstract class EntitlementStoreSpecification : VersionedStoreSpecification<IEntitlementStore, EntitlementRecord>
{
    [Fact]
    public async Task ListAsync_ManyOrders_ReturnsOnlyTheLeadsProductAndAtMostMax()
    {
        IEntitlementStore store = CreateStore();
        for (int n = 1; n <= 5; n++)
        {
            await store.TryAddAsync(NewDocument(n) with { Lead = Lead(1) });
        }

        await store.TryAddAsync(NewDocument(6) with { Lead = Lead(1), Product = "other" });
        await store.TryAddAsync(NewDocument(7) with { Lead = Lead(2) });

        (await store.ListAsync(Lead(1), "course", 3)).Length.ShouldBe(3);
        var all = await store.ListAsync(Lead(1), "course", 10);
        all.Length.ShouldBe(5);
        all.ShouldAllBe(r => r.Lead == Lead(1) && r.Product == "course");
    }

    [Fact]
    public async Task TryAddAsync_SameLeadAndProductAnotherOrder_IsAnotherRecord()
    {
        IEntitlementStore store = CreateStore();
        await store.TryAddAsync(NewDocument(1) with { Lead = Lead(1) });

        (await store.TryAddAsync(NewDocument(2) with { Lead = Lead(1) })).ShouldBeTrue();
    }

    protected override EntitlementRecord NewDocument(int n) =>
        new() { Lead = Lead(n), Product = "course", Order = Order(n), Held = true, ChangedAt = T0 };

    protected override EntitlementRecord Changed(EntitlementRecord current, int change) =>
        current with { Held = change % 2 == 0, ChangedAt = At(change) };

    protected override Task<EntitlementRecord?> FindAsync(IEntitlementStore store, EntitlementRecord document) =>
        store.FindAsync(document.Lead, document.Product, document.Order);

    protected override Task<bool> TryAddAsync(IEntitlementStore store, EntitlementRecord document) => store.TryAddAsync(document);

    protected override Task<bool> TryUpdateAsync(IEntitlementStore store, EntitlementRecord current, EntitlementRecord replacement) =>
        store.TryUpdateAsync(current, replacement);

    protected override long VersionOf(EntitlementRecord document) => document.Version;

    protected override string ContentOf(EntitlementRecord document) =>
        $"{document.Lead}/{document.Product}/{document.Order}/{document.Held}/{document.ChangedAt}";
}
