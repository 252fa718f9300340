using System.Collections.Immutable;
using Funnel.Sequences;
using NodaTime;
using static Funnel.Storage.ConformanceTests.ConformanceKit;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IBroadcastStore"/>: one document per key, compare-and-set, and the due list the queuing job claims from.</summary>
public abstract class BroadcastStoreSpecification : VersionedStoreSpecification<IBroadcastStore, Broadcast>
{
    [Fact]
    public async Task ListDueAsync_MixedStatesAndInstants_ReturnsOpenDueOnesEarliestFirstThenByKey()
    {
        IBroadcastStore store = CreateStore();
        await store.TryAddAsync(NewDocument(1) with { DueAt = At(30) });
        await store.TryAddAsync(NewDocument(2) with { DueAt = At(10), Status = BroadcastStatus.Queuing, ClaimedBy = "a" });
        await store.TryAddAsync(NewDocument(3) with { DueAt = At(10) });
        await store.TryAddAsync(NewDocument(4) with { DueAt = At(0), Status = BroadcastStatus.Queued, CompletedAt = At(0) });
        await store.TryAddAsync(NewDocument(5) with { DueAt = At(0), Status = BroadcastStatus.Cancelled, CompletedAt = At(0) });
        await store.TryAddAsync(NewDocument(6) with { DueAt = At(31) });

        ImmutableArray<Broadcast> due = await store.ListDueAsync(At(30), 10);

        due.Select(b => b.Key).ShouldBe(["b-2", "b-3", "b-1"]);
        (await store.ListDueAsync(At(30), 2)).Select(b => b.Key).ShouldBe(["b-2", "b-3"]);
        (await store.ListDueAsync(At(9), 10)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ListAsync_EveryStatus_LatestDueFirstThenByKeyUpToMax()
    {
        IBroadcastStore store = CreateStore();
        await store.TryAddAsync(NewDocument(1) with { DueAt = At(30) });
        await store.TryAddAsync(NewDocument(2) with { DueAt = At(10), Status = BroadcastStatus.Queuing, ClaimedBy = "a" });
        await store.TryAddAsync(NewDocument(3) with { DueAt = At(10) });
        await store.TryAddAsync(NewDocument(4) with { DueAt = At(0), Status = BroadcastStatus.Cancelled, CompletedAt = At(0) });

        (await store.ListAsync(10)).Select(b => b.Key).ShouldBe(["b-1", "b-2", "b-3", "b-4"]);
        (await store.ListAsync(2)).Select(b => b.Key).ShouldBe(["b-1", "b-2"]);
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => store.ListAsync(0));
    }

    [Fact]
    public async Task ListDueAsync_AfterAnUpdate_FollowsTheNewStatusAndInstant()
    {
        IBroadcastStore store = CreateStore();
        await store.TryAddAsync(NewDocument(1));
        Broadcast stored = (await store.FindAsync("b-1"))!;

        (await store.TryUpdateAsync(stored, stored with { Status = BroadcastStatus.Queuing, ClaimedBy = "x", DueAt = At(60) })).ShouldBeTrue();
        (await store.ListDueAsync(At(59), 10)).ShouldBeEmpty();
        (await store.ListDueAsync(At(60), 10)).Single().ClaimedBy.ShouldBe("x");

        Broadcast claimed = (await store.FindAsync("b-1"))!;
        (await store.TryUpdateAsync(claimed, claimed with { Status = BroadcastStatus.Queued, ClaimedBy = null, CompletedAt = At(61) })).ShouldBeTrue();
        (await store.ListDueAsync(At(1000), 10)).ShouldBeEmpty();
    }

    [Fact]
    public async Task FindAsync_AFullDocument_RoundTripsEveryField()
    {
        IBroadcastStore store = CreateStore();
        Broadcast full = NewDocument(1) with
        {
            Definition = NewDocument(1).Definition with
            {
                HtmlBody = "<p>Hi {{ first_name }}</p>",
                Topic = "webinars",
                SendAt = null,
                LocalSendAt = new LocalDateTime(2026, 12, 8, 9, 0),
                MaxSendsPerMinute = 500,
                TrackClicks = false,
                Fields = ImmutableDictionary<string, string>.Empty.Add("first_name", "there"),
                Variants = [new EmailVariant { Key = EmailVariant.ControlKey }, new EmailVariant { Key = "short", Weight = 3, Subject = "Tomorrow" }],
            },
            Status = BroadcastStatus.Queuing,
            ClaimedBy = "instance-1",
            Cursor = Lead(42),
            StartedAt = At(4),
            Queued = 1234,
            Slots = [new BroadcastSlot(At(5), 1000), new BroadcastSlot(At(3605), 234)],
            CompletedAt = At(9),
        };
        await store.TryAddAsync(full);

        Broadcast found = (await store.FindAsync("b-1"))!;

        ContentOf(found).ShouldBe(ContentOf(full));
        found.Version.ShouldBe(0);
    }

    protected override Broadcast NewDocument(int n) => new()
    {
        Definition = new BroadcastDefinition
        {
            Key = "b-" + n,
            Segment = "newsletter",
            Subject = "Webinar tomorrow",
            TextBody = "Join us, {{ email }}.",
            SendAt = At(n),
        },
        Status = BroadcastStatus.Scheduled,
        CreatedAt = T0,
        DueAt = At(n),
    };

    protected override Broadcast Changed(Broadcast current, int change) =>
        current with { Queued = change, Cursor = Lead(change), DueAt = At(change), Status = BroadcastStatus.Queuing, ClaimedBy = "c" + change };

    protected override Task<Broadcast?> FindAsync(IBroadcastStore store, Broadcast document) => store.FindAsync(document.Key);

    protected override Task<bool> TryAddAsync(IBroadcastStore store, Broadcast document) => store.TryAddAsync(document);

    protected override Task<bool> TryUpdateAsync(IBroadcastStore store, Broadcast current, Broadcast replacement) =>
        store.TryUpdateAsync(current, replacement);

    protected override long VersionOf(Broadcast document) => document.Version;

    protected override string ContentOf(Broadcast document)
    {
        BroadcastDefinition d = document.Definition;
        return string.Join(
            "|",
            d.Key, d.Segment, d.Topic, d.Subject, d.TextBody, d.HtmlBody, d.SendAt, d.LocalSendAt, d.MaxSendsPerMinute, d.TrackClicks,
            string.Join(",", d.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => f.Key + "=" + f.Value)),
            string.Join(",", d.Variants.Select(v => $"{v.Key}/{v.Weight}/{v.Subject}/{v.TextBody}/{v.HtmlBody}")),
            document.Status, document.CreatedAt, document.DueAt, document.StartedAt, document.ClaimedBy, document.Cursor, document.Queued,
            string.Join(",", document.Slots.Select(s => $"{s.At}={s.Queued}")), document.CompletedAt);
    }
}
