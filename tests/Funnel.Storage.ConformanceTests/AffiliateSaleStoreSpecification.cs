using Funnel.Advocacy;
using static Funnel.Storage.ConformanceTests.ConformanceKit;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IAffiliateSaleStore"/>: keyed by order, so an order is attributed once.</summary>
public abstract class AffiliateSaleStoreSpecification : VersionedStoreSpecification<IAffiliateSaleStore, AffiliateSale>
{
    [Fact]
    public async Task TryAddAsync_RacingAttributionsOfOneOrderToDifferentAffiliates_ExactlyOneWins()
    {
        IAffiliateSaleStore store = CreateStore();

        bool[] results = await Task.WhenAll(Enumerable.Range(1, Racers).Select(n => Task.Run(() => store.TryAddAsync(NewDocument(1) with { Affiliate = Affiliate(n) }))));

        results.Count(r => r).ShouldBe(1);
    }

    [Fact]
    public async Task TryUpdateAsync_RacingPaymentsRecordedWithTheirEventIds_EachIdOnce()
    {
        IAffiliateSaleStore store = CreateStore();
        await store.TryAddAsync(NewDocument(1));
        var payment = EventId.New();

        await Task.WhenAll(Enumerable.Range(0, Racers).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                AffiliateSale sale = (await store.FindAsync(Order(1)))!;
                if (sale.AppliedEvents.Contains(payment)
                    || await store.TryUpdateAsync(sale, sale with { Paid = sale.Paid + Cents(100), AppliedEvents = sale.AppliedEvents.Add(payment) }))
                {
                    return;
                }
            }
        })));

        AffiliateSale stored = (await store.FindAsync(Order(1)))!;
        stored.Paid.ShouldBe(Cents(100));
        stored.AppliedEvents.ShouldBe([payment]);
    }

    [Fact]
    public async Task ListAsync_Pages_ReturnOneAffiliatesSalesBySaleNumber()
    {
        IAffiliateSaleStore store = CreateStore();
        for (int n = 5; n >= 1; n--)
        {
            await store.TryAddAsync(NewDocument(n));
        }

        await store.TryAddAsync(NewDocument(6) with { Affiliate = Affiliate(2) });

        (await store.ListAsync(Affiliate(1), 0, 3)).Select(s => s.SaleNumber).ShouldBe([1, 2, 3]);
        (await store.ListAsync(Affiliate(1), 3, 3)).Select(s => s.SaleNumber).ShouldBe([4, 5]);
        (await store.ListAsync(Affiliate(2), 0, 3)).ShouldHaveSingleItem().Order.ShouldBe(Order(6));
    }

    [Fact]
    public async Task ListClearedAsync_Mixed_ReturnsSalesWithAPendingEntryPastItsWindowAtMostMax()
    {
        IAffiliateSaleStore store = CreateStore();
        await store.TryAddAsync(WithEntry(1, CommissionStatus.Pending, clearsAt: 30));
        await store.TryAddAsync(WithEntry(2, CommissionStatus.Pending, clearsAt: 10));
        await store.TryAddAsync(WithEntry(3, CommissionStatus.Pending, clearsAt: 500));
        await store.TryAddAsync(WithEntry(4, CommissionStatus.Approved, clearsAt: 5));
        await store.TryAddAsync(NewDocument(5));

        (await store.ListClearedAsync(At(100), 10)).Select(s => s.Order).ShouldBe([Order(2), Order(1)]);
        (await store.ListClearedAsync(At(100), 1)).ShouldHaveSingleItem().Order.ShouldBe(Order(2));
    }

    protected static AffiliateSale WithEntry(int n, CommissionStatus status, int clearsAt) => NewSale(n) with
    {
        Entries =
        [
            new CommissionEntry
            {
                Id = Guid.CreateVersion7(),
                Affiliate = Affiliate(1),
                Order = Order(n),
                Amount = Cents(3_000),
                ClawedBack = Cents(0),
                EarnedAt = T0,
                ClearsAt = At(clearsAt),
                Status = status,
            },
        ],
    };

    protected static AffiliateSale NewSale(int n) => new()
    {
        Order = Order(n),
        Affiliate = Affiliate(1),
        SaleNumber = n,
        Total = Cents(10_000),
        Percent = 30m,
        Paid = Cents(0),
        Refunded = Cents(0),
        Earned = Cents(0),
        ClawedBack = Cents(0),
    };

    protected override AffiliateSale NewDocument(int n) => NewSale(n);

    protected override AffiliateSale Changed(AffiliateSale current, int change) =>
        current with { Paid = Cents(change), Earned = Cents(change * 3 / 10) };

    protected override Task<AffiliateSale?> FindAsync(IAffiliateSaleStore store, AffiliateSale document) => store.FindAsync(document.Order);

    protected override Task<bool> TryAddAsync(IAffiliateSaleStore store, AffiliateSale document) => store.TryAddAsync(document);

    protected override Task<bool> TryUpdateAsync(IAffiliateSaleStore store, AffiliateSale current, AffiliateSale replacement) =>
        store.TryUpdateAsync(current, replacement);

    protected override long VersionOf(AffiliateSale document) => document.Version;

    protected override string ContentOf(AffiliateSale document) =>
        $"{document.Order}/{document.Affiliate}/{document.SaleNumber}/{document.Total}/{document.Paid}/{document.Earned}/{document.Entries.Length}";
}
