using NodaTime;

namespace Funnel.Pipeline;

/// <summary>An event a handler failed on too many times: set aside so the handler could go on, kept to be retried.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ParkedEvent
{
    /// <summary>Gets the name of the handler that failed.</summary>
    public required string Handler { get; init; }

    /// <summary>Gets the event's position in the log.</summary>
    public required long Position { get; init; }

    /// <summary>Gets the event's id.</summary>
    public required EventId EventId { get; init; }

    /// <summary>Gets the event's type name, such as <c>opted_in</c>.</summary>
    public required string EventType { get; init; }

    /// <summary>Gets how many deliveries failed.</summary>
    public required int Attempts { get; init; }

    /// <summary>Gets the last failure, as <c>ExceptionType: message</c>.</summary>
    public required string Error { get; init; }

    /// <summary>Gets when the event was parked.</summary>
    public required Instant ParkedAt { get; init; }

    /// <summary>Gets the version, incremented by every stored change (for compare-and-set).</summary>
    /// <value>0 when new.</value>
    public long Version { get; init; }
}
