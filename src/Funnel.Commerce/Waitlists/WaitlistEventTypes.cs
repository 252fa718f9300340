namespace Funnel.Waitlists;

/// <summary>The <see cref="Events.FunnelEvent.EventType"/> names of the waitlist events (Funnel.Commerce).</summary>
/// <remarks>These names are part of the stored format: they never change once released.</remarks>
/// <threadsafety>This type holds constants only.</threadsafety>
public static class WaitlistEventTypes
{
    /// <summary>A lead joined a sold-out offer's waitlist (<see cref="Funnel.Waitlists.WaitlistJoined"/>).</summary>
    public const string WaitlistJoined = "waitlist_joined";

    /// <summary>A lead left a waitlist (<see cref="Funnel.Waitlists.WaitlistLeft"/>).</summary>
    public const string WaitlistLeft = "waitlist_left";

    /// <summary>A released seat was held for the next lead in line (<see cref="Funnel.Waitlists.WaitlistSeatOffered"/>).</summary>
    public const string WaitlistSeatOffered = "waitlist_seat_offered";

    /// <summary>A lead's held seat lapsed unbought (<see cref="Funnel.Waitlists.WaitlistHoldExpired"/>).</summary>
    public const string WaitlistHoldExpired = "waitlist_hold_expired";

    /// <summary>A lead bought the seat held for them (<see cref="Funnel.Waitlists.WaitlistSeatClaimed"/>).</summary>
    public const string WaitlistSeatClaimed = "waitlist_seat_claimed";
}
