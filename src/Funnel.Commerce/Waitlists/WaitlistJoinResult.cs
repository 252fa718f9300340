using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Pipeline;

namespace Funnel.Waitlists;

/// <summary>Why a lead could not join a waitlist; an expected outcome, not an error.</summary>
public enum WaitlistRejection
{
    /// <summary>The offer has a free seat: the lead can buy it instead.</summary>
    NotSoldOut = 0,

    /// <summary>The waitlist already holds <see cref="WaitlistOptions.MaxWaiting"/> leads.</summary>
    Full = 1,
}

/// <summary>The outcome of <see cref="WaitlistService.JoinAsync"/>: the lead's place in line, a seat already held for them, or why they could not join.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record WaitlistJoinResult
{
    /// <summary>Gets the lead's 1-based place in line.</summary>
    /// <value><see langword="null"/> when the join was rejected or a seat is already held for the lead.</value>
    public int? Position { get; init; }

    /// <summary>Gets the seat already held for the lead, who can buy it now.</summary>
    /// <value><see langword="null"/> unless the lead joined earlier and reached the front of the line.</value>
    public WaitlistHold? Hold { get; init; }

    /// <summary>Gets why the lead could not join, or <see langword="null"/> when they are on the waitlist.</summary>
    public WaitlistRejection? Rejection { get; init; }

    /// <summary>Gets a sentence naming the offer and why the join was rejected, to log or show.</summary>
    /// <value><see langword="null"/> when the join was not rejected.</value>
    public string? Reason { get; init; }

    /// <summary>Gets the events this call recorded: a <see cref="WaitlistJoined"/> for a first join, none for a repeat.</summary>
    /// <remarks>They are already in the <see cref="IFunnelEventLog"/>; do not append them again.</remarks>
    public ImmutableArray<FunnelEvent> Events { get; init; } = [];
}
