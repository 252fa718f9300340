using Funnel.Events;

namespace Funnel.Leads;

/// <summary>A lead's consent was recorded when they submitted an opt-in form.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.ConsentRecorded)]
public sealed record ConsentRecorded : LeadEvent
{
    /// <summary>Gets the purpose, such as <c>marketing-email</c>.</summary>
    public required string Purpose { get; init; }

    /// <summary>Gets the status after recording: <see cref="ConsentStatus.Granted"/>, or <see cref="ConsentStatus.Pending"/> for a double opt-in.</summary>
    public required ConsentStatus Status { get; init; }

    /// <summary>Gets how consent is collected.</summary>
    public required ConsentMethod Method { get; init; }

    /// <summary>Gets where it was collected, such as the lead magnet key.</summary>
    public required string Source { get; init; }

    /// <summary>Gets the IP address the consent was given from, when known.</summary>
    /// <value><see langword="null"/> when unknown; erasure removes it.</value>
    public string? IpAddress { get; init; }

    /// <summary>Gets the user agent of the browser the consent was given from, when known.</summary>
    /// <value><see langword="null"/> when unknown; erasure removes it.</value>
    public string? UserAgent { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.ConsentRecorded;

    /// <inheritdoc/>
    /// <value>The <see cref="Purpose"/>.</value>
    public override string? Subject => Purpose;
}

/// <summary>A lead confirmed a double opt-in through the link in the confirmation email.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.OptInConfirmed)]
public sealed record OptInConfirmed : LeadEvent
{
    /// <summary>Gets the purpose confirmed, such as <c>marketing-email</c>.</summary>
    public required string Purpose { get; init; }

    /// <summary>Gets the IP address the confirmation link was clicked from, when known.</summary>
    /// <value><see langword="null"/> when unknown; erasure removes it.</value>
    public string? IpAddress { get; init; }

    /// <summary>Gets the user agent of the browser that clicked the confirmation link, when known.</summary>
    /// <value><see langword="null"/> when unknown; erasure removes it.</value>
    public string? UserAgent { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.OptInConfirmed;

    /// <inheritdoc/>
    /// <value>The <see cref="Purpose"/>.</value>
    public override string? Subject => Purpose;
}

/// <summary>A lead asked for a lead magnet with double opt-in: the confirmation email with its link is to be sent.</summary>
/// <remarks>
/// Append it where the opt-in is accepted (the ASP.NET Core opt-in endpoint does); Funnel.Sequences' built-in
/// <c>opt-in-confirmation</c> sequence sends the email through its outbox, so a mail server that is down delays it
/// and never loses it. Each request is its own event, so each mails a new link.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.ConfirmationRequested)]
public sealed record ConfirmationRequested : LeadEvent
{
    /// <summary>Gets the key of the lead magnet asked for, such as <c>quick-start-guide</c>.</summary>
    public required string Magnet { get; init; }

    /// <summary>Gets the absolute URL of the confirmation link, with its token.</summary>
    public required string ConfirmationUrl { get; init; }

    /// <summary>Gets the lead magnet's title, for the email, such as <c>Quick Start Guide to E-Book Creation</c>.</summary>
    /// <value>Defaults to <see langword="null"/>: the email names the <see cref="Magnet"/> key.</value>
    public string? MagnetTitle { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.ConfirmationRequested;

    /// <inheritdoc/>
    /// <value>The <see cref="Magnet"/> key.</value>
    public override string? Subject => Magnet;
}

/// <summary>A lead's opt-in is complete and the lead magnet's link is to be mailed to them.</summary>
/// <remarks>
/// Funnel.AspNetCore's endpoints record it for a magnet with an asset (<see cref="LeadMagnet.HasAsset"/>): on a single
/// opt-in at once, on a double opt-in when the lead confirms, never before. Funnel.Sequences' built-in
/// <c>lead-magnet-delivery</c> sequence mails the link through its outbox, so a mail server that is down delays it and
/// never loses it. Each event is one delivery. Record it yourself when you capture leads without the endpoints.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.MagnetDeliveryRequested)]
public sealed record LeadMagnetDeliveryRequested : LeadEvent
{
    /// <summary>Gets the key of the lead magnet to deliver, such as <c>quick-start-guide</c>.</summary>
    public required string Magnet { get; init; }

    /// <summary>Gets the absolute URL the lead gets the magnet from: a signed, expiring download link or the magnet's <see cref="LeadMagnet.AssetUrl"/>.</summary>
    public required string DownloadUrl { get; init; }

    /// <summary>Gets the lead magnet's title, for the email, such as <c>Quick Start Guide to E-Book Creation</c>.</summary>
    /// <value>Defaults to <see langword="null"/>: the email names the <see cref="Magnet"/> key.</value>
    public string? MagnetTitle { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.MagnetDeliveryRequested;

    /// <inheritdoc/>
    /// <value>The <see cref="Magnet"/> key.</value>
    public override string? Subject => Magnet;
}

/// <summary>A lead downloaded their lead magnet through the signed link of its delivery email.</summary>
/// <remarks>
/// Recorded by Funnel.AspNetCore's download endpoint, once per lead, magnet and tracking window however often the link
/// is followed, before it serves the file or redirects to the URL.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.MagnetDownloaded)]
public sealed record LeadMagnetDownloaded : LeadEvent
{
    /// <summary>Gets the key of the lead magnet downloaded, such as <c>quick-start-guide</c>.</summary>
    public required string Magnet { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.MagnetDownloaded;

    /// <inheritdoc/>
    /// <value>The <see cref="Magnet"/> key.</value>
    public override string? Subject => Magnet;
}

/// <summary>An anonymous visitor id was linked to a lead: the visitor's events count as the lead's.</summary>
/// <remarks>
/// <para>
/// A person browses anonymously under a visitor id (a first-party cookie) and may use several devices, each with its
/// own visitor id, before they opt in or log in. <see cref="LeadCapture.OptInAsync"/> records this event when an
/// address that already belongs to a lead is submitted with another visitor id, and
/// <see cref="LeadCapture.LinkAsync"/> records it at login. Counting reads it through <see cref="LeadAliases"/>: the
/// events of <see cref="VisitorId"/> count as the events of <see cref="LeadEvent.LeadId"/>, so the funnel counts one
/// person.
/// </para>
/// <para>
/// Its <see cref="FunnelEvent.Id"/> is derived from both ids, so the same link recorded twice is one event in the
/// <see cref="Pipeline.IFunnelEventLog"/>.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.IdentityLinked)]
public sealed record IdentityLinked : LeadEvent
{
    /// <summary>Gets the anonymous visitor id whose events now count as the lead's.</summary>
    public required LeadId VisitorId { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.IdentityLinked;

    /// <summary>Returns the id of the event that links a visitor id to a lead: the same for the same two ids.</summary>
    internal static EventId IdOf(LeadId visitorId, LeadId leadId) =>
        EventId.Derive(new EventId(visitorId.Value), $"{EventTypes.IdentityLinked}:{leadId}");
}

/// <summary>A lead's score changed after scoring (<see cref="LeadScorer"/>).</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.ScoreChanged)]
public sealed record ScoreChanged : LeadEvent
{
    /// <summary>Gets the score before.</summary>
    public required double From { get; init; }

    /// <summary>Gets the score after.</summary>
    public required double To { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.ScoreChanged;
}

/// <summary>A lead entered a segment (matched its rule at an evaluation after not matching at the previous one).</summary>
/// <remarks>Sequences use it as an enrolment trigger, such as "entered segment <c>downloaded-not-visited-sales</c>".</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.SegmentEntered)]
public sealed record SegmentEntered : LeadEvent
{
    /// <summary>Gets the key of the segment, such as <c>downloaded-not-visited-sales</c>.</summary>
    public required string Segment { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.SegmentEntered;

    /// <inheritdoc/>
    /// <value>The <see cref="Segment"/> key.</value>
    public override string? Subject => Segment;
}

/// <summary>A lead left a segment (matched its rule at the previous evaluation but not at this one).</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.SegmentLeft)]
public sealed record SegmentLeft : LeadEvent
{
    /// <summary>Gets the key of the segment.</summary>
    public required string Segment { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.SegmentLeft;

    /// <inheritdoc/>
    /// <value>The <see cref="Segment"/> key.</value>
    public override string? Subject => Segment;
}

/// <summary>A tag was added to a lead, such as by an automation's <c>AddTag</c> step.</summary>
/// <remarks>The <c>tags</c> handler that <c>AddFunnel</c> registers adds the tag to the lead's profile; append it yourself to tag a lead through the event log.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.LeadTagged)]
public sealed record LeadTagged : LeadEvent
{
    /// <summary>Gets the tag, such as <c>engaged</c>.</summary>
    public required string Tag { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.LeadTagged;

    /// <inheritdoc/>
    /// <value>The <see cref="Tag"/>.</value>
    public override string? Subject => Tag;
}

/// <summary>A tag was removed from a lead, such as by an automation's <c>RemoveTag</c> step.</summary>
/// <remarks>The <c>tags</c> handler that <c>AddFunnel</c> registers removes the tag from the lead's profile.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.LeadUntagged)]
public sealed record LeadUntagged : LeadEvent
{
    /// <summary>Gets the tag.</summary>
    public required string Tag { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.LeadUntagged;

    /// <inheritdoc/>
    /// <value>The <see cref="Tag"/>.</value>
    public override string? Subject => Tag;
}

/// <summary>Points were added to a lead's score (or taken from it, when negative), such as by an automation's <c>AddScore</c> step.</summary>
/// <remarks>
/// A score is computed from a lead's events (<see cref="LeadScorer"/>): the points of every <see cref="ScoreAdjusted"/>
/// are added to the rules' sum, outside the rules' caps and decaying with the model's half-life like every other event.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.ScoreAdjusted)]
public sealed record ScoreAdjusted : LeadEvent
{
    /// <summary>Gets the points added (negative to take points away).</summary>
    public required double Points { get; init; }

    /// <summary>Gets what adjusted the score, such as <c>guide-nurture/opened-guide-bonus</c>.</summary>
    public required string Reason { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.ScoreAdjusted;

    /// <inheritdoc/>
    /// <value>The <see cref="Reason"/>.</value>
    public override string? Subject => Reason;
}

/// <summary>A lead is to be moved forward to a lifecycle stage, such as by an automation's <c>SetStage</c> step.</summary>
/// <remarks>
/// <see cref="LeadLifecycle.Apply"/> moves a lead to <see cref="Stage"/> when it is further than the lead's stage; the
/// lifecycle never moves back, so a lead already further on stays where they are.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.LifecycleStageSet)]
public sealed record LifecycleStageSet : LeadEvent
{
    /// <summary>Gets the stage.</summary>
    public required LifecycleStage Stage { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.LifecycleStageSet;

    /// <inheritdoc/>
    /// <value>The stage's key, such as <c>sales_qualified</c>.</value>
    public override string? Subject => Stage.ToKey();
}
