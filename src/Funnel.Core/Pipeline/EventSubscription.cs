using NodaTime;

namespace Funnel.Pipeline;

/// <summary>How far one handler has got through the event log, and the retry state of the event it is stuck on.</summary>
/// <remarks>Stored by an <see cref="IEventSubscriptionStore"/> and changed only by compare-and-set on <see cref="Version"/>.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record EventSubscription
{
    /// <summary>Gets the name of the handler, as registered with <c>AddFunnelHandler</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the position of the last event the handler is done with (handled or parked).</summary>
    /// <value>0 before the first event.</value>
    public long Position { get; init; }

    /// <summary>Gets how many times delivery of the next event has failed in a row.</summary>
    /// <value>0 when the last delivery succeeded.</value>
    public int Attempts { get; init; }

    /// <summary>Gets when the failed event is due to be delivered again.</summary>
    /// <value><see langword="null"/> when no delivery is failing.</value>
    public Instant? RetryAt { get; init; }

    /// <summary>Gets the last delivery failure, as <c>ExceptionType: message</c>.</summary>
    /// <value><see langword="null"/> when no delivery is failing.</value>
    public string? LastError { get; init; }

    /// <summary>Gets the app instance that holds this subscription, when the log is split into partitions.</summary>
    /// <value><see langword="null"/> when no instance holds it.</value>
    /// <remarks>
    /// An instance takes a free or expired subscription by compare-and-set and renews <see cref="LeaseUntil"/> while it
    /// works; another instance may take it once the lease has passed, and the first one's next compare-and-set then fails.
    /// </remarks>
    public string? LeaseOwner { get; init; }

    /// <summary>Gets when the lease of <see cref="LeaseOwner"/> ends.</summary>
    /// <value><see langword="null"/> when no instance holds the subscription.</value>
    public Instant? LeaseUntil { get; init; }

    /// <summary>Gets the version, incremented by every stored change (for compare-and-set).</summary>
    /// <value>0 when new.</value>
    public long Version { get; init; }
}
