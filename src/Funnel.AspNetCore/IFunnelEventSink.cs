using System.Collections.Immutable;
using Funnel.Events;

namespace Funnel.AspNetCore;

/// <summary>Where the endpoints put the funnel events they accept, for reports and analytics to read.</summary>
/// <remarks>Register your own (a database table, a queue) to replace the in-memory default.</remarks>
/// <threadsafety>Implementations must be safe to call from many requests at once.</threadsafety>
public interface IFunnelEventSink
{
    /// <summary>Appends events, in order.</summary>
    /// <param name="events">The events.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the events are stored.</returns>
    Task AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default);
}

/// <summary>Keeps funnel events in memory, for samples, tests and single-process apps.</summary>
/// <remarks>Events are lost when the process ends.</remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class InMemoryFunnelEventSink : IFunnelEventSink
{
    private readonly Lock gate = new();
    private readonly List<FunnelEvent> events = [];

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is <see langword="null"/>.</exception>
    public Task AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        lock (gate)
        {
            this.events.AddRange(events);
        }

        return Task.CompletedTask;
    }

    /// <summary>Returns the events appended so far, in order.</summary>
    /// <returns>A copy of the events.</returns>
    public ImmutableArray<FunnelEvent> Snapshot()
    {
        lock (gate)
        {
            return [.. events];
        }
    }
}
