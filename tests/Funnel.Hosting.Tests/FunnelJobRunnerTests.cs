using Funnel.Pipeline;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Funnel.Hosting.Tests;

public sealed class FunnelJobRunnerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>A fake time provider that reports each timer the runner creates, so a test advances time only once the runner waits.</summary>
    private sealed class ObservedTime : TimeProvider
    {
        public FakeTimeProvider Fake { get; } = new();

        public SemaphoreSlim TimerCreated { get; } = new(0);

        public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            ITimer timer = Fake.CreateTimer(callback, state, dueTime, period);
            TimerCreated.Release();
            return timer;
        }
    }

    private sealed class CountingJob : IFunnelJob
    {
        public int Runs;

        public string Name => "counting";

        public TimeSpan Interval => TimeSpan.FromMinutes(1);

        public Task RunAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Runs);
            return Task.CompletedTask;
        }
    }

    private sealed class BlockingJob : IFunnelJob
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Finished { get; private set; }

        public bool SawCancellation { get; private set; }

        public string Name => "blocking";

        public TimeSpan Interval => TimeSpan.FromMinutes(1);

        public async Task RunAsync(CancellationToken cancellationToken = default)
        {
            Started.TrySetResult();
            try
            {
                await Release.Task.WaitAsync(cancellationToken);
                Finished = true;
            }
            catch (OperationCanceledException)
            {
                SawCancellation = true;
                throw;
            }
        }
    }

    private sealed class FailingJob : IFunnelJob
    {
        public string Name => "failing";

        public TimeSpan Interval => TimeSpan.FromMinutes(1);

        public Task RunAsync(CancellationToken cancellationToken = default) => throw new InvalidOperationException("mail server down");
    }

    private sealed class IntervalJob(TimeSpan interval) : IFunnelJob
    {
        public int Runs;

        public string Name => "badly-timed";

        public TimeSpan Interval => interval;

        public Task RunAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Runs);
            return Task.CompletedTask;
        }
    }

    private sealed class WakeableJob : IFunnelJob
    {
        public int Runs;

        public string Name => "wakeable";

        public TimeSpan Interval => TimeSpan.FromMinutes(1);

        public string? WakeTopic => FunnelWorkSignal.Sends;

        public Task RunAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Runs);
            return Task.CompletedTask;
        }
    }

    private static FunnelJobRunner Runner(TimeProvider time, FunnelJobStatus status, params IFunnelJob[] jobs) =>
        new(jobs, status, new FunnelWorkSignal(time), time, NullLogger<FunnelJobRunner>.Instance);

    [Fact]
    public async Task Notify_OfTheJobsWakeTopic_RunsItBeforeItsInterval()
    {
        var time = new ObservedTime();
        var signal = new FunnelWorkSignal(time);
        var job = new WakeableJob();
        using var runner = new FunnelJobRunner([job], new FunnelJobStatus(), signal, time, NullLogger<FunnelJobRunner>.Instance);
        await runner.StartAsync(CancellationToken.None);
        (await time.TimerCreated.WaitAsync(Wait)).ShouldBeTrue();
        job.Runs.ShouldBe(1);

        signal.Notify(FunnelWorkSignal.Sends);
        (await time.TimerCreated.WaitAsync(Wait)).ShouldBeTrue();

        job.Runs.ShouldBe(2);
        await runner.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Start_RunsEachJobAtOnceAndAgainAfterItsInterval()
    {
        var time = new ObservedTime();
        var job = new CountingJob();
        using FunnelJobRunner runner = Runner(time, new FunnelJobStatus(), job);

        await runner.StartAsync(CancellationToken.None);
        (await time.TimerCreated.WaitAsync(Wait)).ShouldBeTrue();
        job.Runs.ShouldBe(1);
        time.Fake.Advance(TimeSpan.FromSeconds(59));
        job.Runs.ShouldBe(1);
        time.Fake.Advance(TimeSpan.FromSeconds(1));
        (await time.TimerCreated.WaitAsync(Wait)).ShouldBeTrue();
        job.Runs.ShouldBe(2);

        await runner.StopAsync(CancellationToken.None);
        time.Fake.Advance(TimeSpan.FromMinutes(5));
        job.Runs.ShouldBe(2);
    }

    [Fact]
    public async Task Stop_DuringARun_WaitsForTheRunToFinishWithoutCancellingIt()
    {
        var job = new BlockingJob();
        using FunnelJobRunner runner = Runner(new ObservedTime(), new FunnelJobStatus(), job);
        await runner.StartAsync(CancellationToken.None);
        await job.Started.Task.WaitAsync(Wait);

        Task stopping = runner.StopAsync(CancellationToken.None);
        stopping.IsCompleted.ShouldBeFalse();
        job.Release.SetResult();
        await stopping.WaitAsync(Wait);

        job.Finished.ShouldBeTrue();
        job.SawCancellation.ShouldBeFalse();
    }

    [Fact]
    public async Task Stop_WhenTheShutdownTimeoutPasses_CancelsTheRun()
    {
        var job = new BlockingJob();
        using FunnelJobRunner runner = Runner(new ObservedTime(), new FunnelJobStatus(), job);
        await runner.StartAsync(CancellationToken.None);
        await job.Started.Task.WaitAsync(Wait);

        await runner.StopAsync(new CancellationToken(canceled: true)).WaitAsync(Wait);

        job.SawCancellation.ShouldBeTrue();
        job.Finished.ShouldBeFalse();
    }

    [Fact]
    public async Task FailingJob_KeepsRunningAndMakesTheHealthCheckUnhealthy()
    {
        var time = new ObservedTime();
        var status = new FunnelJobStatus();
        var counting = new CountingJob();
        using FunnelJobRunner runner = Runner(time, status, new FailingJob(), counting);
        await runner.StartAsync(CancellationToken.None);
        (await time.TimerCreated.WaitAsync(Wait)).ShouldBeTrue();
        (await time.TimerCreated.WaitAsync(Wait)).ShouldBeTrue();

        var check = new FunnelJobsHealthCheck(status);
        var registration = new HealthCheckRegistration("funnel", check, HealthStatus.Unhealthy, null);
        HealthCheckResult result = await check.CheckHealthAsync(new HealthCheckContext { Registration = registration });

        result.Status.ShouldBe(HealthStatus.Unhealthy);
        result.Description!.ShouldContain("failing");
        result.Data["job:failing"].ShouldBe("InvalidOperationException: mail server down");
        result.Data["job:counting"].ShouldBe("ok");
        counting.Runs.ShouldBe(1);
        await runner.StopAsync(CancellationToken.None);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(-5000)]
    public async Task Start_JobIntervalNotPositive_FailsNamingTheJobAndRunsNothing(int milliseconds)
    {
        var job = new IntervalJob(TimeSpan.FromMilliseconds(milliseconds));
        using FunnelJobRunner runner = Runner(new ObservedTime(), new FunnelJobStatus(), job);

        var error = await Should.ThrowAsync<InvalidOperationException>(() => runner.StartAsync(CancellationToken.None));

        error.Message.ShouldContain("badly-timed");
        error.Message.ShouldContain("Interval");
        await runner.StopAsync(CancellationToken.None);
        job.Runs.ShouldBe(0);
    }

    [Fact]
    public async Task Stop_CalledTwiceAndAfterDispose_DoesNotThrow()
    {
        var runner = Runner(new ObservedTime(), new FunnelJobStatus(), new CountingJob());
        await runner.StartAsync(CancellationToken.None);

        await runner.StopAsync(CancellationToken.None);
        await runner.StopAsync(CancellationToken.None);
        runner.Dispose();
        await Should.NotThrowAsync(() => runner.StopAsync(CancellationToken.None));
    }

    [Fact]
    public async Task HealthCheck_NoFailedJobs_IsHealthy()
    {
        var status = new FunnelJobStatus();
        status.Succeeded("dispatcher");
        var check = new FunnelJobsHealthCheck(status);

        HealthCheckResult result = await check.CheckHealthAsync(new HealthCheckContext
        {
            Registration = new HealthCheckRegistration("funnel", check, HealthStatus.Unhealthy, null),
        });

        result.Status.ShouldBe(HealthStatus.Healthy);
    }
}
