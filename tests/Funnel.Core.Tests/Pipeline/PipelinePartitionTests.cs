using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Tests.Pipeline;

/// <summary>Several instances sharing one handler's work through leased partitions of the log.</summary>
public sealed class PipelinePartitionTests
{
    private static readonly Duration Lease = Duration.FromSeconds(30);

    [Fact]
    public async Task DeliverAsync_ThreeInstancesSixPartitions_EachTakesAFairShareAndEveryEventArrivesInOrderPerLead()
    {
        var kit = new PipelineTestKit();
        FunnelEvent[] events = await AppendAsync(kit, 300);
        var delivered = new DeliveryJournal();
        ServiceProvider[] instances = [.. Enumerable.Range(0, 3).Select(i => kit.Start(
            o => Partition(o, 6, $"i{i}"),
            s => s.AddSingleton(delivered).AddFunnelHandler<JournallingHandler>("journal")))];
        try
        {
            // Each instance starts (heartbeat) before any has taken everything: the first pass of each counts the others.
            for (int round = 0; round < 40; round++)
            {
                foreach (ServiceProvider instance in instances)
                {
                    await instance.GetRequiredService<FunnelPipeline>().DeliverAsync();
                }
            }

            IReadOnlyList<EventSubscription> stored = await kit.Subscriptions.ListAsync();
            Dictionary<string, int> owners = stored.Where(s => s.Name.StartsWith("first#", StringComparison.Ordinal))
                .GroupBy(s => s.LeaseOwner ?? "").ToDictionary(g => g.Key, g => g.Count());
            owners.Keys.ShouldBe(["i0", "i1", "i2"], ignoreOrder: true);
            owners.Values.ShouldAllBe(n => n == 2);

            List<FunnelEvent> handled = [.. instances.SelectMany(i => i.GetRequiredService<FirstHandler>().Handled)];
            handled.Select(e => e.Id).Distinct().Count().ShouldBe(events.Length);
            // Across all instances, partitions moving between them included: each lead's events once, in log order.
            foreach (IGrouping<LeadId, FunnelEvent> lead in delivered.Events.GroupBy(e => ((LeadEvent)e).LeadId))
            {
                lead.ShouldBe(events.Where(e => ((LeadEvent)e).LeadId == lead.Key));
            }

            delivered.Events.Count.ShouldBe(events.Length);

            (await instances[0].GetRequiredService<FunnelPipeline>().GetStatusAsync()).ShouldAllBe(s => s.Pending == 0 && s.Position > 0);
        }
        finally
        {
            foreach (ServiceProvider instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task DeliverAsync_AnInstanceDies_OthersTakeItsPartitionsOnlyAfterItsLease()
    {
        var kit = new PipelineTestKit();
        using ServiceProvider a = kit.Start(o => Partition(o, 4, "a"));
        using ServiceProvider b = kit.Start(o => Partition(o, 4, "b"));
        for (int round = 0; round < 6; round++)
        {
            await a.GetRequiredService<FunnelPipeline>().DeliverAsync();
            await b.GetRequiredService<FunnelPipeline>().DeliverAsync();
        }

        // "a" dies without giving anything back; new events of its partitions wait for its lease to end.
        FunnelEvent[] events = await AppendAsync(kit, 80);
        await b.GetRequiredService<FunnelPipeline>().DeliverAllAsync();
        int beforeLeaseEnds = b.GetRequiredService<FirstHandler>().Handled.Count;
        beforeLeaseEnds.ShouldBeInRange(1, events.Length - 1);

        kit.Clock.Advance(Lease);
        await b.GetRequiredService<FunnelPipeline>().DeliverAllAsync();

        b.GetRequiredService<FirstHandler>().Handled.Select(e => e.Id.Value).Order().ShouldBe(events.Select(e => e.Id.Value).Order());
        (await kit.Subscriptions.ListAsync()).Where(s => s.Name.StartsWith("first#", StringComparison.Ordinal))
            .ShouldAllBe(s => s.LeaseOwner == "b");
    }

    [Fact]
    public async Task ReleaseLeasesAsync_AnInstanceStops_AnotherTakesOverAtItsNextPass()
    {
        var kit = new PipelineTestKit();
        using ServiceProvider a = kit.Start(o => Partition(o, 4, "a"));
        using ServiceProvider b = kit.Start(o => Partition(o, 4, "b"));
        for (int round = 0; round < 4; round++)
        {
            await a.GetRequiredService<FunnelPipeline>().DeliverAsync();
            await b.GetRequiredService<FunnelPipeline>().DeliverAsync();
        }

        (await a.GetRequiredService<FunnelPipeline>().ReleaseLeasesAsync()).ShouldBe(5); // two handlers × 2 partitions + the heartbeat
        FunnelEvent[] events = await AppendAsync(kit, 40);
        await b.GetRequiredService<FunnelPipeline>().DeliverAllAsync();

        b.GetRequiredService<SecondHandler>().Handled.Select(e => e.Id.Value).Order().ShouldBe(events.Select(e => e.Id.Value).Order());
    }

    [Fact]
    public async Task DeliverAsync_PartitionsRaisedFromOneToFour_NewPartitionsStartWhereTheSingleOneWas()
    {
        var kit = new PipelineTestKit();
        FunnelEvent[] first = await AppendAsync(kit, 20);
        using (ServiceProvider single = kit.Start(o => o.InstanceId = "single"))
        {
            await single.GetRequiredService<FunnelPipeline>().DeliverAllAsync();
            await single.GetRequiredService<FunnelPipeline>().ReleaseLeasesAsync();
        }

        FunnelEvent[] later = await AppendAsync(kit, 20, from: 21);
        using ServiceProvider split = kit.Start(o => Partition(o, 4, "split"));
        await split.GetRequiredService<FunnelPipeline>().DeliverAllAsync();

        split.GetRequiredService<FirstHandler>().Handled.Select(e => e.Id.Value).Order().ShouldBe(later.Select(e => e.Id.Value).Order());
        first.ShouldNotBeEmpty();
    }

    [Fact]
    public void Options_LeaseShorterThanTwoPolls_FailsNamingTheLease()
    {
        using ServiceProvider app = new ServiceCollection().AddFunnel()
            .Configure<FunnelPipelineOptions>(o =>
            {
                o.PollInterval = Duration.FromSeconds(20);
                o.LeaseDuration = Duration.FromSeconds(30);
                o.Partitions = 0;
            })
            .BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(() => app.GetRequiredService<IOptions<FunnelPipelineOptions>>().Value);

        error.Message.ShouldContain("lease duration");
        error.Message.ShouldContain("Partitions");
    }

    private sealed class DeliveryJournal
    {
        public System.Collections.Concurrent.ConcurrentQueue<FunnelEvent> Events { get; } = new();
    }

    private sealed class JournallingHandler(DeliveryJournal journal) : IFunnelHandler
    {
        public Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
        {
            journal.Events.Enqueue(funnelEvent);
            return Task.CompletedTask;
        }
    }

    private static void Partition(FunnelPipelineOptions options, int partitions, string instance)
    {
        options.Partitions = partitions;
        options.InstanceId = instance;
        options.LeaseDuration = Lease;
    }

    private static async Task<FunnelEvent[]> AppendAsync(PipelineTestKit kit, int count, int from = 1)
    {
        // Twelve leads, so that every partition has some.
        FunnelEvent[] events = [.. Enumerable.Range(from, count).Select(n => PipelineTestKit.View(n) with
        {
            LeadId = new LeadId(new Guid(n % 12 + 1, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7)),
        })];
        await kit.Log.AppendAsync(events);
        return events;
    }
}
