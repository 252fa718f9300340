using NodaTime;

namespace Funnel.CartRecovery;

/// <summary>Where a tracked checkout stands.</summary>
public enum CheckoutStatus
{
    /// <summary>Started, with no order yet; it is abandoned once <see cref="TrackedCheckout.DueAt"/> passes.</summary>
    Open = 0,

    /// <summary>An order for the offer was placed before the checkout was declared abandoned; nothing is emitted.</summary>
    Ordered = 1,

    /// <summary><see cref="Events.CheckoutAbandoned"/> was emitted for it.</summary>
    Abandoned = 2,
}

/// <summary>The latest checkout of one lead for one offer, as the <see cref="ICheckoutStore"/> keeps it.</summary>
/// <remarks>
/// One record per lead and offer: a new checkout for the same offer replaces the previous one (it restarts the clock),
/// so a lead who opens the checkout page three times in an hour is one checkout, not three.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record TrackedCheckout
{
    /// <summary>Gets the buyer.</summary>
    public required LeadId Lead { get; init; }

    /// <summary>Gets the offer of the checkout (the main offer of its cart).</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets the id of the <see cref="Events.CheckoutStarted"/> event that opened it.</summary>
    /// <remarks>The <see cref="Events.CheckoutAbandoned"/> event's id derives from it, so emitting twice appends once.</remarks>
    public required EventId Checkout { get; init; }

    /// <summary>Gets when the checkout started.</summary>
    public required Instant StartedAt { get; init; }

    /// <summary>Gets when the checkout counts as abandoned if no order came: <see cref="StartedAt"/> plus <see cref="CartRecoveryOptions.AbandonAfter"/>.</summary>
    public required Instant DueAt { get; init; }

    /// <summary>Gets where the checkout stands.</summary>
    /// <value>Defaults to <see cref="CheckoutStatus.Open"/>.</value>
    public CheckoutStatus Status { get; init; }

    /// <summary>Gets the instance that claimed the checkout to emit its abandonment, or <see langword="null"/>.</summary>
    public string? ClaimedBy { get; init; }

    /// <summary>Gets when the current claim ends, or <see langword="null"/> when it was never claimed.</summary>
    public Instant? ClaimedUntil { get; init; }

    /// <summary>Gets the compare-and-set version: 0 when added, one more on each update or claim.</summary>
    public long Version { get; init; }
}
