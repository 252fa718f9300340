using System.Collections.Concurrent;
using Funnel.Events;
using NodaTime;

namespace Funnel.Offers;

/// <summary>Stores when each lead's evergreen deadlines started; replace the in-memory default with durable storage.</summary>
/// <remarks>
/// Implementations keep the earliest start ever offered for a deadline and lead: a later start never replaces it, so
/// a deadline can never be pushed back; an earlier one (an older event arriving late) does.
/// </remarks>
public interface IDeadlineStore
{
    /// <summary>Returns when the deadline started for the lead, starting it at <paramref name="startedAt"/> if it had not started or started later.</summary>
    /// <param name="deadlineKey">The deadline's key.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="startedAt">The start to record when there is none yet.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stored start: the earliest one ever offered for this deadline and lead.</returns>
    Task<Instant> GetOrStartAsync(string deadlineKey, LeadId lead, Instant startedAt, CancellationToken cancellationToken = default);

    /// <summary>Returns when the deadline started for the lead, or <see langword="null"/> when it has not started.</summary>
    /// <param name="deadlineKey">The deadline's key.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The start, or <see langword="null"/>.</returns>
    Task<Instant?> FindStartAsync(string deadlineKey, LeadId lead, CancellationToken cancellationToken = default);
}

/// <summary>The in-memory <see cref="IDeadlineStore"/>: starts are kept for the life of the process.</summary>
/// <threadsafety>All members are thread-safe; concurrent starts keep the earliest.</threadsafety>
public sealed class InMemoryDeadlineStore : IDeadlineStore
{
    private readonly ConcurrentDictionary<(string, LeadId), Instant> starts = new();

    /// <inheritdoc/>
    public Task<Instant> GetOrStartAsync(string deadlineKey, LeadId lead, Instant startedAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deadlineKey);
        return Task.FromResult(starts.AddOrUpdate((deadlineKey, lead), startedAt, (_, stored) => stored <= startedAt ? stored : startedAt));
    }

    /// <inheritdoc/>
    public Task<Instant?> FindStartAsync(string deadlineKey, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deadlineKey);
        return Task.FromResult(starts.TryGetValue((deadlineKey, lead), out Instant start) ? start : (Instant?)null);
    }
}

/// <summary>Where a deadline stands for one lead.</summary>
/// <param name="EndsAt">When the deadline passes for this lead, or <see langword="null"/> when an evergreen deadline has not started.</param>
/// <param name="IsOpen"><see langword="true"/> when the deadline has not passed at the instant asked about.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct DeadlineStatus(Instant? EndsAt, bool IsOpen)
{
    /// <summary>Returns the time left before the deadline.</summary>
    /// <param name="now">The current instant.</param>
    /// <returns>The time left, <see cref="Duration.Zero"/> once passed, or <see langword="null"/> when the deadline has not started.</returns>
    public Duration? RemainingAt(Instant now) => EndsAt is { } end ? (end > now ? end - now : Duration.Zero) : null;
}

/// <summary>Answers honestly when each lead's deadlines pass: fixed deadlines for everyone, evergreen ones per lead.</summary>
/// <remarks>
/// An evergreen deadline starts at the lead's first event that matches <see cref="Deadline.StartsOn"/>, passed to
/// <see cref="ObserveAsync"/>; the start is stored per <see cref="LeadId"/> in the <see cref="IDeadlineStore"/>, so
/// clearing cookies or visiting again never restarts it. An evergreen deadline that has not started is open.
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class DeadlineTracker
{
    private readonly IDeadlineStore store;
    private readonly IClock clock;

    /// <summary>Initializes a tracker.</summary>
    /// <param name="store">Where evergreen starts are stored.</param>
    /// <param name="clock">The source of "now".</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public DeadlineTracker(IDeadlineStore store, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(clock);
        this.store = store;
        this.clock = clock;
    }

    /// <summary>Starts an evergreen deadline for the event's lead if the event qualifies and it has not started.</summary>
    /// <param name="deadline">The deadline.</param>
    /// <param name="leadEvent">An event of the lead, such as a sales-page visit.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The deadline's status for the lead at the event's instant.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public async Task<DeadlineStatus> ObserveAsync(Deadline deadline, LeadEvent leadEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deadline);
        ArgumentNullException.ThrowIfNull(leadEvent);
        if (deadline.Evergreen is { } length && deadline.StartsOn is { } match && match.Matches(leadEvent))
        {
            Instant start = await store.GetOrStartAsync(deadline.Key, leadEvent.LeadId, leadEvent.OccurredAt, cancellationToken).ConfigureAwait(false);
            Instant end = start + length;
            return new DeadlineStatus(end, leadEvent.OccurredAt < end);
        }

        return await StatusAtAsync(deadline, leadEvent.LeadId, leadEvent.OccurredAt, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns the deadline's status for a lead now.</summary>
    /// <param name="deadline">The deadline.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The status at the clock's current instant.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="deadline"/> is <see langword="null"/>.</exception>
    public Task<DeadlineStatus> GetStatusAsync(Deadline deadline, LeadId lead, CancellationToken cancellationToken = default) =>
        StatusAtAsync(deadline, lead, clock.GetCurrentInstant(), cancellationToken);

    private async Task<DeadlineStatus> StatusAtAsync(Deadline deadline, LeadId lead, Instant at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deadline);
        if (deadline.EndsAt is { } fixedEnd)
        {
            return new DeadlineStatus(fixedEnd, at < fixedEnd);
        }

        Instant? start = await store.FindStartAsync(deadline.Key, lead, cancellationToken).ConfigureAwait(false);
        if (start is null || deadline.Evergreen is not { } length)
        {
            return new DeadlineStatus(null, true);
        }

        Instant end = start.Value + length;
        return new DeadlineStatus(end, at < end);
    }
}

/// <summary>A seat held for a lead until it is confirmed by an order or expires.</summary>
/// <param name="Id">The reservation's id.</param>
/// <param name="Offer">The offer whose seat is held.</param>
/// <param name="Lead">The lead holding it.</param>
/// <param name="ExpiresAt">When the hold lapses unless confirmed.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct SeatReservation(Guid Id, OfferId Offer, LeadId Lead, Instant ExpiresAt);

/// <summary>Counts the seats of limited offers; replace the in-memory default with durable storage.</summary>
/// <remarks>Implementations must never let confirmed seats plus unexpired holds exceed the capacity, whatever the concurrency.</remarks>
public interface ISeatInventory
{
    /// <summary>Holds a seat for the lead if one is free; a lead that already holds one gets it back.</summary>
    /// <param name="offer">The offer.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="limit">The offer's seat limit.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The reservation, or <see langword="null"/> when the offer is sold out.</returns>
    Task<SeatReservation?> TryReserveAsync(OfferId offer, LeadId lead, SeatLimit limit, CancellationToken cancellationToken = default);

    /// <summary>Turns a hold into a sold seat; each hold confirms once.</summary>
    /// <param name="reservation">The reservation.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="false"/> when the hold expired (its seat may have gone to someone else) or was already confirmed; start a new checkout.</returns>
    Task<bool> ConfirmAsync(SeatReservation reservation, CancellationToken cancellationToken = default);

    /// <summary>Frees a held or sold seat (an abandoned checkout or a full refund).</summary>
    /// <param name="reservation">The reservation.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the seat is free.</returns>
    Task ReleaseAsync(SeatReservation reservation, CancellationToken cancellationToken = default);
}

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

/// <summary>Counts coupon redemptions so limits hold; replace the in-memory default with durable storage.</summary>
public interface ICouponRedemptionStore
{
    /// <summary>Redeems the coupon once for the lead if neither limit is reached, atomically.</summary>
    /// <param name="code">The coupon code (as defined in the catalogue).</param>
    /// <param name="lead">The lead.</param>
    /// <param name="maxTotal">The limit over all leads, or <see langword="null"/> for none.</param>
    /// <param name="maxPerLead">The limit for one lead, or <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when redeemed; <see langword="false"/> when a limit was reached.</returns>
    Task<bool> TryRedeemAsync(string code, LeadId lead, int? maxTotal, int? maxPerLead, CancellationToken cancellationToken = default);

    /// <summary>Gives back one redemption, when an order could not be placed after all.</summary>
    /// <param name="code">The coupon code.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the redemption is given back.</returns>
    Task ReleaseAsync(string code, LeadId lead, CancellationToken cancellationToken = default);
}

/// <summary>The in-memory <see cref="ICouponRedemptionStore"/>.</summary>
/// <threadsafety>All members are thread-safe: each coupon's counts change under a lock, so limits are never exceeded.</threadsafety>
public sealed class InMemoryCouponRedemptionStore : ICouponRedemptionStore
{
    private readonly ConcurrentDictionary<string, Counts> coupons = new(StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc/>
    public Task<bool> TryRedeemAsync(string code, LeadId lead, int? maxTotal, int? maxPerLead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        Counts counts = coupons.GetOrAdd(code, static _ => new Counts());
        lock (counts)
        {
            int mine = counts.PerLead.GetValueOrDefault(lead);
            if ((maxTotal is { } total && counts.Total >= total) || (maxPerLead is { } perLead && mine >= perLead))
            {
                return Task.FromResult(false);
            }

            counts.Total++;
            counts.PerLead[lead] = mine + 1;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task ReleaseAsync(string code, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        if (coupons.TryGetValue(code, out Counts? counts))
        {
            lock (counts)
            {
                if (counts.PerLead.TryGetValue(lead, out int mine) && mine > 0)
                {
                    counts.PerLead[lead] = mine - 1;
                    counts.Total--;
                }
            }
        }

        return Task.CompletedTask;
    }

    private sealed class Counts
    {
        public int Total { get; set; }

        public Dictionary<LeadId, int> PerLead { get; } = [];
    }
}
