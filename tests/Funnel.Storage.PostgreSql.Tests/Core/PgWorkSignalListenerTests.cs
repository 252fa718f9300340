using System.Diagnostics;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Segments;
using Funnel.Storage.PostgreSql.Core;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Tests.Core;

/// <summary>
/// The LISTEN/NOTIFY wake-up: an append by one instance wakes the pipeline listener of a host built with
/// <c>AddFunnel().AddFunnelPostgreSql(…)</c> long before its poll, also after its connection was killed or the server
/// restarted.
/// </summary>
public sealed class PgWorkSignalListenerTests : IAsyncLifetime
{
    /// <summary>The poll interval the waits stand for: far longer than a wake-up may take.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(30);

    /// <summary>How long a wake-up may take on a loaded 2-core machine.</summary>
    private static readonly TimeSpan WakeUp = TimeSpan.FromSeconds(1.5);

    private readonly PgTestDatabases _databases = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _databases.DropAllAsync();

    [Fact]
    public async Task AppendAsync_OnAnotherInstance_WakesTheHostsEventsListenerWithinASecond()
    {
        PgDatabase other = await _databases.CreateAsync();
        using IHost host = await StartHostAsync(other.Options.ConnectionString);
        using FunnelWorkListener events = await ConnectedListenerAsync(host, FunnelWorkSignal.Events);

        TimeSpan waited = await AppendAndWaitAsync(other, events);

        waited.ShouldBeLessThan(WakeUp);
    }

    [Fact]
    public async Task Notify_OnTheSendsChannel_WakesTheSendsListenerButNotTheEventsListener()
    {
        PgDatabase other = await _databases.CreateAsync();
        using IHost host = await StartHostAsync(other.Options.ConnectionString);
        using FunnelWorkListener events = await ConnectedListenerAsync(host, FunnelWorkSignal.Events);
        using FunnelWorkListener sends = await ConnectedListenerAsync(host, FunnelWorkSignal.Sends);

        await other.ExecuteAsync("SELECT pg_notify('funnel_sends', '')");

        (await sends.WaitAsync(Poll)).ShouldBeTrue();
        (await events.WaitAsync(TimeSpan.FromMilliseconds(300))).ShouldBeFalse();
    }

    [Fact]
    public async Task Listener_ConnectionTerminated_ReconnectsNotifiesAndWakesAgain()
    {
        PgDatabase other = await _databases.CreateAsync();
        using IHost host = await StartHostAsync(other.Options.ConnectionString);
        using FunnelWorkListener events = await ConnectedListenerAsync(host, FunnelWorkSignal.Events);
        PgWorkSignalListener listener = Listener(host);
        int pid = listener.ProcessId;

        (await other.ScalarAsync($"SELECT pg_terminate_backend({pid})")).ShouldBe(true);

        // The reconnect wakes every loop once, since notifications may have been lost meanwhile.
        (await events.WaitAsync(Poll)).ShouldBeTrue();
        await WaitUntilAsync(() => listener.Connects >= 2);
        listener.ProcessId.ShouldNotBe(pid);
        _ = await events.WaitAsync(TimeSpan.Zero);
        (await AppendAndWaitAsync(other, events)).ShouldBeLessThan(WakeUp);
    }

    [Fact]
    public async Task Listener_ServerRestarted_ReconnectsAndWakesAgain()
    {
        // A private cluster (the shared one serves other tests), durable: with synchronous_commit off an immediate
        // stop loses the last commits, here the migration.
        await using PostgresServer server = await PostgresServer.StartAsync(durable: true);
        string connectionString = await server.CreateDatabaseAsync();
        await using PgDatabase other = new(new FunnelPostgreSqlOptions { ConnectionString = connectionString });
        await other.EnsureReadyAsync(CancellationToken.None);
        using IHost host = await StartHostAsync(connectionString);
        using FunnelWorkListener events = await ConnectedListenerAsync(host, FunnelWorkSignal.Events);
        PgWorkSignalListener listener = Listener(host);

        await server.StopImmediateAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        await server.StartAgainAsync();

        await WaitUntilAsync(() => listener.Connects >= 2);
        _ = await events.WaitAsync(TimeSpan.Zero);
        other.DataSource.Clear();
        (await AppendAndWaitAsync(other, events)).ShouldBeLessThan(WakeUp);
    }

    [Fact]
    public async Task StopAsync_Host_EndsTheListenConnection()
    {
        PgDatabase other = await _databases.CreateAsync();
        IHost host = await StartHostAsync(other.Options.ConnectionString);
        using (FunnelWorkListener events = await ConnectedListenerAsync(host, FunnelWorkSignal.Events))
        {
            int pid = Listener(host).ProcessId;

            await host.StopAsync();
            host.Dispose();

            await WaitUntilAsync(async () => (long)(await other.ScalarAsync($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}"))! == 0);
        }
    }

    [Fact]
    public void AddFunnelPostgreSql_AfterAddFunnel_ResolvesEveryCoreStoreToPostgreSql()
    {
        ServiceCollection services = new();
        services.AddFunnel().AddFunnelPostgreSql("Host=127.0.0.1;Database=shop;Username=shop");
        using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<ILeadStore>().ShouldBeOfType<PgLeadStore>();
        provider.GetRequiredService<ISegmentMembershipStore>().ShouldBeOfType<PgSegmentMembershipStore>();
        provider.GetRequiredService<IFunnelEventLog>().ShouldBeOfType<PgFunnelEventLog>();
        provider.GetRequiredService<IEventSubscriptionStore>().ShouldBeOfType<PgEventSubscriptionStore>();
        provider.GetRequiredService<IParkedEventStore>().ShouldBeOfType<PgParkedEventStore>();
        provider.GetServices<IHostedService>().OfType<PgWorkSignalListener>().Count().ShouldBe(1);
    }

    [Fact]
    public void AddFunnelPostgreSql_BeforeAddFunnelAndTwice_StillResolvesOneOfEach()
    {
        ServiceCollection services = new();
        services.AddFunnelPostgreSql("Host=127.0.0.1;Database=shop;Username=shop");
        services.AddFunnel().AddFunnelPostgreSql("Host=127.0.0.1;Database=shop;Username=shop");
        using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetServices<ILeadStore>().ShouldHaveSingleItem().ShouldBeOfType<PgLeadStore>();
        provider.GetServices<IFunnelEventLog>().ShouldHaveSingleItem().ShouldBeOfType<PgFunnelEventLog>();
        provider.GetServices<IHostedService>().OfType<PgWorkSignalListener>().Count().ShouldBe(1);
    }

    private static async Task<IHost> StartHostAsync(string connectionString)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddFunnel().AddFunnelPostgreSql(connectionString);
        IHost host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static PgWorkSignalListener Listener(IHost host) =>
        host.Services.GetServices<IHostedService>().OfType<PgWorkSignalListener>().Single();

    /// <summary>Listens to a topic once the host's LISTEN connection is up, with its start-up notification consumed.</summary>
    private static async Task<FunnelWorkListener> ConnectedListenerAsync(IHost host, string topic)
    {
        FunnelWorkListener listener = host.Services.GetRequiredService<FunnelWorkSignal>().Listen(topic);
        await WaitUntilAsync(() => Listener(host).Connects >= 1);
        _ = await listener.WaitAsync(TimeSpan.Zero);
        return listener;
    }

    /// <summary>Appends an event through another instance and returns how long the listener took to wake.</summary>
    private static async Task<TimeSpan> AppendAndWaitAsync(PgDatabase other, FunnelWorkListener listener)
    {
        PgFunnelEventLog log = new(other, CoreTestDatabases.Serializer);
        Stopwatch clock = Stopwatch.StartNew();
        (await log.AppendAsync([new PageViewed { LeadId = LeadId.New(), OccurredAt = Instant.FromUtc(2026, 12, 1, 8, 0), Page = "/" }])).ShouldBe(1);
        (await listener.WaitAsync(Poll)).ShouldBeTrue();
        return clock.Elapsed;
    }

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (!await condition())
        {
            waited.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the condition did not hold in time");
            await Task.Delay(20);
        }
    }
}
