using System.Collections.Immutable;
using Funnel.Segments;
using Funnel.Storage.PostgreSql.Internal;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.PostgreSql.Core;

/// <summary>The <see cref="ISegmentMembershipStore"/> in table <c>segment_members</c>, by segment and lead.</summary>
/// <remarks>
/// Members are listed by <c>uuid</c> order, which compares the bytes of the "D" text form in order: the
/// <see cref="Guid.CompareTo(Guid)"/> order the in-memory and SQLite stores page in.
/// </remarks>
/// <threadsafety>Safe to call from many threads and app instances at once.</threadsafety>
internal sealed class PgSegmentMembershipStore : ISegmentMembershipStore
{
    private readonly PgDocumentTable<SegmentMember> _members;
    private readonly string _firstPage;
    private readonly string _nextPage;

    public PgSegmentMembershipStore(PgDatabase database)
    {
        _members = new(
            database,
            "segment_members",
            [
                new("segment", PrimaryKey, static m => m.Segment),
                new("lead_id", PrimaryKey, static m => m.Lead.Value),
                new("is_member", Derived, static m => m.IsMember),
            ],
            new(static m => m.Version, static (m, v) => m with { Version = v }));
        string select = $"SELECT document, version FROM {_members.Name} WHERE segment = @segment AND is_member";
        _firstPage = $"{select} ORDER BY lead_id LIMIT @max";
        _nextPage = $"{select} AND lead_id > @after ORDER BY lead_id LIMIT @max";
    }

    public Task<SegmentMember?> FindAsync(string segment, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);
        return _members.FindAsync([segment, lead.Value], cancellationToken);
    }

    public Task<ImmutableArray<SegmentMember>> ListMembersAsync(
        string segment, LeadId? after, int max, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);
        return after is { } lead
            ? _members.ListAsync(_nextPage, [("segment", segment), ("after", lead.Value)], max, cancellationToken)
            : _members.ListAsync(_firstPage, [("segment", segment)], max, cancellationToken);
    }

    public Task<bool> TryAddAsync(SegmentMember member, CancellationToken cancellationToken = default) =>
        _members.TryAddAsync(member, cancellationToken);

    /// <exception cref="ArgumentException">The replacement has another segment or lead.</exception>
    public Task<bool> TryUpdateAsync(SegmentMember current, SegmentMember replacement, CancellationToken cancellationToken = default) =>
        _members.TryUpdateAsync(current, replacement, cancellationToken);
}
