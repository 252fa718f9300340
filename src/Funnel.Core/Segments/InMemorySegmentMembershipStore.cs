using System.Collections.Immutable;
using Funnel.Advocacy;

namespace Funnel.Segments;

/// <summary>The in-memory <see cref="ISegmentMembershipStore"/>: state lives only as long as the process.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
public sealed class InMemorySegmentMembershipStore : ISegmentMembershipStore
{
    private readonly InMemoryDocuments<(string Segment, LeadId Lead), SegmentMember> _members =
        new(m => (m.Segment, m.Lead), m => m.Version, (m, v) => m with { Version = v });

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="segment"/> is <see langword="null"/>.</exception>
    public Task<SegmentMember?> FindAsync(string segment, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);
        return Task.FromResult(_members.Find((segment, lead)));
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="segment"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<SegmentMember>> ListMembersAsync(
        string segment, LeadId? after, int max, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);
        Guid from = after?.Value ?? Guid.Empty;
        bool first = after is null;
        return Task.FromResult<ImmutableArray<SegmentMember>>([.. _members.List(
            m => m.IsMember && string.Equals(m.Segment, segment, StringComparison.Ordinal) && (first || m.Lead.Value.CompareTo(from) > 0),
            m => m.Lead.Value,
            max)]);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="member"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(SegmentMember member, CancellationToken cancellationToken = default) =>
        Task.FromResult(_members.TryAdd(member));

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another segment or lead.</exception>
    public Task<bool> TryUpdateAsync(SegmentMember current, SegmentMember replacement, CancellationToken cancellationToken = default) =>
        Task.FromResult(_members.TryUpdate(current, replacement));
}
