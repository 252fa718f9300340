using Funnel.Events;

namespace Funnel.Pipeline;

/// <summary>An event as the <see cref="IFunnelEventLog"/> holds it: the event and its position in the log.</summary>
/// <param name="Position">The event's position: 1 for the first event appended, increasing by append order.</param>
/// <param name="Event">The event.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record LoggedEvent(long Position, FunnelEvent Event);
