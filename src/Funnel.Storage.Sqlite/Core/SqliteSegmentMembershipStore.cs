using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Funnel.Segments;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;
using NodaTime;

namespace Funnel.Storage.Sqlite.Core;

/// <summary>The <see cref="ISegmentMembershipStore"/> in table <c>segment_members</c>, by segment and lead.</summary>
/// <remarks>
/// Members are listed by lead id in the text order of the lower-case "D" form, which is
/// <see cref="Guid.CompareTo(Guid)"/> order, the order the in-memory store pages in.
/// </remarks>
/// <threadsafety>Safe to call from many threads at once.</threadsafety>
internal sealed class SqliteSegmentMembershipStore(SqliteDatabase database) : ISegmentMembershipStore
{
    private const string Select = "SELECT version, document FROM segment_members";

    private const string Insert =
        "INSERT INTO segment_members (segment, lead_id, is_member, version, document) "
        + "VALUES ($segment, $lead, $member, 0, $document) ON CONFLICT DO NOTHING";

    private const string Update =
        "UPDATE segment_members SET is_member = $member, version = version + 1, document = $document "
        + "WHERE segment = $segment AND lead_id = $lead AND version = $version";

    /// <summary>The batch membership check: each lead of the JSON array <c>$leads</c> looked up by segment and lead.</summary>
    internal const string FindMembersSql =
        "SELECT lead_id FROM segment_members "
        + "WHERE segment = $segment AND is_member = 1 AND lead_id IN (SELECT value FROM json_each($leads))";

    public Task<SegmentMember?> FindAsync(string segment, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);
        return database.ReadAsync(
            s => s.QueryFirst(
                Select + " WHERE segment = $segment AND lead_id = $lead",
                Map,
                ("$segment", segment),
                ("$lead", lead.Value)),
            cancellationToken);
    }

    public async Task<ImmutableArray<SegmentMember>> ListMembersAsync(
        string segment, LeadId? after, int max, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);

        // Every id's text sorts after the empty string, so the first page needs no second statement.
        string from = after is { } lead ? lead.Value.ToString("D") : string.Empty;
        List<SegmentMember> page = await database.ReadAsync(
            s => s.Query(
                Select + " WHERE segment = $segment AND is_member = 1 AND lead_id > $after ORDER BY lead_id LIMIT $max",
                Map,
                ("$segment", segment),
                ("$after", from),
                ("$max", max)),
            cancellationToken).ConfigureAwait(false);
        return [.. page];
    }

    public Task<bool> TryAddAsync(SegmentMember member, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(member);
        string document = Document.Write(member);
        return database.WriteAsync(
            s => s.Execute(
                Insert,
                ("$segment", member.Segment),
                ("$lead", member.Lead.Value),
                ("$member", member.IsMember),
                ("$document", document)) == 1,
            cancellationToken);
    }

    public Task<bool> TryUpdateAsync(
        SegmentMember current, SegmentMember replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        if (!string.Equals(current.Segment, replacement.Segment, StringComparison.Ordinal)
            || current.Lead != replacement.Lead)
        {
            throw new ArgumentException(
                "The replacement must have the segment and lead of the current record.", nameof(replacement));
        }

        string document = Document.Write(replacement);
        return database.WriteAsync(
            s => s.Execute(
                Update,
                ("$segment", current.Segment),
                ("$lead", current.Lead.Value),
                ("$version", current.Version),
                ("$member", replacement.IsMember),
                ("$document", document)) == 1,
            cancellationToken);
    }

    /// <remarks>
    /// One statement, so one snapshot of every lead: the distinct leads go in as one JSON array parameter
    /// (<c>lead_id IN (SELECT value FROM json_each($leads))</c>, looked up in the primary key), which needs no chunking
    /// and prepares one command whatever the batch size.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="segment"/> or <paramref name="leads"/> is <see langword="null"/>.</exception>
    public Task<ImmutableArray<LeadId>> FindMembersAsync(
        string segment, IEnumerable<LeadId> leads, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(leads);
        cancellationToken.ThrowIfCancellationRequested();
        List<LeadId> distinct = [.. leads.Distinct()];
        if (distinct.Count == 0)
        {
            return Task.FromResult(ImmutableArray<LeadId>.Empty);
        }

        string json = IdList.Json(distinct);
        return database.ReadAsync(
            s =>
            {
                HashSet<string> members = [.. s.Query(
                    FindMembersSql,
                    static r => r.GetString(0),
                    ("$segment", segment),
                    ("$leads", json))];
                return members.Count == 0
                    ? ImmutableArray<LeadId>.Empty
                    : [.. distinct.Where(l => members.Contains(l.Value.ToString("D", CultureInfo.InvariantCulture)))];
            },
            cancellationToken);
    }

    private static SegmentMember Map(SqliteDataReader row) => Document.Read(row.GetString(1), row.GetInt64(0));

    /// <summary>The stored JSON of a <see cref="SegmentMember"/>, shape 1: the record but its version.</summary>
    private sealed record Document
    {
        [JsonPropertyName("v")]
        [JsonPropertyOrder(-1)]
        public int V { get; init; } = 1;

        public required string Segment { get; init; }

        public required LeadId Lead { get; init; }

        public required bool IsMember { get; init; }

        public required Instant ChangedAt { get; init; }

        public static string Write(SegmentMember member) => JsonSerializer.Serialize(
            new Document
            {
                Segment = member.Segment, Lead = member.Lead, IsMember = member.IsMember, ChangedAt = member.ChangedAt,
            },
            FunnelJson.Options);

        public static SegmentMember Read(string json, long version)
        {
            Document document = JsonSerializer.Deserialize<Document>(json, FunnelJson.Options)
                ?? throw new JsonException("A stored segment membership is JSON null.");
            return new SegmentMember
            {
                Segment = document.Segment,
                Lead = document.Lead,
                IsMember = document.IsMember,
                ChangedAt = document.ChangedAt,
                Version = version,
            };
        }
    }
}
