using NodaTime;

namespace Funnel.Advocacy;

/// <summary>Where a referral stands.</summary>
public enum ReferralStatus
{
    /// <summary>The friend arrived through the code and has not bought yet.</summary>
    Referred = 0,

    /// <summary>The friend's first order waits for the refund window before the referrer is rewarded.</summary>
    Purchased = 1,

    /// <summary>The referrer was rewarded.</summary>
    Rewarded = 2,

    /// <summary>The friend's order was refunded inside the window; no reward.</summary>
    Cancelled = 3,

    /// <summary>The friend paid with the referrer's payment fingerprint; no reward.</summary>
    Rejected = 4,

    /// <summary>The friend's order was charged back inside the window; the reward waits for the dispute: won, it is pending again; lost, it is cancelled.</summary>
    Disputed = 5,
}

/// <summary>The stored state of one referred friend: who referred them and what their first order earned.</summary>
/// <remarks>The document of <see cref="IReferralStore"/>, keyed by <see cref="Friend"/>: a friend is referred once and earns one reward.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Referral
{
    /// <summary>Gets the referred friend's lead id.</summary>
    public required LeadId Friend { get; init; }

    /// <summary>Gets the referrer's lead id.</summary>
    public required LeadId Referrer { get; init; }

    /// <summary>Gets the referral code the friend used.</summary>
    public required string Code { get; init; }

    /// <summary>Gets the status.</summary>
    public required ReferralStatus Status { get; init; }

    /// <summary>Gets the friend's first order, once they bought.</summary>
    public OrderId? Order { get; init; }

    /// <summary>Gets when the refund window of that order ends.</summary>
    public Instant? ClearsAt { get; init; }

    /// <summary>Gets the stored version: 0 when new, incremented by the store on each replacement.</summary>
    public long Version { get; init; }
}
