using System.Collections.Concurrent;
using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Pipeline;

/// <summary>Records what it is given; fails the events a test chooses, as often as it chooses.</summary>
internal class RecordingHandler : IFunnelHandler
{
    private readonly ConcurrentDictionary<EventId, int> _failuresLeft = new();

    public ConcurrentQueue<FunnelEvent> Handled { get; } = new();

    public int Calls;

    public void FailOn(EventId id, int times) => _failuresLeft[id] = times;

    public virtual Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Calls);
        if (_failuresLeft.TryGetValue(funnelEvent.Id, out int left) && left > 0)
        {
            _failuresLeft[funnelEvent.Id] = left - 1;
            throw new InvalidOperationException($"Handler failed on {funnelEvent.Id}.");
        }

        Handled.Enqueue(funnelEvent);
        return Task.CompletedTask;
    }
}

internal sealed class FirstHandler(CrashAfter? crash = null) : RecordingHandler
{
    public override async Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        if (crash is not null && Handled.Count >= crash.Events)
        {
            await crash.Crash.CancelAsync();
            cancellationToken.ThrowIfCancellationRequested();
        }

        await base.HandleAsync(funnelEvent, cancellationToken);
    }
}

internal sealed class SecondHandler : RecordingHandler;

/// <summary>Builds a pipeline over shared stores, as one app instance would.</summary>
internal sealed class PipelineTestKit
{
    public FakeClock Clock { get; } = new(Instant.FromUtc(2026, 12, 1, 9, 0));

    public InMemoryFunnelEventLog Log { get; } = new();

    public InMemoryEventSubscriptionStore Subscriptions { get; } = new();

    public InMemoryParkedEventStore Parked { get; } = new();

    /// <summary>Starts an "instance": its own service provider and handlers over the shared stores.</summary>
    public ServiceProvider Start(Action<FunnelPipelineOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection()
            .AddFunnel()
            .AddSingleton<IClock>(Clock)
            .AddSingleton<IFunnelEventLog>(Log)
            .AddSingleton<IEventSubscriptionStore>(Subscriptions)
            .AddSingleton<IParkedEventStore>(Parked)
            .AddFunnelHandler<FirstHandler>("first")
            .AddFunnelHandler<SecondHandler>("second")
            .Configure<FunnelPipelineOptions>(o =>
            {
                o.BatchSize = 4;
                o.MaxAttempts = 3;
                configure?.Invoke(o);
            });
        services?.Invoke(collection);

        // These tests are about the pipeline, not the handlers AddFunnel ships: keep only the test handlers.
        foreach (ServiceDescriptor shipped in collection
            .Where(d => d.ImplementationInstance is FunnelHandlerRegistration { Name: "lifecycle" or "scoring" or "segments" or "tags" }).ToList())
        {
            collection.Remove(shipped);
        }

        return collection.BuildServiceProvider();
    }

    public static PageViewed View(int n) => new()
    {
        LeadId = new LeadId(new Guid(n % 3 + 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
        OccurredAt = Instant.FromUtc(2026, 12, 1, 8, 0) + Duration.FromSeconds(n),
        Page = "/p/" + n.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public async Task<FunnelEvent[]> AppendViewsAsync(int count)
    {
        FunnelEvent[] events = [.. Enumerable.Range(1, count).Select(View)];
        await Log.AppendAsync(events);
        return events;
    }
}
