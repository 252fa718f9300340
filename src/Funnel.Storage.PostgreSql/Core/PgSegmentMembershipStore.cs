using System.Collections.Immutable;
using Funnel.Segments;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;
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
    private readonly PgDatabase _database;
    private readonly PgDocumentTable<SegmentMember> _members;
    private readonly string _firstPage;
    private readonly string _nextPage;
    private readonly string _findMembers;

    public PgSegmentMembershipStore(PgDatabase database)
    {
        _database = database;
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
        _findMembers = $"SELECT lead_id FROM {_members.Name} WHERE segment = @segment AND is_member AND lead_id = ANY(@ids)";
    }

    /// <summary>Gets the batch membership check, with the parameters <c>@segment</c> and <c>@ids</c> (<c>uuid[]</c>).</summary>
    internal string FindMembersSql => _findMembers;

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

    /// <remarks>
    /// One statement, so one snapshot of every lead: the distinct leads go in as one <c>uuid[]</c> parameter
    /// (<c>lead_id = ANY(@ids)</c>, looked up in the primary key), so no batch size needs chunking.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="segment"/> or <paramref name="leads"/> is <see langword="null"/>.</exception>
    public async Task<ImmutableArray<LeadId>> FindMembersAsync(
        string segment, IEnumerable<LeadId> leads, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(leads);
        cancellationToken.ThrowIfCancellationRequested();
        Guid[] distinct = [.. leads.Select(static l => l.Value).Distinct()];
        if (distinct.Length == 0)
        {
            return [];
        }

        HashSet<Guid> members = await _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDocumentTable<SegmentMember>.Command(
                    connection, _findMembers, [("segment", segment), ("ids", distinct)]);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                HashSet<Guid> found = [];
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    found.Add(reader.GetGuid(0));
                }

                return found;
            },
            cancellationToken).ConfigureAwait(false);
        return members.Count == 0 ? [] : [.. distinct.Where(members.Contains).Select(static g => new LeadId(g))];
    }

    /// <exception cref="ArgumentException">The replacement has another segment or lead.</exception>
    public Task<bool> TryUpdateAsync(SegmentMember current, SegmentMember replacement, CancellationToken cancellationToken = default) =>
        _members.TryUpdateAsync(current, replacement, cancellationToken);
}
