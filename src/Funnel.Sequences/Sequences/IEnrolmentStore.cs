using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>Stores enrolments and the per-lead send-day reservations; replace the in-memory default with durable storage.</summary>
/// <remarks>
/// <para>
/// The store follows Funnel's store convention: <see cref="TryAddAsync"/> inserts an enrolment only when the re-entry
/// policy allows it, and <see cref="TryUpdateAsync"/> replaces one only when the stored <see cref="Enrolment.Version"/>
/// is still the one read, storing the replacement with the next version, so concurrent dispatchers never lose an update.
/// </para>
/// <para>
/// The batch members (<see cref="ListForLeadsAsync"/>, <see cref="TryUpdateManyAsync"/>, <see cref="TryReserveDaysAsync"/>)
/// have default implementations that loop over the single-call members, so a store written before them still compiles
/// and behaves the same; a database store overrides them with one statement per batch.
/// </para>
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IEnrolmentStore
{
    /// <summary>Adds an enrolment unless one with its id exists or the re-entry policy forbids it for its lead and sequence.</summary>
    /// <remarks>An enrolment that is <see cref="EnrolmentStatus.Active"/> or <see cref="EnrolmentStatus.AwaitingConsent"/> has not ended; <see cref="ReEntryPolicy.Always"/> checks only the id.</remarks>
    /// <param name="enrolment">The new enrolment (active or awaiting consent); it is stored with version 0.</param>
    /// <param name="reEntry">The sequence's re-entry policy, checked atomically with the add.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added.</returns>
    Task<bool> TryAddAsync(Enrolment enrolment, ReEntryPolicy reEntry, CancellationToken cancellationToken = default);

    /// <summary>Finds an enrolment by id.</summary>
    /// <param name="id">The enrolment id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The enrolment, or <see langword="null"/> when there is none.</returns>
    Task<Enrolment?> FindAsync(EnrolmentId id, CancellationToken cancellationToken = default);

    /// <summary>Returns the lead's enrolments in every sequence.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The enrolments, oldest first.</returns>
    Task<ImmutableArray<Enrolment>> ListForLeadAsync(LeadId lead, CancellationToken cancellationToken = default);

    /// <summary>Replaces <paramref name="current"/> with <paramref name="replacement"/> if the stored version is still <paramref name="current"/>'s (replace-if-version).</summary>
    /// <param name="current">The enrolment as read.</param>
    /// <param name="replacement">The new state; it is stored with <paramref name="current"/>'s id, lead and version plus one.</param>
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

    /// <summary>Returns the enrolments of several leads, for a batch (such as the leads of the sends a dispatcher claimed).</summary>
    /// <remarks>The default implementation calls <see cref="ListForLeadAsync"/> once per distinct lead.</remarks>
    /// <param name="leads">The leads.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The enrolments, lead by lead in the order the leads were first given, each lead's oldest first.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="leads"/> is <see langword="null"/>.</exception>
    async Task<ImmutableArray<Enrolment>> ListForLeadsAsync(IEnumerable<LeadId> leads, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leads);
        ImmutableArray<Enrolment>.Builder found = ImmutableArray.CreateBuilder<Enrolment>();
        foreach (LeadId lead in leads.Distinct())
        {
            found.AddRange(await ListForLeadAsync(lead, cancellationToken).ConfigureAwait(false));
        }

        return found.DrainToImmutable();
    }

    /// <summary>Applies several replace-if-version updates, each as by <see cref="TryUpdateAsync"/>, in order.</summary>
    /// <remarks>
    /// Each update succeeds or fails on its own (a lost compare-and-set does not fail the others). The default
    /// implementation calls <see cref="TryUpdateAsync"/> once per update; a database store overrides it with one statement.
    /// </remarks>
    /// <param name="updates">The enrolments as read and their replacements; each enrolment id at most once.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The ids of the enrolments that were stored, in the order given; a missing id lost its compare-and-set.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="updates"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An enrolment id appears more than once.</exception>
    async Task<ImmutableArray<EnrolmentId>> TryUpdateManyAsync(IReadOnlyList<(Enrolment Current, Enrolment Replacement)> updates, CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(updates, static u => u.Current.Id, nameof(updates));
        ImmutableArray<EnrolmentId>.Builder won = ImmutableArray.CreateBuilder<EnrolmentId>();
        foreach ((Enrolment current, Enrolment replacement) in updates)
        {
            if (await TryUpdateAsync(current, replacement, cancellationToken).ConfigureAwait(false))
            {
                won.Add(current.Id);
            }
        }

        return won.DrainToImmutable();
    }

    /// <summary>Reserves several lead-days, each as by <see cref="TryReserveDayAsync"/>, in order.</summary>
    /// <remarks>The default implementation calls <see cref="TryReserveDayAsync"/> once per reservation.</remarks>
    /// <param name="reservations">The lead, local day and send key of each reservation; each key at most once.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The keys whose day is reserved for them, in the order given.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="reservations"/> or a key is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A key appears more than once.</exception>
    async Task<ImmutableArray<string>> TryReserveDaysAsync(IReadOnlyList<(LeadId Lead, LocalDate Day, string Key)> reservations, CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(reservations, static r => r.Key, nameof(reservations));
        ImmutableArray<string>.Builder won = ImmutableArray.CreateBuilder<string>();
        foreach ((LeadId lead, LocalDate day, string key) in reservations)
        {
            if (await TryReserveDayAsync(lead, day, key, cancellationToken).ConfigureAwait(false))
            {
                won.Add(key);
            }
        }

        return won.DrainToImmutable();
    }
}
