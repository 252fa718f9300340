using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Pipeline;

/// <summary>What one pass of the <see cref="FunnelPipeline"/> did.</summary>
/// <param name="Delivered">The deliveries that succeeded (an event to one handler counts once).</param>
/// <param name="Failures">The deliveries that failed, parked or to be retried.</param>
/// <param name="CaughtUp">Whether every handler has reached the end of the log (none has due work or a retry pending).</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record PipelineDelivery(int Delivered, ImmutableArray<PipelineFailure> Failures, bool CaughtUp);

/// <summary>A failed delivery of one event to one handler.</summary>
/// <param name="Handler">The handler name.</param>
/// <param name="Position">The event's position in the log.</param>
/// <param name="EventId">The event's id.</param>
/// <param name="Attempt">The number of failed deliveries of this event to this handler so far.</param>
/// <param name="Error">What the handler threw.</param>
/// <param name="Parked">Whether this failure parked the event.</param>
/// <param name="RetryAt">When the delivery is tried again; <see langword="null"/> when parked.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record PipelineFailure(string Handler, long Position, EventId EventId, int Attempt, Exception Error, bool Parked, Instant? RetryAt);

/// <summary>Where one handler stands in the event log.</summary>
/// <param name="Handler">The handler name.</param>
/// <param name="Position">The position of the last event it is done with.</param>
/// <param name="Pending">How many events wait for it, counted up to <see cref="FunnelPipeline.StatusCountLimit"/>.</param>
/// <param name="Attempts">Failed deliveries in a row of the event it is on; 0 when none failed.</param>
/// <param name="RetryAt">When that event is tried again; <see langword="null"/> when none failed.</param>
/// <param name="LastError">The last failure; <see langword="null"/> when none failed.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record PipelineHandlerStatus(string Handler, long Position, int Pending, int Attempts, Instant? RetryAt, string? LastError);
