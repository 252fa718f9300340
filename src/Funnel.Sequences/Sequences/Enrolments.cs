using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>Identifies one enrolment of a lead in a sequence.</summary>
/// <param name="Value">The underlying GUID.</param>
/// <remarks><c>default(EnrolmentId)</c> is <see cref="Guid.Empty"/> and is rejected wherever an id is required.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public readonly record struct EnrolmentId(Guid Value)
{
    /// <summary>Returns a new time-ordered id.</summary>
    /// <returns>The id.</returns>
    public static EnrolmentId New() => new(Guid.CreateVersion7());

    /// <summary>Returns the id as 32 lower-case hex digits.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Value.ToString("N", CultureInfo.InvariantCulture);
}

/// <summary>Where an enrolment stands.</summary>
public enum EnrolmentStatus
{
    /// <summary>Steps are still being sent.</summary>
    Active,

    /// <summary>Every step was sent or skipped.</summary>
    Completed,

    /// <summary>An exit goal (such as a purchase) ended it early.</summary>
    Exited,
}

/// <summary>A lead's passage through one sequence.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Enrolment
{
    /// <summary>Gets the id.</summary>
    public required EnrolmentId Id { get; init; }

    /// <summary>Gets the lead.</summary>
    public required LeadId LeadId { get; init; }

    /// <summary>Gets the sequence key.</summary>
    public required string Sequence { get; init; }

    /// <summary>Gets when the lead was enrolled (the instant of the triggering event).</summary>
    public required Instant EnrolledAt { get; init; }

    /// <summary>Gets the anchor that <see cref="StepTiming.RelativeToAnchor"/> steps count from, such as a webinar's start.</summary>
    /// <value><see langword="null"/> when none was given.</value>
    public Instant? Anchor { get; init; }

    /// <summary>Gets the status.</summary>
    /// <value>Defaults to <see cref="EnrolmentStatus.Active"/>.</value>
    public EnrolmentStatus Status { get; init; } = EnrolmentStatus.Active;

    /// <summary>Gets when the last email of this enrolment was sent.</summary>
    /// <value><see langword="null"/> before the first send.</value>
    public Instant? LastSentAt { get; init; }

    /// <summary>Gets when the enrolment completed or exited.</summary>
    /// <value><see langword="null"/> while active.</value>
    public Instant? EndedAt { get; init; }

    /// <summary>Gets the version, incremented by every stored change (for compare-and-set).</summary>
    /// <value>Starts at 0.</value>
    public long Version { get; init; }
}

/// <summary>Stores enrolments; replace the in-memory default with durable storage.</summary>
/// <remarks>Changes are compare-and-set on <see cref="Enrolment.Version"/>, so concurrent dispatchers never lose an update.</remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IEnrolmentStore
{
    /// <summary>Adds an enrolment unless the re-entry policy forbids it for its lead and sequence.</summary>
    /// <param name="enrolment">The new enrolment (active, version 0).</param>
    /// <param name="reEntry">The sequence's re-entry policy, checked atomically with the add.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added.</returns>
    Task<bool> TryAddAsync(Enrolment enrolment, ReEntryPolicy reEntry, CancellationToken cancellationToken = default);

    /// <summary>Returns the lead's enrolments in every sequence.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The enrolments, oldest first.</returns>
    Task<ImmutableArray<Enrolment>> ListForLeadAsync(LeadId lead, CancellationToken cancellationToken = default);

    /// <summary>Replaces <paramref name="current"/> with <paramref name="replacement"/> if the stored version is still <paramref name="current"/>'s.</summary>
    /// <param name="current">The enrolment as read.</param>
    /// <param name="replacement">The new state; its version is set to <paramref name="current"/>'s plus one.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when someone changed it first.</returns>
    Task<bool> TryUpdateAsync(Enrolment current, Enrolment replacement, CancellationToken cancellationToken = default);

    /// <summary>Reserves a lead's local day for one send (the per-lead frequency cap), atomically: the first key wins the day.</summary>
    /// <remarks>
    /// Compare-and-set on a per-lead, per-day reservation: it succeeds when the day has no reservation (and stores
    /// <paramref name="key"/>) or already holds <paramref name="key"/> (so a retried or recovered send keeps its day), and
    /// fails when another send holds it. A database implementation uses
    /// <c>INSERT … ON CONFLICT (lead_id, day) DO NOTHING</c> and compares the stored key. Reservations are never released.
    /// </remarks>
    /// <param name="lead">The lead.</param>
    /// <param name="day">The lead's local calendar day.</param>
    /// <param name="key">The idempotency key of the send (<see cref="OutboxEntry.Key"/>).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when the day is reserved for <paramref name="key"/>.</returns>
    Task<bool> TryReserveDayAsync(LeadId lead, LocalDate day, string key, CancellationToken cancellationToken = default);
}

/// <summary>The in-memory <see cref="IEnrolmentStore"/>: the default, and a fake for tests.</summary>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class InMemoryEnrolmentStore : IEnrolmentStore
{
    private readonly ConcurrentDictionary<LeadId, ImmutableArray<Enrolment>> byLead = new();
    private readonly ConcurrentDictionary<(LeadId Lead, LocalDate Day), string> reservations = new();
    private readonly Lock gate = new();

    /// <summary>Returns every stored enrolment.</summary>
    /// <returns>A snapshot, in no particular order.</returns>
    public IReadOnlyList<Enrolment> Snapshot() => [.. byLead.Values.SelectMany(static e => e)];

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(Enrolment enrolment, ReEntryPolicy reEntry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(enrolment);
        cancellationToken.ThrowIfCancellationRequested();
        lock (gate)
        {
            ImmutableArray<Enrolment> list = byLead.GetValueOrDefault(enrolment.LeadId, []);
            bool blocked = list.Any(e => e.Sequence == enrolment.Sequence
                && (reEntry == ReEntryPolicy.Never || e.Status == EnrolmentStatus.Active || e.Id == enrolment.Id));
            if (blocked)
            {
                return Task.FromResult(false);
            }

            byLead[enrolment.LeadId] = list.Add(enrolment with { Version = 0 });
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<Enrolment>> ListForLeadAsync(LeadId lead, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(byLead.GetValueOrDefault(lead, []));
    }

    /// <inheritdoc/>
    public Task<bool> TryUpdateAsync(Enrolment current, Enrolment replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        cancellationToken.ThrowIfCancellationRequested();
        lock (gate)
        {
            ImmutableArray<Enrolment> list = byLead.GetValueOrDefault(current.LeadId, []);
            int index = -1;
            for (int i = 0; i < list.Length; i++)
            {
                if (list[i].Id == current.Id)
                {
                    index = i;
                    break;
                }
            }

            if (index < 0 || list[index].Version != current.Version)
            {
                return Task.FromResult(false);
            }

            byLead[current.LeadId] = list.SetItem(index, replacement with { Id = current.Id, LeadId = current.LeadId, Version = current.Version + 1 });
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task<bool> TryReserveDayAsync(LeadId lead, LocalDate day, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(string.Equals(reservations.GetOrAdd((lead, day), key), key, StringComparison.Ordinal));
    }
}
