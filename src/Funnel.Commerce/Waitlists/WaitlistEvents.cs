using Funnel.Events;
using NodaTime;

namespace Funnel.Waitlists;

/// <summary>A lead joined the waitlist of a sold-out limited offer.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(WaitlistEventTypes.WaitlistJoined)]
public sealed record WaitlistJoined : LeadEvent
{
    /// <summary>Gets the offer.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets the lead's 1-based place in line when joining.</summary>
    public required int Position { get; init; }

    /// <inheritdoc/>
    public override string EventType => WaitlistEventTypes.WaitlistJoined;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>A lead left a waitlist, waiting or holding a seat.</summary>
/// <remarks>A seat the lead held stays held until its hold lapses, then passes to the next lead in line.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(WaitlistEventTypes.WaitlistLeft)]
public sealed record WaitlistLeft : LeadEvent
{
    /// <summary>Gets the offer.</summary>
    public required OfferId Offer { get; init; }

    /// <inheritdoc/>
    public override string EventType => WaitlistEventTypes.WaitlistLeft;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>A released seat is held for the lead at the front of a waitlist until <see cref="ExpiresAt"/>.</summary>
/// <remarks>Only this lead can buy the seat while it is held; a sequence can email the lead on this event.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(WaitlistEventTypes.WaitlistSeatOffered)]
public sealed record WaitlistSeatOffered : LeadEvent
{
    /// <summary>Gets the offer.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets when the hold lapses unless the lead buys.</summary>
    public required Instant ExpiresAt { get; init; }

    /// <inheritdoc/>
    public override string EventType => WaitlistEventTypes.WaitlistSeatOffered;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>A seat held for a lead from a waitlist lapsed unbought; it passes to the next lead in line.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(WaitlistEventTypes.WaitlistHoldExpired)]
public sealed record WaitlistHoldExpired : LeadEvent
{
    /// <summary>Gets the offer.</summary>
    public required OfferId Offer { get; init; }

    /// <inheritdoc/>
    public override string EventType => WaitlistEventTypes.WaitlistHoldExpired;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>A lead bought the seat a waitlist held for them: the order's checkout confirmed the held seat.</summary>
/// <remarks>The order follows as <see cref="OrderPlaced"/> (or <c>add_on_accepted</c>) of the same lead and offer.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(WaitlistEventTypes.WaitlistSeatClaimed)]
public sealed record WaitlistSeatClaimed : LeadEvent
{
    /// <summary>Gets the offer.</summary>
    public required OfferId Offer { get; init; }

    /// <inheritdoc/>
    public override string EventType => WaitlistEventTypes.WaitlistSeatClaimed;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}
