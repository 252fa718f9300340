using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Funnel.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace Funnel.Benchmarks;

/// <summary>
/// The baseline for durable dispatch: Quartz.NET 4.7.3 with its ADO job store on PostgreSQL (clustered, the store's
/// own PostgreSQL dialect), one persisted job per send, each job calling a no-op sender. One operation starts the
/// scheduler on <see cref="Jobs"/> jobs already due and ends when the last one has run; the per-iteration
/// <c>jobs/s</c> is printed, and <see cref="Jobs"/> divided by the mean is the throughput.
/// </summary>
/// <remarks>
/// The cluster is private and durable (<c>PostgresServer.StartAsync(durable: true)</c>: fsync and synchronous commit
/// on), as for the Funnel dispatch benchmark. Quartz creates its own tables (<c>ProvisionSchema()</c>, from the
/// scripts it ships); its thread pool and batch size are its defaults (batch = pool size on a persistent store).
/// Scheduling the jobs (one transaction for the batch, in the iteration setup, with the scheduler in standby) is not
/// measured, as seeding the due sends is not in the Funnel benchmark.
/// </remarks>
[Config(typeof(Configuration))]
public class QuartzBaselineBenchmarks
{
    private static TaskCompletionSource _allDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private static int _remaining;
    private PostgresServer _server = null!;
    private ServiceProvider _provider = null!;
    private IScheduler _scheduler = null!;
    private Stopwatch _clock = new();

    /// <summary>Gets or sets the number of due jobs: 2,000, or <c>FUNNEL_BENCH_JOBS</c> when set.</summary>
    [ParamsSource(nameof(JobCounts))]
    public int Jobs { get; set; }

    public static IEnumerable<int> JobCounts =>
        [int.Parse(Environment.GetEnvironmentVariable("FUNNEL_BENCH_JOBS") ?? "2000", CultureInfo.InvariantCulture)];

    [GlobalSetup]
    public void Setup() => Task.Run(async () =>
    {
        _server = await PostgresServer.StartAsync(durable: true).ConfigureAwait(false);
        string connectionString = await _server.CreateDatabaseAsync().ConfigureAwait(false);
        ServiceCollection services = new();
        services.AddLogging();
        services.AddSingleton<NoOpSender>();
        services.AddQuartz(q => q.UsePersistentStore(store =>
        {
            store.UsePostgres(connectionString);
            store.UseClustering();
            store.ProvisionSchema();
        }));
        _provider = services.BuildServiceProvider();
        _scheduler = await _provider.GetRequiredService<ISchedulerFactory>().GetScheduler().ConfigureAwait(false);
    }).GetAwaiter().GetResult();

    [IterationSetup]
    public void Schedule() => Task.Run(async () =>
    {
        await _scheduler.Standby().ConfigureAwait(false);
        _allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _remaining = Jobs;
        string run = Guid.NewGuid().ToString("N")[..8];
        var batch = new Dictionary<IJobDetail, IReadOnlyCollection<ITrigger>>();
        for (int i = 0; i < Jobs; i++)
        {
            string name = run + "-" + i.ToString(CultureInfo.InvariantCulture);
            IJobDetail job = JobBuilder.Create<SendJob>().WithIdentity(name, "sends").UsingJobData("send", name).Build();
            batch[job] = [TriggerBuilder.Create().WithIdentity(name, "sends").StartNow().Build()];
        }

        await _scheduler.ScheduleJobs(batch).ConfigureAwait(false);
    }).GetAwaiter().GetResult();

    /// <summary>Starts the scheduler on the due jobs and waits until every one has run.</summary>
    [Benchmark]
    public void RunDueJobs() => Task.Run(async () =>
    {
        _clock = Stopwatch.StartNew();
        await _scheduler.Start().ConfigureAwait(false);
        await _allDone.Task.WaitAsync(TimeSpan.FromMinutes(10)).ConfigureAwait(false);
        _clock.Stop();
    }).GetAwaiter().GetResult();

    [IterationCleanup]
    public void Report() =>
        Console.WriteLine($"// {Jobs:N0} Quartz jobs in {_clock.Elapsed.TotalSeconds:F2} s: {Jobs / _clock.Elapsed.TotalSeconds:F0} jobs/s");

    [GlobalCleanup]
    public void Cleanup() => Task.Run(async () =>
    {
        await _scheduler.Shutdown(waitForJobsToComplete: true).ConfigureAwait(false);
        await _provider.DisposeAsync().ConfigureAwait(false);
        await _server.DisposeAsync().ConfigureAwait(false);
    }).GetAwaiter().GetResult();

    /// <summary>A sender that does nothing, as in the Funnel dispatch benchmarks.</summary>
    private sealed class NoOpSender
    {
        public Task SendAsync(string send, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>One send as one Quartz job.</summary>
    private sealed class SendJob(NoOpSender sender) : IJob
    {
        public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        {
            await sender.SendAsync(context.MergedJobDataMap.GetString("send")!, cancellationToken).ConfigureAwait(false);
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                _allDone.TrySetResult();
            }
        }
    }

    private sealed class Configuration : ManualConfig
    {
        public Configuration() =>
            AddJob(Job.Default
                .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(30), logOutput: true))
                .WithStrategy(RunStrategy.Monitoring)
                .WithLaunchCount(1)
                .WithWarmupCount(1)
                .WithIterationCount(3));
    }
}
