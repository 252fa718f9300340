using System.Collections.Immutable;

namespace Funnel.Segments;

/// <summary>The in-memory <see cref="ISegmentMembershipStore"/>: state lives only as long as the process.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
public sealed class InMemorySegmentMembershipStore : ISegmentMembershipStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SortedDictionary<Guid, SegmentMember>> _segments = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="segment"/> is <see langword="null"/>.</exception>
    public Task<SegmentMember?> FindAsync(string segment, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);
        lock (_gate)
        {
            return Task.FromResult(_segments.TryGetValue(segment, out var members) ? members.GetValueOrDefault(lead.Value) : null);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="segment"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<SegmentMember>> ListMembersAsync(
        string segment, LeadId? after, int max, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        lock (_gate)
        {
            if (!_segments.TryGetValue(segment, out var members))
            {
                return Task.FromResult(ImmutableArray<SegmentMember>.Empty);
            }

            IEnumerable<SegmentMember> page = members.Values.Where(m => m.IsMember);
            if (after is { } from)
            {
                page = page.Where(m => m.Lead.Value.CompareTo(from.Value) > 0);
            }

            return Task.FromResult<ImmutableArray<SegmentMember>>([.. page.Take(max)]);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="member"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(SegmentMember member, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(member);
        lock (_gate)
        {
            if (!_segments.TryGetValue(member.Segment, out var members))
            {
                _segments[member.Segment] = members = [];
            }

            return Task.FromResult(members.TryAdd(member.Lead.Value, member with { Version = 0 }));
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another segment or lead.</exception>
    public Task<bool> TryUpdateAsync(SegmentMember current, SegmentMember replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        if (!string.Equals(current.Segment, replacement.Segment, StringComparison.Ordinal) || current.Lead != replacement.Lead)
        {
            throw new ArgumentException("The replacement must have the segment and lead of the current record.", nameof(replacement));
        }

        lock (_gate)
        {
            if (!_segments.TryGetValue(current.Segment, out var members)
                || !members.TryGetValue(current.Lead.Value, out SegmentMember? stored)
                || stored.Version != current.Version)
            {
                return Task.FromResult(false);
            }

            members[current.Lead.Value] = replacement with { Version = current.Version + 1 };
            return Task.FromResult(true);
        }
    }
}
