using System.Collections.Immutable;
using Funnel.Offers;
using NodaTime;

namespace Funnel.Waitlists;

/// <summary>The waitlist of one limited offer: the leads waiting in order, and the seats held for the leads at its front.</summary>
/// <remarks>
/// A lead is either waiting or holding, never both. A hold is a <see cref="SeatReservation"/> in the
/// <see cref="ISeatInventory"/> under the holder's lead, so the holder's checkout gets it back; it lapses at
/// <see cref="WaitlistHold.ExpiresAt"/> unless bought.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Waitlist
{
    /// <summary>Gets the limited offer.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets the leads waiting for a seat, first come first served.</summary>
    public ImmutableArray<WaitlistEntry> Waiting { get; init; } = [];

    /// <summary>Gets the seats held for leads who reached the front of the line.</summary>
    public ImmutableArray<WaitlistHold> Holds { get; init; } = [];

    /// <summary>Gets the stored version; the store bumps it on every replace.</summary>
    public long Version { get; init; }

    /// <summary>Gets when the earliest hold lapses, or <see langword="null"/> when no seat is held.</summary>
    public Instant? NextExpiry => Holds.IsDefaultOrEmpty ? null : Holds.Min(h => h.ExpiresAt);

    /// <summary>Returns the 1-based place of a waiting lead.</summary>
    /// <param name="lead">The lead.</param>
    /// <returns>The place in line, or <see langword="null"/> when the lead is not waiting.</returns>
    public int? PositionOf(LeadId lead)
    {
        for (int i = 0; i < Waiting.Length; i++)
        {
            if (Waiting[i].Lead == lead)
            {
                return i + 1;
            }
        }

        return null;
    }

    /// <summary>Returns the latest hold of a lead, if a seat was held for the lead.</summary>
    /// <param name="lead">The lead.</param>
    /// <returns>The hold offered last (it may have lapsed: compare <see cref="WaitlistHold.ExpiresAt"/> with now), or <see langword="null"/>.</returns>
    /// <remarks>A lead whose hold lapsed can join again before the lapsed hold is cleared, and so hold a newer seat.</remarks>
    public WaitlistHold? HoldOf(LeadId lead)
    {
        for (int i = Holds.Length - 1; i >= 0; i--)
        {
            if (Holds[i].Lead == lead)
            {
                return Holds[i];
            }
        }

        return null;
    }

    /// <summary>Returns the index in <see cref="Holds"/> of the hold of a seat reservation, or -1.</summary>
    internal int IndexOfHold(Guid reservation)
    {
        for (int i = 0; i < Holds.Length; i++)
        {
            if (Holds[i].Reservation == reservation)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>A lead waiting on a waitlist.</summary>
/// <param name="Lead">The lead.</param>
/// <param name="JoinedAt">When the lead joined.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct WaitlistEntry(LeadId Lead, Instant JoinedAt);

/// <summary>A released seat held for a lead from a waitlist until it is bought or lapses.</summary>
/// <param name="Lead">The lead the seat is held for.</param>
/// <param name="Reservation">The id of the <see cref="SeatReservation"/> in the <see cref="ISeatInventory"/>.</param>
/// <param name="OfferedAt">When the seat was offered.</param>
/// <param name="ExpiresAt">When the hold lapses unless the lead buys.</param>
/// <param name="Left"><see langword="true"/> when the lead left the waitlist while holding: the seat passes on when the hold lapses.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct WaitlistHold(LeadId Lead, Guid Reservation, Instant OfferedAt, Instant ExpiresAt, bool Left = false);
