using System.Collections.Immutable;

namespace Funnel.Segments;

/// <summary>Stores who is in each tracked segment; replace the in-memory default with durable storage.</summary>
/// <remarks>
/// Follows the store convention: insert-if-absent and replace-if-version (the store bumps
/// <see cref="SegmentMember.Version"/>). Keyed by segment and lead, so of two racing evaluations only one reports a
/// lead entering or leaving. Run the <c>SegmentMembershipStoreSpecification</c> tests against an implementation.
/// </remarks>
/// <threadsafety>Implementations must be thread-safe; each member is atomic.</threadsafety>
public interface ISegmentMembershipStore
{
    /// <summary>Returns a lead's membership record of a segment.</summary>
    /// <param name="segment">The segment key.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The record, or <see langword="null"/> when the lead was never in the segment.</returns>
    Task<SegmentMember?> FindAsync(string segment, LeadId lead, CancellationToken cancellationToken = default);

    /// <summary>Returns a page of a segment's current members (<see cref="SegmentMember.IsMember"/>), by lead id.</summary>
    /// <param name="segment">The segment key.</param>
    /// <param name="after">The last lead of the previous page, or <see langword="null"/> for the first page.</param>
    /// <param name="max">The most records to return; positive.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The members with a lead id greater than <paramref name="after"/>; fewer than <paramref name="max"/> on the last page.</returns>
    Task<ImmutableArray<SegmentMember>> ListMembersAsync(
        string segment, LeadId? after, int max, CancellationToken cancellationToken = default);

    /// <summary>Adds a record unless the lead has one for the segment; the stored version is 0.</summary>
    /// <param name="member">The record.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added; <see langword="false"/> when the key exists.</returns>
    Task<bool> TryAddAsync(SegmentMember member, CancellationToken cancellationToken = default);

    /// <summary>Replaces a record when its stored version is still <paramref name="current"/>'s.</summary>
    /// <param name="current">The record as read.</param>
    /// <param name="replacement">The new record, same segment and lead; stored with version <c>current.Version + 1</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when replaced; <see langword="false"/> when it is missing or changed since read.</returns>
    Task<bool> TryUpdateAsync(SegmentMember current, SegmentMember replacement, CancellationToken cancellationToken = default);

    /// <summary>Returns which of the given leads are current members of a segment, for a batch (such as the sends of a broadcast a dispatcher claimed).</summary>
    /// <remarks>The default implementation calls <see cref="FindAsync"/> once per distinct lead; a database store overrides it with one query.</remarks>
    /// <param name="segment">The segment key.</param>
    /// <param name="leads">The leads.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The leads among <paramref name="leads"/> whose record says <see cref="SegmentMember.IsMember"/>, each once, in the order first given.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="segment"/> or <paramref name="leads"/> is <see langword="null"/>.</exception>
    async Task<ImmutableArray<LeadId>> FindMembersAsync(string segment, IEnumerable<LeadId> leads, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(leads);
        ImmutableArray<LeadId>.Builder members = ImmutableArray.CreateBuilder<LeadId>();
        foreach (LeadId lead in leads.Distinct())
        {
            if (await FindAsync(segment, lead, cancellationToken).ConfigureAwait(false) is { IsMember: true })
            {
                members.Add(lead);
            }
        }

        return members.DrainToImmutable();
    }
}
