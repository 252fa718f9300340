namespace Funnel.Events;

/// <summary>A stored event whose type (or shape version) this process does not know, kept as its raw JSON.</summary>
/// <remarks>
/// <see cref="FunnelEventSerializer"/> returns it for a <c>"type"</c> that no registered event declares, or for a
/// <c>"v"</c> newer than the registered one, so that an older process can read a log written by a newer one and
/// skip what it does not understand. It keeps the envelope (<see cref="Type"/>, <see cref="Version"/>,
/// <see cref="FunnelEvent.Id"/>, <see cref="FunnelEvent.OccurredAt"/>) and the whole <see cref="Json"/>;
/// serializing it writes that JSON back unchanged. No funnel step or engine reacts to it.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record UnknownEvent : FunnelEvent
{
    /// <summary>Gets the stored type name, such as <c>quiz_completed</c>.</summary>
    public required string Type { get; init; }

    /// <summary>Gets the stored shape version.</summary>
    /// <value>Defaults to 1.</value>
    public int Version { get; init; } = 1;

    /// <summary>Gets the event's whole JSON, as stored.</summary>
    public required string Json { get; init; }

    /// <inheritdoc/>
    /// <value>The stored <see cref="Type"/> name.</value>
    public override string EventType => Type;
}
