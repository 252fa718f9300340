using Funnel.Events;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IFunnelEventLog"/>: subclass it with a <see cref="CreateLog"/> of your log.</summary>
public abstract class FunnelEventLogSpecificationTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 12, 1, 8, 0);

    /// <summary>Returns a new, empty log.</summary>
    protected abstract IFunnelEventLog CreateLog();

    [Fact]
    public async Task AppendAsync_SameIdTwice_KeepsTheFirstOnce()
    {
        IFunnelEventLog log = CreateLog();
        PageViewed view = View(1);

        (await log.AppendAsync([view, view])).ShouldBe(1);
        (await log.AppendAsync([view with { Page = "/changed" }])).ShouldBe(0);

        LoggedEvent logged = (await log.ReadAsync(0, 10)).ShouldHaveSingleItem();
        logged.Event.Id.ShouldBe(view.Id);
        ((PageViewed)logged.Event).Page.ShouldBe(view.Page);
    }

    [Fact]
    public async Task ReadAsync_AfterAPosition_ReturnsLaterEventsInAppendOrderUpToMax()
    {
        IFunnelEventLog log = CreateLog();
        FunnelEvent[] events = [.. Enumerable.Range(1, 10).Select(View)];
        await log.AppendAsync(events[..4]);
        await log.AppendAsync(events[4..]);

        IReadOnlyList<LoggedEvent> all = await log.ReadAsync(0, 100);
        all.Select(e => e.Event.Id).ShouldBe(events.Select(e => e.Id));
        all.Select(e => e.Position).ShouldBeInOrder(SortDirection.Ascending);
        all.Select(e => e.Position).ShouldBeUnique();

        IReadOnlyList<LoggedEvent> page = await log.ReadAsync(all[2].Position, 3);
        page.Select(e => e.Event.Id).ShouldBe(events[3..6].Select(e => e.Id));
        (await log.ReadAsync(all[^1].Position, 10)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ReadLeadAsync_MixedLeads_ReturnsOnlyThatLeadsEventsInOrder()
    {
        IFunnelEventLog log = CreateLog();
        FunnelEvent[] events = [.. Enumerable.Range(1, 9).Select(View)];
        await log.AppendAsync(events);
        LeadId lead = ((LeadEvent)events[0]).LeadId;

        IReadOnlyList<LoggedEvent> read = await log.ReadLeadAsync(lead, 10);

        read.Select(e => e.Event.Id).ShouldBe(events.Where(e => ((LeadEvent)e).LeadId == lead).Select(e => e.Id));
        (await log.ReadLeadAsync(lead, 1)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task AppendAsync_ManyWritersOfTheSameEvents_KeepsEachOnce()
    {
        IFunnelEventLog log = CreateLog();
        FunnelEvent[] events = [.. Enumerable.Range(1, 200).Select(View)];

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => log.AppendAsync(events))));

        IReadOnlyList<LoggedEvent> read = await log.ReadAsync(0, 1000);
        read.Count.ShouldBe(200);
        read.Select(e => e.Event.Id).ShouldBeUnique();
    }

    [Fact]
    public async Task ReadPartitionAsync_EveryPartition_TogetherHoldEachEventOnceInOrderAndKeepALeadInOne()
    {
        IFunnelEventLog log = CreateLog();
        FunnelEvent[] events = [.. Enumerable.Range(1, 60).Select(n => View(n) with
        {
            LeadId = new LeadId(new Guid(n % 7 + 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)),
        })];
        await log.AppendAsync(events);
        IReadOnlyList<LoggedEvent> all = await log.ReadAsync(0, 100);

        List<LoggedEvent> union = [];
        foreach (int index in Enumerable.Range(0, 4))
        {
            var partition = new LogPartition(index, 4);
            List<LoggedEvent> read = [];
            long after = 0;
            while (await log.ReadPartitionAsync(after, 5, partition) is { Count: > 0 } page)
            {
                page.Count.ShouldBeLessThanOrEqualTo(5);
                read.AddRange(page);
                after = page[^1].Position;
            }

            read.Select(e => e.Position).ShouldBeInOrder(SortDirection.Ascending);
            read.ShouldAllBe(e => partition.Contains(e.Event));
            union.AddRange(read);
        }

        union.Select(e => e.Event.Id.Value).Order().ShouldBe(all.Select(e => e.Event.Id.Value).Order());
        (await log.ReadPartitionAsync(0, 100, LogPartition.All)).Select(e => e.Position).ShouldBe(all.Select(e => e.Position));
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => log.ReadPartitionAsync(0, 10, new LogPartition(4, 4)));
    }

    [Fact]
    public async Task CountAsync_AfterAPosition_CountsWhatReadPartitionAsyncReturnsUpToMax()
    {
        IFunnelEventLog log = CreateLog();
        await log.AppendAsync([.. Enumerable.Range(1, 60).Select(n => View(n) with
        {
            LeadId = new LeadId(new Guid(n % 7 + 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)),
        })]);
        long middle = (await log.ReadAsync(0, 100))[29].Position;

        foreach (LogPartition partition in new[] { LogPartition.All, new LogPartition(1, 4), new LogPartition(3, 4) })
        {
            foreach ((long after, int max) in new[] { (0L, 100), (middle, 100), (0L, 7), (middle, 3) })
            {
                int expected = (await log.ReadPartitionAsync(after, max, partition)).Count;
                (await log.CountAsync(after, max, partition)).ShouldBe(expected, $"partition {partition.Index}/{partition.Count} after {after} max {max}");
            }
        }

        (await log.CountAsync(0, 100, LogPartition.All)).ShouldBe(60);
        (await log.CountAsync(middle, 100, LogPartition.All)).ShouldBe(30);
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => log.CountAsync(0, 0, LogPartition.All));
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => log.CountAsync(-1, 10, LogPartition.All));
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => log.CountAsync(0, 10, new LogPartition(1, 1)));
    }

    private static PageViewed View(int n) => new()
    {
        LeadId = new LeadId(new Guid(n % 3 + 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
        OccurredAt = Start + Duration.FromSeconds(n),
        Page = "/p/" + n.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>The contract of <see cref="IEventSubscriptionStore"/>: subclass it with a <see cref="CreateStore"/> of your store.</summary>
public abstract class EventSubscriptionStoreSpecificationTests
{
    /// <summary>Returns a new, empty store.</summary>
    protected abstract IEventSubscriptionStore CreateStore();

    [Fact]
    public async Task TryAddAsync_SameNameTwice_SecondReturnsFalse()
    {
        IEventSubscriptionStore store = CreateStore();

        (await store.TryAddAsync(new EventSubscription { Name = "sequences" })).ShouldBeTrue();
        (await store.TryAddAsync(new EventSubscription { Name = "sequences", Position = 9 })).ShouldBeFalse();

        EventSubscription stored = (await store.FindAsync("sequences")).ShouldNotBeNull();
        (stored.Position, stored.Version).ShouldBe((0L, 0L));
        (await store.FindAsync("other")).ShouldBeNull();
    }

    [Fact]
    public async Task TryUpdateAsync_StaleVersion_ReturnsFalseAndChangesNothing()
    {
        IEventSubscriptionStore store = CreateStore();
        await store.TryAddAsync(new EventSubscription { Name = "h" });
        EventSubscription read = (await store.FindAsync("h")).ShouldNotBeNull();
        (await store.TryUpdateAsync(read, read with { Position = 5 })).ShouldBeTrue();

        (await store.TryUpdateAsync(read, read with { Position = 3 })).ShouldBeFalse();

        EventSubscription stored = (await store.FindAsync("h")).ShouldNotBeNull();
        (stored.Position, stored.Version).ShouldBe((5L, 1L));
    }

    [Fact]
    public async Task TryUpdateAsync_ManyFromTheSameVersion_ExactlyOneWins()
    {
        IEventSubscriptionStore store = CreateStore();
        await store.TryAddAsync(new EventSubscription { Name = "h" });
        EventSubscription read = (await store.FindAsync("h")).ShouldNotBeNull();

        bool[] won = await Task.WhenAll(Enumerable.Range(1, 16).Select(i => Task.Run(() => store.TryUpdateAsync(read, read with { Position = i }))));

        won.Count(w => w).ShouldBe(1);
        (await store.FindAsync("h")).ShouldNotBeNull().Version.ShouldBe(1);
    }

    [Fact]
    public async Task ListAsync_SomeStored_ReturnsEachByNameWithItsLease()
    {
        IEventSubscriptionStore store = CreateStore();
        (await store.ListAsync()).ShouldBeEmpty();
        Instant until = Instant.FromUtc(2026, 12, 1, 8, 0, 30);
        await store.TryAddAsync(new EventSubscription { Name = "b#1/2" });
        await store.TryAddAsync(new EventSubscription { Name = "a" });
        EventSubscription b = (await store.FindAsync("b#1/2")).ShouldNotBeNull();
        (await store.TryUpdateAsync(b, b with { Position = 4, LeaseOwner = "host-1", LeaseUntil = until })).ShouldBeTrue();

        IReadOnlyList<EventSubscription> listed = await store.ListAsync();

        listed.Select(s => s.Name).ShouldBe(["a", "b#1/2"]);
        listed[1].ShouldBe(b with { Position = 4, LeaseOwner = "host-1", LeaseUntil = until, Version = 1 });
    }
}

/// <summary>The contract of <see cref="IParkedEventStore"/>: subclass it with a <see cref="CreateStore"/> of your store.</summary>
public abstract class ParkedEventStoreSpecificationTests
{
    /// <summary>Returns a new, empty store.</summary>
    protected abstract IParkedEventStore CreateStore();

    [Fact]
    public async Task TryAddAsync_SameHandlerAndPositionTwice_SecondReturnsFalse()
    {
        IParkedEventStore store = CreateStore();
        ParkedEvent parked = Parked("h", 3);

        (await store.TryAddAsync(parked)).ShouldBeTrue();
        (await store.TryAddAsync(parked with { Attempts = 9 })).ShouldBeFalse();
        (await store.TryAddAsync(Parked("other", 3))).ShouldBeTrue();

        (await store.ListAsync(10)).Count.ShouldBe(2);
    }

    [Fact]
    public async Task ListAsync_SomeParked_OldestPositionFirstUpToMax()
    {
        IParkedEventStore store = CreateStore();
        foreach (long position in new long[] { 7, 2, 5 })
        {
            await store.TryAddAsync(Parked("h", position));
        }

        (await store.ListAsync(2)).Select(p => p.Position).ShouldBe([2L, 5L]);
    }

    [Fact]
    public async Task TryRemoveAsync_TwoRetriersAtOnce_ExactlyOneRemoves()
    {
        IParkedEventStore store = CreateStore();
        await store.TryAddAsync(Parked("h", 4));
        ParkedEvent read = (await store.ListAsync(1)).ShouldHaveSingleItem();

        bool[] removed = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.TryRemoveAsync(read))));

        removed.Count(r => r).ShouldBe(1);
        (await store.ListAsync(10)).ShouldBeEmpty();
    }

    private static ParkedEvent Parked(string handler, long position) => new()
    {
        Handler = handler,
        Position = position,
        EventId = EventId.New(),
        EventType = EventTypes.PageViewed,
        Attempts = 8,
        Error = "InvalidOperationException: boom",
        ParkedAt = Instant.FromUtc(2026, 12, 1, 9, 0),
    };
}
