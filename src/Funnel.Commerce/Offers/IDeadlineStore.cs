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
