using Funnel.Events;
using NodaTime;

namespace Funnel.Offers;

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
