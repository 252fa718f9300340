using Funnel.Events;

namespace Funnel.Definitions;

/// <summary>Recognises events by their <see cref="FunnelEvent.EventType"/> and, optionally, their <see cref="FunnelEvent.Subject"/>.</summary>
/// <remarks>
/// Matches are plain data, so funnel definitions can be stored and edited. A <see langword="null"/>
/// <see cref="Subject"/> matches any subject; otherwise the subject must be equal (ordinal, case-sensitive), or,
/// when <see cref="Subject"/> ends with <c>*</c>, start with the text before the star (<c>/blog/*</c>).
/// </remarks>
/// <param name="EventType">The event type to match, such as <c>opted_in</c>.</param>
/// <param name="Subject">The subject to match, a prefix ending in <c>*</c>, or <see langword="null"/> for any.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record EventMatch(string EventType, string? Subject = null)
{
    /// <summary>Creates a match for an event type and optional subject.</summary>
    /// <param name="eventType">The event type, such as <see cref="EventTypes.OptedIn"/>.</param>
    /// <param name="subject">The subject, a prefix ending in <c>*</c>, or <see langword="null"/> for any.</param>
    /// <returns>The match.</returns>
    public static EventMatch For(string eventType, string? subject = null) => new(eventType, subject);

    /// <summary>Tells whether an event matches.</summary>
    /// <param name="funnelEvent">The event.</param>
    /// <returns><see langword="true"/> when type and subject match.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="funnelEvent"/> is <see langword="null"/>.</exception>
    public bool Matches(FunnelEvent funnelEvent)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        if (!string.Equals(funnelEvent.EventType, EventType, StringComparison.Ordinal))
        {
            return false;
        }

        if (Subject is null)
        {
            return true;
        }

        string? actual = funnelEvent.Subject;
        if (actual is null)
        {
            return false;
        }

        return Subject.EndsWith('*')
            ? actual.AsSpan().StartsWith(Subject.AsSpan(0, Subject.Length - 1), StringComparison.Ordinal)
            : string.Equals(actual, Subject, StringComparison.Ordinal);
    }

    /// <summary>Returns the match as <c>type</c> or <c>type:subject</c>.</summary>
    /// <returns>The text form.</returns>
    public override string ToString() => Subject is null ? EventType : EventType + ":" + Subject;
}
