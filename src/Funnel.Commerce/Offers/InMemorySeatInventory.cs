using System.Collections.Concurrent;
using NodaTime;

namespace Funnel.Offers;

/// <summary>The in-memory <see cref="ISeatInventory"/>, with holds that expire by the <see cref="IClock"/>.</summary>
/// <threadsafety>All members are thread-safe: each offer's seats are counted under a lock, so capacity is never exceeded.</threadsafety>
public sealed class InMemorySeatInventory : ISeatInventory
{
    private readonly IClock clock;
    private readonly ConcurrentDictionary<OfferId, Seats> offers = new();

    /// <summary>Initializes an empty inventory.</summary>
    /// <param name="clock">The source of "now", for expiring holds.</param>
    /// <exception cref="ArgumentNullException"><paramref name="clock"/> is <see langword="null"/>.</exception>
    public InMemorySeatInventory(IClock clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        this.clock = clock;
    }

    /// <inheritdoc/>
    public Task<SeatReservation?> TryReserveAsync(OfferId offer, LeadId lead, SeatLimit limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limit);
        Seats seats = offers.GetOrAdd(offer, static _ => new Seats());
        Instant now = clock.GetCurrentInstant();
        lock (seats)
        {
            seats.Expire(now);
            foreach (SeatReservation held in seats.Held.Values)
            {
                if (held.Lead == lead)
                {
                    return Task.FromResult<SeatReservation?>(held);
                }
            }

            if (seats.Held.Count + seats.Sold.Count >= limit.Capacity)
            {
                return Task.FromResult<SeatReservation?>(null);
            }

            var reservation = new SeatReservation(Guid.CreateVersion7(), offer, lead, now + limit.HoldFor);
            seats.Held.Add(reservation.Id, reservation);
            return Task.FromResult<SeatReservation?>(reservation);
        }
    }

    /// <inheritdoc/>
    public Task<bool> ConfirmAsync(SeatReservation reservation, CancellationToken cancellationToken = default)
    {
        if (!offers.TryGetValue(reservation.Offer, out Seats? seats))
        {
            return Task.FromResult(false);
        }

        Instant now = clock.GetCurrentInstant();
        lock (seats)
        {
            seats.Expire(now);
            if (!seats.Held.Remove(reservation.Id))
            {
                return Task.FromResult(false);
            }

            seats.Sold.Add(reservation.Id);
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task ReleaseAsync(SeatReservation reservation, CancellationToken cancellationToken = default)
    {
        if (offers.TryGetValue(reservation.Offer, out Seats? seats))
        {
            lock (seats)
            {
                seats.Held.Remove(reservation.Id);
                seats.Sold.Remove(reservation.Id);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Returns how many seats of the offer are sold or held now (for tests and dashboards).</summary>
    /// <param name="offer">The offer.</param>
    /// <returns>The sold and unexpired held seats.</returns>
    public (int Sold, int Held) Count(OfferId offer)
    {
        if (!offers.TryGetValue(offer, out Seats? seats))
        {
            return (0, 0);
        }

        lock (seats)
        {
            seats.Expire(clock.GetCurrentInstant());
            return (seats.Sold.Count, seats.Held.Count);
        }
    }

    private sealed class Seats
    {
        public Dictionary<Guid, SeatReservation> Held { get; } = [];

        public HashSet<Guid> Sold { get; } = [];

        public void Expire(Instant now)
        {
            List<Guid>? expired = null;
            foreach (SeatReservation held in Held.Values)
            {
                if (held.ExpiresAt <= now)
                {
                    (expired ??= []).Add(held.Id);
                }
            }

            if (expired is not null)
            {
                foreach (Guid id in expired)
                {
                    Held.Remove(id);
                }
            }
        }
    }
}
