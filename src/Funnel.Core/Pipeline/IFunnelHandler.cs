using Funnel.Events;

namespace Funnel.Pipeline;

/// <summary>Reacts to funnel events: the one seam through which every engine hears what happened.</summary>
/// <remarks>
/// <para>
/// Register a handler with <c>services.AddFunnelHandler&lt;THandler&gt;("name")</c>. The
/// <see cref="FunnelPipeline"/> delivers every event in the <see cref="IFunnelEventLog"/> to every handler, in log
/// order, at least once: after a crash, events since the handler's last stored position are delivered again. A
/// handler must therefore be idempotent by <see cref="FunnelEvent.Id"/>. Events it causes should take ids derived
/// from the cause (<see cref="EventId.Derive"/>), so that a redelivery appends nothing twice.
/// </para>
/// <para>
/// A handler that throws is retried with exponential backoff; after <see cref="FunnelPipelineOptions.MaxAttempts"/>
/// failures the event is parked (listed and retryable) and the handler goes on with the next event. Other handlers
/// are never held up by it. Events a handler does not care about should return at once.
/// </para>
/// </remarks>
/// <threadsafety>The pipeline calls a handler for one event at a time; one instance is shared for the app's lifetime.</threadsafety>
public interface IFunnelHandler
{
    /// <summary>Handles one event.</summary>
    /// <param name="funnelEvent">The event.</param>
    /// <param name="cancellationToken">Cancels the operation; the event is delivered again later.</param>
    /// <returns>A task that completes when the event is handled.</returns>
    Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default);
}
