using Funnel.Events;
using Funnel.Pipeline;

namespace Funnel.Tests.Pipeline;

public sealed class InMemoryFunnelEventLogTests
{
    [Fact]
    public async Task AppendAsync_SameIdTwice_AppendsOnce()
    {
        var log = new InMemoryFunnelEventLog();
        PageViewed view = PipelineTestKit.View(1);

        (await log.AppendAsync([view, view])).ShouldBe(1);
        (await log.AppendAsync([view with { Page = "/other" }])).ShouldBe(0);

        IReadOnlyList<LoggedEvent> read = await log.ReadAsync(0, 10);
        read.Count.ShouldBe(1);
        read[0].ShouldBe(new LoggedEvent(1, view));
    }

    [Fact]
    public async Task ReadAsync_AfterPosition_ReturnsLaterEventsInOrderUpToMax()
    {
        var log = new InMemoryFunnelEventLog();
        FunnelEvent[] events = [.. Enumerable.Range(1, 10).Select(PipelineTestKit.View)];
        await log.AppendAsync(events);

        IReadOnlyList<LoggedEvent> read = await log.ReadAsync(3, 4);

        read.Select(e => e.Position).ShouldBe([4L, 5, 6, 7]);
        read.Select(e => e.Event).ShouldBe(events[3..7]);
        (await log.ReadAsync(10, 5)).ShouldBeEmpty();
        (await log.ReadAsync(99, 5)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ReadLeadAsync_SomeLeadsEvents_ReturnsOnlyThatLeadsInOrder()
    {
        var log = new InMemoryFunnelEventLog();
        FunnelEvent[] events = [.. Enumerable.Range(1, 9).Select(PipelineTestKit.View)];
        await log.AppendAsync(events);
        LeadId lead = ((LeadEvent)events[0]).LeadId;

        IReadOnlyList<LoggedEvent> read = await log.ReadLeadAsync(lead, 10);

        read.Select(e => e.Event).ShouldBe(events.Where(e => ((LeadEvent)e).LeadId == lead));
        read.Select(e => e.Position).ShouldBeInOrder();
        (await log.ReadLeadAsync(lead, 2)).Count.ShouldBe(2);
    }

    [Fact]
    public async Task ReadAsync_BadArguments_Throw()
    {
        var log = new InMemoryFunnelEventLog();
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => log.ReadAsync(-1, 1));
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => log.ReadAsync(0, 0));
        await Should.ThrowAsync<ArgumentNullException>(() => log.AppendAsync([null!]));
    }

    [Fact]
    public async Task AppendAsync_ManyWritersAtOnce_KeepsEveryEventOnceWithDensePositions()
    {
        var log = new InMemoryFunnelEventLog();
        FunnelEvent[] events = [.. Enumerable.Range(1, 400).Select(PipelineTestKit.View)];

        // Every writer appends every event: each must be logged exactly once.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => log.AppendAsync(events))));

        IReadOnlyList<LoggedEvent> read = await log.ReadAsync(0, 1000);
        read.Count.ShouldBe(400);
        read.Select(e => e.Event.Id).Distinct().Count().ShouldBe(400);
        read.Select(e => e.Position).ShouldBe(Enumerable.Range(1, 400).Select(i => (long)i));
    }
}
