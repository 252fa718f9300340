using System.Collections.Immutable;
using Funnel.Waitlists;
using NodaTime;
using static Funnel.Storage.ConformanceTests.ConformanceKit;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IWaitlistStore"/>: one waitlist per offer, and the waitlists whose holds lapsed, earliest first.</summary>
/// <remarks>Instants are whole seconds: durable stores may keep them to the microsecond.</remarks>
public abstract class WaitlistStoreSpecification : VersionedStoreSpecification<IWaitlistStore, Waitlist>
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 2, 9, 0);

    [Fact]
    public async Task TryAddAsync_ThenFindAsync_RoundTripsTheLineAndHoldsInOrder()
    {
        IWaitlistStore store = CreateStore();
        Waitlist waitlist = new()
        {
            Offer = new OfferId("cohort-7"),
            Waiting = [new WaitlistEntry(Lead(3), Now), new WaitlistEntry(Lead(1), Now + Duration.FromSeconds(1)), new WaitlistEntry(Lead(2), Now)],
            Holds =
            [
                new WaitlistHold(Lead(4), Guid.Parse("0193f5a0-9999-7000-8000-000000000002"), Now, Now + Duration.FromHours(24)),
                new WaitlistHold(Lead(5), Guid.Parse("0193f5a0-9999-7000-8000-000000000001"), Now, Now + Duration.FromHours(1), Left: true),
            ],
            Version = 7,
        };

        (await store.TryAddAsync(waitlist)).ShouldBeTrue();

        Waitlist found = (await store.FindAsync(waitlist.Offer)).ShouldNotBeNull();
        found.Version.ShouldBe(0);
        found.Waiting.ShouldBe(waitlist.Waiting);
        found.Holds.ShouldBe(waitlist.Holds);
        found.NextExpiry.ShouldBe(Now + Duration.FromHours(1));
        (await store.FindAsync(new OfferId("cohort-8"))).ShouldBeNull();
    }

    [Fact]
    public async Task FindDueAsync_LapsedHolds_EarliestFirstAndBounded()
    {
        IWaitlistStore store = CreateStore();
        await store.TryAddAsync(WithHold("b-later", Now - Duration.FromMinutes(1)));
        await store.TryAddAsync(WithHold("c-at-now", Now));
        await store.TryAddAsync(WithHold("a-earliest", Now - Duration.FromHours(1)));
        await store.TryAddAsync(WithHold("d-future", Now + Duration.FromSeconds(1)));
        await store.TryAddAsync(NewDocument(9));

        ImmutableArray<Waitlist> due = await store.FindDueAsync(Now, 10);
        ImmutableArray<Waitlist> first = await store.FindDueAsync(Now, 2);

        due.Select(w => w.Offer.Value).ShouldBe(["a-earliest", "b-later", "c-at-now"]);
        first.Select(w => w.Offer.Value).ShouldBe(["a-earliest", "b-later"]);
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => store.FindDueAsync(Now, 0));
    }

    [Fact]
    public async Task FindDueAsync_AfterTheLapsedHoldIsReplaced_NoLongerListsIt()
    {
        IWaitlistStore store = CreateStore();
        await store.TryAddAsync(WithHold("cohort", Now - Duration.FromMinutes(5)));
        Waitlist stored = (await store.FindAsync(new OfferId("cohort"))).ShouldNotBeNull();

        (await store.TryUpdateAsync(stored, stored with { Holds = [new WaitlistHold(Lead(2), Guid.NewGuid(), Now, Now + Duration.FromHours(24))] })).ShouldBeTrue();

        (await store.FindDueAsync(Now, 10)).ShouldBeEmpty();
        (await store.FindDueAsync(Now + Duration.FromHours(24), 10)).ShouldHaveSingleItem().Version.ShouldBe(1);
    }

    protected override Waitlist NewDocument(int n) => new()
    {
        Offer = new OfferId("offer-" + n),
        Waiting = [new WaitlistEntry(Lead(n), Now)],
    };

    protected override Waitlist Changed(Waitlist current, int change) =>
        current with { Waiting = current.Waiting.Add(new WaitlistEntry(Lead(1000 + change), Now + Duration.FromSeconds(change))) };

    protected override Task<Waitlist?> FindAsync(IWaitlistStore store, Waitlist document) => store.FindAsync(document.Offer);

    protected override Task<bool> TryAddAsync(IWaitlistStore store, Waitlist document) => store.TryAddAsync(document);

    protected override Task<bool> TryUpdateAsync(IWaitlistStore store, Waitlist current, Waitlist replacement) =>
        store.TryUpdateAsync(current, replacement);

    protected override long VersionOf(Waitlist document) => document.Version;

    protected override string ContentOf(Waitlist document) =>
        $"{document.Offer}/{string.Join(",", document.Waiting)}/{string.Join(",", document.Holds)}";

    private static Waitlist WithHold(string offer, Instant expiresAt) => new()
    {
        Offer = new OfferId(offer),
        Holds = [new WaitlistHold(Lead(1), Guid.NewGuid(), expiresAt - Duration.FromHours(24), expiresAt)],
    };
}
