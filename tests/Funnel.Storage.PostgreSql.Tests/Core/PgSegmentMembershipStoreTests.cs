using System.Collections.Immutable;
using Funnel.Segments;
using Funnel.Storage.PostgreSql.Core;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.Storage.PostgreSql.Tests.Sequences;
using NodaTime;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Tests.Core;

/// <summary>What <see cref="PgSegmentMembershipStore"/> does beyond the shared specification: the batch check at size.</summary>
public sealed class PgSegmentMembershipStoreTests : IAsyncDisposable
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 12, 4, 15, 52);
    private readonly PgSchemas _schemas = new();

    public ValueTask DisposeAsync() => _schemas.DisposeAsync();

    [Fact]
    public async Task FindMembersAsync_ABatchOfAThousandLeads_ReturnsTheMembersInTheOrderGiven()
    {
        PgSegmentMembershipStore store = new(await _schemas.CreateAsync());
        LeadId[] leads = [.. Enumerable.Range(0, 1_000).Select(static i => new LeadId(new Guid(1_000 - i, 2, 0, new byte[8])))];
        for (int i = 0; i < leads.Length; i++)
        {
            await store.TryAddAsync(new SegmentMember { Segment = "s", Lead = leads[i], IsMember = i % 3 == 0, ChangedAt = T0 });
        }

        ImmutableArray<LeadId> members = await store.FindMembersAsync("s", [.. leads, .. leads]);

        members.ShouldBe([.. leads.Where(static (_, i) => i % 3 == 0)]);
    }

    [Fact]
    public async Task QueryPlan_FindMembersOnAFilledTable_LooksTheLeadsUpInAnIndex()
    {
        PgDatabase database = await _schemas.CreateAsync();
        PgSegmentMembershipStore store = new(database);
        // Four segments of 5,000 leads with documents of the real size; a batch is a page of the dispatcher's claim.
        Guid[] leads = [.. Enumerable.Range(0, 5_000).Select(static i => new Guid(i, 3, 0, new byte[8]))];
        await using NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None);
        await using (NpgsqlCommand fill = new(
            $"INSERT INTO {database.Table("segment_members")} (segment, lead_id, is_member, version, document) "
            + "SELECT segment, id, true, 0, jsonb_build_object('v', 1, 'segment', segment, 'lead', id, 'isMember', true, "
            + "'changedAt', '2026-12-04T15:52:00Z') FROM unnest(@leads) AS id, unnest(ARRAY['s', 't', 'u', 'v']) AS segment; "
            + $"ANALYZE {database.Table("segment_members")}",
            connection))
        {
            fill.Parameters.Add(new NpgsqlParameter("leads", leads));
            await fill.ExecuteNonQueryAsync();
        }

        await using NpgsqlCommand explain = new("EXPLAIN " + store.FindMembersSql, connection);
        explain.Parameters.Add(new NpgsqlParameter("segment", "s"));
        explain.Parameters.Add(new NpgsqlParameter("ids", leads[..100]));
        List<string> plan = [];
        await using (NpgsqlDataReader reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        string text = string.Join(" | ", plan);
        text.ShouldContain("segment_members_", Case.Sensitive, text); // the primary key or the current-members index
        text.ShouldNotContain("Seq Scan", Case.Sensitive, text);
    }
}
