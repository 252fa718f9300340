using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Events;

/// <summary>Something that happened in a funnel, at an instant, with its marketing attribution.</summary>
/// <remarks>
/// <para>
/// Events are immutable facts: engines emit them, stores keep them, and reports read them. Every event has an
/// <see cref="Id"/> (so a replayed event is counted once), the <see cref="OccurredAt"/> instant, and the
/// <see cref="Attribution"/> (channel, campaign and UTM parameters) of the touch that produced it.
/// </para>
/// <para>
/// <see cref="EventType"/> and <see cref="Subject"/> are how funnel steps recognise events without knowing
/// their CLR types (see <c>EventMatch</c>): a step "opted in to the quick-start guide" matches events of type
/// <c>opted_in</c> whose subject is <c>quick-start-guide</c>. To add your own events, derive a sealed record
/// from <see cref="LeadEvent"/> (or from this type for events about no one lead) and return a stable,
/// snake_case <see cref="EventType"/>.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public abstract record FunnelEvent
{
    /// <summary>Gets the unique id of this event.</summary>
    /// <value>Defaults to a new time-ordered id; set it when re-reading stored events.</value>
    public EventId Id { get; init; } = EventId.New();

    /// <summary>Gets the instant at which the event happened.</summary>
    public required Instant OccurredAt { get; init; }

    /// <summary>Gets the channel, campaign and UTM parameters of the touch that produced this event.</summary>
    /// <value>Defaults to <see cref="Events.Attribution.None"/>.</value>
    public Attribution Attribution { get; init; } = Attribution.None;

    /// <summary>Gets free-form properties, for breakdowns and filters by anything the model does not name.</summary>
    /// <value>Defaults to an empty dictionary.</value>
    public ImmutableDictionary<string, string> Properties { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>Gets the stable, snake_case name of this kind of event, such as <c>opted_in</c>.</summary>
    /// <value>One of the <see cref="EventTypes"/> constants for the built-in events.</value>
    public abstract string EventType { get; }

    /// <summary>Gets what the event is about, such as the page path, lead magnet, email or offer.</summary>
    /// <value><see langword="null"/> when the event has no subject.</value>
    public virtual string? Subject => null;
}

/// <summary>An event about one lead (a visitor, lead or customer).</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public abstract record LeadEvent : FunnelEvent
{
    /// <summary>Gets the lead the event is about.</summary>
    public required LeadId LeadId { get; init; }
}

/// <summary>Where a touch came from: the marketing channel, campaign and the raw UTM parameters.</summary>
/// <remarks>
/// <see cref="Channel"/> is the value reports break down by (for example <c>facebook</c>, <c>google</c>,
/// <c>email</c>, <c>organic</c>). <see cref="FromUtm"/> derives it from <c>utm_source</c>.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Attribution
{
    /// <summary>Gets an attribution with no channel, campaign or parameters.</summary>
    /// <value>A shared empty instance.</value>
    public static Attribution None { get; } = new();

    /// <summary>Gets the marketing channel, such as <c>facebook</c>.</summary>
    public string? Channel { get; init; }

    /// <summary>Gets the campaign, such as <c>quick-start-guide-launch</c> (<c>utm_campaign</c>).</summary>
    public string? Campaign { get; init; }

    /// <summary>Gets the traffic source (<c>utm_source</c>).</summary>
    public string? Source { get; init; }

    /// <summary>Gets the medium, such as <c>cpc</c> or <c>email</c> (<c>utm_medium</c>).</summary>
    public string? Medium { get; init; }

    /// <summary>Gets the ad or link variant (<c>utm_content</c>).</summary>
    public string? Content { get; init; }

    /// <summary>Gets the paid search term (<c>utm_term</c>).</summary>
    public string? Term { get; init; }

    /// <summary>Gets the referring URL, when known.</summary>
    public string? Referrer { get; init; }

    /// <summary>Creates an attribution from UTM parameters; the channel is the lower-cased source.</summary>
    /// <param name="source">The <c>utm_source</c> value.</param>
    /// <param name="medium">The <c>utm_medium</c> value.</param>
    /// <param name="campaign">The <c>utm_campaign</c> value.</param>
    /// <param name="content">The <c>utm_content</c> value.</param>
    /// <param name="term">The <c>utm_term</c> value.</param>
    /// <returns>The attribution; blank values become <see langword="null"/>.</returns>
    public static Attribution FromUtm(string? source, string? medium = null, string? campaign = null, string? content = null, string? term = null)
    {
        string? src = Clean(source);
        return new Attribution
        {
            Channel = src?.ToLowerInvariant(),
            Source = src,
            Medium = Clean(medium),
            Campaign = Clean(campaign),
            Content = Clean(content),
            Term = Clean(term),
        };
    }

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
