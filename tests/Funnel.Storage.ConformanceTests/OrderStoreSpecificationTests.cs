using Funnel.Offers;
using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IOrderStore"/>: subclass it with a <see cref="CreateStore"/> of your store.</summary>
public abstract class OrderStoreSpecificationTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly Currency Usd = Currency.FromCode("USD");

    /// <summary>Returns a new, empty store.</summary>
    protected abstract IOrderStore CreateStore();

    [Fact]
    public async Task TryAddAsync_SameIdTwice_SecondReturnsFalse()
    {
        IOrderStore store = CreateStore();
        Order order = NewOrder();

        (await store.TryAddAsync(order)).ShouldBeTrue();
        (await store.TryAddAsync(order with { Paid = Money.FromMajor(1, Usd) })).ShouldBeFalse();

        Order stored = (await store.FindAsync(order.Id)).ShouldNotBeNull();
        stored.Version.ShouldBe(0);
        stored.Paid.ShouldBe(Money.Zero(Usd));
    }

    [Fact]
    public async Task TryAddAsync_ConcurrentAddsOfOneId_ExactlyOneWins()
    {
        IOrderStore store = CreateStore();
        Order order = NewOrder();

        bool[] added = await Race.RunAsync(Race.Contenders, _ => store.TryAddAsync(order));

        added.Count(a => a).ShouldBe(1);
    }

    [Fact]
    public async Task TryUpdateAsync_StaleVersion_ReturnsFalseAndChangesNothing()
    {
        IOrderStore store = CreateStore();
        Order order = NewOrder();
        await store.TryAddAsync(order);
        (await store.TryUpdateAsync(order, order with { Status = OrderStatus.Paid })).ShouldBeTrue();

        (await store.TryUpdateAsync(order, order with { Status = OrderStatus.Refunded })).ShouldBeFalse();

        Order stored = (await store.FindAsync(order.Id)).ShouldNotBeNull();
        stored.Status.ShouldBe(OrderStatus.Paid);
        stored.Version.ShouldBe(1);
    }

    [Fact]
    public async Task TryUpdateAsync_UnknownOrder_ReturnsFalse()
    {
        IOrderStore store = CreateStore();
        Order order = NewOrder();

        (await store.TryUpdateAsync(order, order with { Status = OrderStatus.Paid })).ShouldBeFalse();

        (await store.FindAsync(order.Id)).ShouldBeNull();
    }

    [Fact]
    public async Task TryUpdateAsync_ParallelUpdatesFromOneVersion_ExactlyOneWins()
    {
        IOrderStore store = CreateStore();
        Order order = NewOrder();
        await store.TryAddAsync(order);

        bool[] won = await Race.RunAsync(Race.Contenders, i => store.TryUpdateAsync(order, order with { FailedPaymentAttempts = i + 1 }));

        won.Count(w => w).ShouldBe(1);
        Order stored = (await store.FindAsync(order.Id)).ShouldNotBeNull();
        stored.Version.ShouldBe(1);
        stored.FailedPaymentAttempts.ShouldBe(Array.IndexOf(won, true) + 1);
    }

    [Fact]
    public async Task TryUpdateAsync_ReplacementWithAnotherIdAndVersion_StoredUnderTheCurrentIdWithTheNextVersion()
    {
        IOrderStore store = CreateStore();
        Order order = NewOrder();
        (await store.TryAddAsync(order with { Version = 7 })).ShouldBeTrue();
        Order current = (await store.FindAsync(order.Id)).ShouldNotBeNull();
        current.Version.ShouldBe(0, "an added order is stored with version 0");
        Order replacement = NewOrder() with { Status = OrderStatus.Paid, Version = 42 };

        (await store.TryUpdateAsync(current, replacement)).ShouldBeTrue();

        Order stored = (await store.FindAsync(order.Id)).ShouldNotBeNull();
        (stored.Id, stored.Status, stored.Version).ShouldBe((order.Id, OrderStatus.Paid, 1L));
        (await store.FindAsync(replacement.Id)).ShouldBeNull();
    }

    private static Order NewOrder() => new()
    {
        Id = OrderId.New(),
        Lead = LeadId.New(),
        PlacedAt = Start,
        Lines = [new OrderLine { Offer = "ebook", Role = OfferRole.Main, Quantity = 1, Total = Money.FromMajor(27, Usd), Products = ["ebook"] }],
        Total = Money.FromMajor(27, Usd),
        Schedule = [],
        Paid = Money.Zero(Usd),
        Refunded = Money.Zero(Usd),
    };
}
