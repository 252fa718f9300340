using Funnel.Segments;
using static Funnel.Storage.ConformanceTests.ConformanceKit;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="ISegmentMembershipStore"/>: one record per segment and lead, members listed in pages.</summary>
public abstract class SegmentMembershipStoreSpecification : VersionedStoreSpecification<ISegmentMembershipStore, SegmentMember>
{
    [Fact]
    public async Task ListMembersAsync_Pages_ReturnEveryMemberOnceByLeadAndSkipFormerMembersAndOtherSegments()
    {
        ISegmentMembershipStore store = CreateStore();
        for (int n = 7; n >= 1; n--)
        {
            await store.TryAddAsync(NewDocument(n));
        }

        await store.TryAddAsync(NewDocument(8) with { IsMember = false });
        await store.TryAddAsync(NewDocument(9) with { Segment = "other" });

        var seen = new List<LeadId>();
        LeadId? after = null;
        while (true)
        {
            var page = await store.ListMembersAsync("s", after, 3);
            page.Length.ShouldBeLessThanOrEqualTo(3);
            seen.AddRange(page.Select(m => m.Lead));
            if (page.Length < 3)
            {
                break;
            }

            after = page[^1].Lead;
        }

        seen.ShouldBe([.. Enumerable.Range(1, 7).Select(Lead)]);
    }

    [Fact]
    public async Task FindMembersAsync_MixedLeads_ReturnsTheCurrentMembersOnceInTheOrderGiven()
    {
        ISegmentMembershipStore store = CreateStore();
        await store.TryAddAsync(NewDocument(1));
        await store.TryAddAsync(NewDocument(2) with { IsMember = false });
        await store.TryAddAsync(NewDocument(3));
        await store.TryAddAsync(NewDocument(4) with { Segment = "other" });

        var members = await store.FindMembersAsync("s", [Lead(3), Lead(2), Lead(4), Lead(5), Lead(1), Lead(3)]);

        members.ShouldBe([Lead(3), Lead(1)]);
        (await store.FindMembersAsync("s", [])).ShouldBeEmpty();
    }

    [Fact]
    public async Task TryAddAsync_SameLeadAnotherSegment_IsAnotherRecord()
    {
        ISegmentMembershipStore store = CreateStore();
        await store.TryAddAsync(NewDocument(1));

        (await store.TryAddAsync(NewDocument(1) with { Segment = "other" })).ShouldBeTrue();
    }

    protected override SegmentMember NewDocument(int n) => new() { Segment = "s", Lead = Lead(n), IsMember = true, ChangedAt = T0 };

    protected override SegmentMember Changed(SegmentMember current, int change) =>
        current with { IsMember = change % 2 == 0, ChangedAt = At(change) };

    protected override Task<SegmentMember?> FindAsync(ISegmentMembershipStore store, SegmentMember document) =>
        store.FindAsync(document.Segment, document.Lead);

    protected override Task<bool> TryAddAsync(ISegmentMembershipStore store, SegmentMember document) => store.TryAddAsync(document);

    protected override Task<bool> TryUpdateAsync(ISegmentMembershipStore store, SegmentMember current, SegmentMember replacement) =>
        store.TryUpdateAsync(current, replacement);

    protected override long VersionOf(SegmentMember document) => document.Version;

    protected override string ContentOf(SegmentMember document) =>
        $"{document.Segment}/{document.Lead}/{document.IsMember}/{document.ChangedAt}";
}
