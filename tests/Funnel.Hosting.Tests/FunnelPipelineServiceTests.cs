using System.Collections.Concurrent;
using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace Funnel.Hosting.Tests;

public sealed class FunnelPipelineServiceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task HostedPipeline_EventAppended_ReachesHandlerWithoutAnyGlue()
    {
        using IHost host = Build(Environments.Development);
        await host.StartAsync();
        var view = new PageViewed { LeadId = LeadId.New(), OccurredAt = Instant.FromUtc(2026, 12, 1, 9, 0), Page = "/" };

        await host.Services.GetRequiredService<IFunnelEventLog>().AppendAsync([view]);

        Recorder recorder = host.Services.GetRequiredService<Recorder>();
        (await recorder.Seen.Reader.ReadAsync().AsTask().WaitAsync(Patience)).ShouldBe(view);
        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_HandlerDependencyMissing_FailsNamingTheHandler()
    {
        // Production: the container does not validate on build there (Development does, and fails at Build already).
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Production });
        builder.Services.AddFunnelHosting().AddFunnelHandler<Needy>("needy");
        using IHost host = builder.Build();

        InvalidOperationException error = await Should.ThrowAsync<InvalidOperationException>(() => host.StartAsync());

        error.Message.ShouldContain("'needy'");
    }

    [Fact]
    public async Task StopAsync_AfterDisposeOrTwice_DoesNotThrow()
    {
        IHost host = Build(Environments.Development);
        await host.StartAsync();
        IHostedService[] services = [.. host.Services.GetServices<IHostedService>()];
        await host.StopAsync();
        host.Dispose();

        foreach (IHostedService service in services)
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task HealthCheck_ProductionOnInMemoryStores_IsDegradedAndWarns()
    {
        var logs = new ConcurrentQueue<string>();
        using IHost host = Build(Environments.Production, logs);
        await host.StartAsync();

        HealthReport report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        HealthReportEntry entry = report.Entries["funnel-pipeline"];
        entry.Status.ShouldBe(HealthStatus.Degraded);
        entry.Description!.ShouldContain("IFunnelEventLog");
        logs.ShouldContain(l => l.Contains("in-memory stores", StringComparison.Ordinal));
        await host.StopAsync();
    }

    [Fact]
    public async Task HealthCheck_DevelopmentAndNothingFailing_IsHealthy()
    {
        using IHost host = Build(Environments.Development);
        await host.StartAsync();

        HealthReport report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        report.Entries["funnel-pipeline"].Status.ShouldBe(HealthStatus.Healthy);
        await host.StopAsync();
    }

    private static IHost Build(string environment, ConcurrentQueue<string>? logs = null)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment });
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(new QueueLoggerProvider(logs));
        }

        builder.Services.AddFunnelHosting().AddFunnelHandler<Recorder>("recorder");
        builder.Services.Configure<FunnelPipelineOptions>(o => o.PollInterval = Duration.FromMilliseconds(10));
        return builder.Build();
    }

    private sealed class Recorder : IFunnelHandler
    {
        public System.Threading.Channels.Channel<FunnelEvent> Seen { get; } = System.Threading.Channels.Channel.CreateUnbounded<FunnelEvent>();

        public Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default) =>
            Seen.Writer.WriteAsync(funnelEvent, cancellationToken).AsTask();
    }

    private sealed class Needy(IFormatProvider missing) : IFunnelHandler
    {
        public Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default) => Task.FromResult(missing);
    }

    private sealed class QueueLoggerProvider(ConcurrentQueue<string> logs) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new QueueLogger(logs);

        public void Dispose()
        {
        }

        private sealed class QueueLogger(ConcurrentQueue<string> logs) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                logs.Enqueue(formatter(state, exception));
        }
    }
}
