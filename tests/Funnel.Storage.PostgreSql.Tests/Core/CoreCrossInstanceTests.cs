using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Storage.PostgreSql.Core;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Tests.Core;

/// <summary>Several app instances (each its own <see cref="PgDatabase"/> and data source) on one database at once.</summary>
public sealed class CoreCrossInstanceTests : IAsyncLifetime
{
    private const int Contenders = 16;
    private static readonly Instant Start = Instant.FromUtc(2026, 12, 1, 8, 0);

    private readonly PgTestDatabases _databases = new();
    private readonly List<PgDatabase> _instances = [];
    private PgDatabase _first = null!;

    public async Task InitializeAsync() => _first = await _databases.CreateAsync();

    public async Task DisposeAsync()
    {
        foreach (PgDatabase instance in _instances)
        {
            await instance.DisposeAsync();
        }

        await _databases.DropAllAsync();
    }

    [Fact]
    public async Task TryAddAsync_OneEmailFromTwoInstances_ExactlyOneWins()
    {
        PgLeadStore[] stores = [.. Instances(2).Select(i => new PgLeadStore(i))];

        bool[] added = await RaceAsync(i => stores[i % 2].TryAddAsync(Lead("ann@example.com")));

        added.Count(a => a).ShouldBe(1);
        (await _first.ScalarAsync("SELECT count(*) FROM funnel.leads")).ShouldBe(1L);
    }

    [Fact]
    public async Task UpsertAsync_OneEmailFromTwoInstances_GivesOneLeadWithEveryChange()
    {
        PgLeadStore[] stores = [.. Instances(2).Select(i => new PgLeadStore(i))];
        EmailAddress email = EmailAddress.Parse("ann@example.com");

        // The read-change-write loop of LeadCapture's upsert: insert-if-absent, else replace-if-version, retried.
        await RaceAsync(async i =>
        {
            PgLeadStore store = stores[i % 2];
            string tag = "t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            while (true)
            {
                LeadProfile? current = await store.FindByEmailAsync(email);
                bool stored = current is null
                    ? await store.TryAddAsync(Lead("ann@example.com") with { Tags = ImmutableSortedSet.Create(StringComparer.Ordinal, tag) })
                    : await store.TryUpdateAsync(current, current with { Tags = current.Tags.Add(tag) });
                if (stored)
                {
                    return true;
                }
            }
        });

        (await _first.ScalarAsync("SELECT count(*) FROM funnel.leads")).ShouldBe(1L);
        LeadProfile lead = (await new PgLeadStore(_first).FindByEmailAsync(email)).ShouldNotBeNull();
        lead.Tags.Count.ShouldBe(Contenders);
        lead.Version.ShouldBe(Contenders - 1);
    }

    [Fact]
    public async Task TryAddAsync_IdOfAnotherInstancesLead_Throws()
    {
        PgDatabase[] instances = Instances(2);
        LeadProfile ann = Lead("ann@example.com");
        (await new PgLeadStore(instances[0]).TryAddAsync(ann)).ShouldBeTrue();

        InvalidOperationException error = await Should.ThrowAsync<InvalidOperationException>(
            () => new PgLeadStore(instances[1]).TryAddAsync(Lead("bob@example.com") with { Id = ann.Id }));

        error.Message.ShouldContain("ann@example.com");
    }

    [Fact]
    public async Task TryUpdateAsync_SubscriptionFromOneVersionOnTwoInstances_ExactlyOneWins()
    {
        PgEventSubscriptionStore[] stores = [.. Instances(2).Select(i => new PgEventSubscriptionStore(i))];
        EventSubscription partition = new() { Name = "scoring#0/4" };
        (await stores[0].TryAddAsync(partition)).ShouldBeTrue();

        bool[] won = await RaceAsync(i => stores[i % 2].TryUpdateAsync(
            partition, partition with { LeaseOwner = "instance-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), LeaseUntil = Start }));

        won.Count(w => w).ShouldBe(1);
        EventSubscription stored = (await stores[1].FindAsync(partition.Name)).ShouldNotBeNull();
        stored.LeaseOwner.ShouldBe("instance-" + Array.IndexOf(won, true).ToString(System.Globalization.CultureInfo.InvariantCulture));
        stored.Version.ShouldBe(1);
    }

    [Fact]
    public async Task AppendAsync_SameEventsFromFourInstances_KeepsEachOnceWithoutGaps()
    {
        PgFunnelEventLog[] logs = [.. Instances(4).Select(i => new PgFunnelEventLog(i, CoreTestDatabases.Serializer))];
        FunnelEvent[] events = [.. Enumerable.Range(1, 100).Select(View)];

        int[] appended = await RaceAsync(i => logs[i % 4].AppendAsync(events));

        appended.Sum().ShouldBe(100);
        IReadOnlyList<LoggedEvent> read = await logs[0].ReadAsync(0, 1000);
        read.Select(e => e.Event.Id).ShouldBe(events.Select(e => e.Id));
        read.Select(e => e.Position).ShouldBe(Enumerable.Range(1, 100).Select(p => (long)p));
    }

    [Fact]
    public async Task AppendAsync_ManyCallersOnOneInstance_EachCountsItsOwnAndKeepsItsEventsTogetherInOrder()
    {
        PgFunnelEventLog log = new(Instances(1)[0], CoreTestDatabases.Serializer);
        FunnelEvent shared = View(0);
        FunnelEvent[][] batches = [.. Enumerable.Range(0, Contenders).Select(i => (FunnelEvent[])[.. Enumerable.Range(1, 5).Select(k => View(i * 10 + k)), shared])];

        int[] appended = await RaceAsync(i => log.AppendAsync(batches[i]));

        appended.Sum().ShouldBe(Contenders * 5 + 1);
        appended.ShouldAllBe(n => n == 5 || n == 6);
        Dictionary<EventId, long> positions = (await log.ReadAsync(0, 1000)).ToDictionary(e => e.Event.Id, e => e.Position);
        foreach (FunnelEvent[] batch in batches)
        {
            long[] own = [.. batch[..5].Select(e => positions[e.Id])];
            own.ShouldBe(Enumerable.Range(0, 5).Select(k => own[0] + k), "a caller's events are appended together, in its order");
        }
    }

    [Fact]
    public async Task ReadAsync_FollowerWhileFourInstancesAppend_NeverSeesAPositionAppearBelowOneItHasSeen()
    {
        PgFunnelEventLog[] writers = [.. Instances(4).Select(i => new PgFunnelEventLog(i, CoreTestDatabases.Serializer))];
        PgFunnelEventLog follower = new(Instances(1)[0], CoreTestDatabases.Serializer);
        const int AppendsPerWriter = 150;
        using CancellationTokenSource done = new();

        // The pipeline's read: forward from the last position seen. An event committed later below that position
        // would never be read, so it would be missing from what the follower collected.
        List<long> followed = [];
        Task following = Task.Run(async () =>
        {
            long after = 0;
            while (true)
            {
                bool finished = done.IsCancellationRequested;
                IReadOnlyList<LoggedEvent> page = await follower.ReadAsync(after, 500);
                foreach (LoggedEvent logged in page)
                {
                    logged.Position.ShouldBeGreaterThan(after);
                    followed.Add(logged.Position);
                    after = logged.Position;
                }

                if (finished && page.Count == 0)
                {
                    return;
                }
            }
        });
        Task[] writing = [.. writers.Select((log, w) => Task.Run(async () =>
        {
            for (int n = 0; n < AppendsPerWriter; n++)
            {
                int size = 1 + ((n + w) % 4);
                await log.AppendAsync([.. Enumerable.Range(0, size).Select(k => View(n * 10 + k))]);
            }
        }))];
        await Task.WhenAll(writing);
        await done.CancelAsync();
        await following;

        IReadOnlyList<LoggedEvent> all = await follower.ReadAsync(0, 100_000);
        followed.ShouldBe(all.Select(e => e.Position));
        followed.Count.ShouldBe(writers.Select((_, w) => Enumerable.Range(0, AppendsPerWriter).Sum(n => 1 + ((n + w) % 4))).Sum());
    }

    private PgDatabase[] Instances(int count)
    {
        PgDatabase[] instances = [.. Enumerable.Range(0, count).Select(_ => new PgDatabase(_first.Options))];
        _instances.AddRange(instances);
        return instances;
    }

    private static async Task<T[]> RaceAsync<T>(Func<int, Task<T>> attempt)
    {
        TaskCompletionSource start = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<T>[] tasks = [.. Enumerable.Range(0, Contenders).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await attempt(i);
        }))];
        start.SetResult();
        return await Task.WhenAll(tasks);
    }

    private static LeadProfile Lead(string email) => new() { Id = LeadId.New(), Email = EmailAddress.Parse(email), CreatedAt = Start };

    private static PageViewed View(int n) => new()
    {
        LeadId = new LeadId(new Guid(n % 5 + 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
        OccurredAt = Start + Duration.FromSeconds(n),
        Page = "/p/" + n.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
