using System.Collections.Concurrent;
using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Events;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="ISendOutbox"/>: subclass it with a <see cref="CreateStore"/> of your store.</summary>
public abstract class SendOutboxSpecificationTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly Duration Lease = Duration.FromMinutes(5);
    private static readonly LeadId Lead = new(new Guid(7, 0, 0, new byte[8]));

    /// <summary>Returns a new, empty outbox.</summary>
    protected abstract ISendOutbox CreateStore();

    [Fact]
    public async Task TryAddAsync_SameKeyTwice_SecondReturnsFalse()
    {
        ISendOutbox outbox = CreateStore();

        (await outbox.TryAddAsync(Entry("a", Now))).ShouldBeTrue();
        (await outbox.TryAddAsync(Entry("a", Now - Duration.FromHours(1)))).ShouldBeFalse();

        OutboxEntry stored = (await outbox.FindAsync("a")).ShouldNotBeNull();
        (stored.DueAt, stored.Version).ShouldBe((Now, 0L));
    }

    [Fact]
    public async Task TryAddAsync_ConcurrentAddsOfOneKey_ExactlyOneWins()
    {
        ISendOutbox outbox = CreateStore();

        bool[] added = await Race.RunAsync(Race.Contenders, i => outbox.TryAddAsync(Entry("a", Now + Duration.FromSeconds(i))));

        added.Count(a => a).ShouldBe(1);
        (await outbox.FindAsync("a")).ShouldNotBeNull().DueAt.ShouldBe(Now + Duration.FromSeconds(Array.IndexOf(added, true)));
    }

    [Fact]
    public async Task ClaimDueAsync_MixedEntries_ClaimsOnlyDueOpenEntriesEarliestFirstUpToMax()
    {
        ISendOutbox outbox = CreateStore();
        await outbox.TryAddAsync(Entry("later", Now + Duration.FromSeconds(1)));
        await outbox.TryAddAsync(Entry("sent", Now - Duration.FromMinutes(9)) with { State = SendState.Sent, CompletedAt = Now });
        await outbox.TryAddAsync(Entry("p3", Now - Duration.FromMinutes(3)));
        await outbox.TryAddAsync(Entry("retry", Now - Duration.FromMinutes(4)) with { State = SendState.FailedTransient, Attempts = 1 });
        await outbox.TryAddAsync(Entry("p1", Now - Duration.FromMinutes(1)));
        await outbox.TryAddAsync(Entry("p2", Now - Duration.FromMinutes(2)));

        ImmutableArray<OutboxEntry> claimed = await outbox.ClaimDueAsync(Now, 3, Lease, "d1");

        claimed.Select(e => e.Key).ShouldBe(["retry", "p3", "p2"]);
        claimed.ShouldAllBe(e => e.State == SendState.Sending && e.DueAt == Now + Lease && e.ClaimedBy == "d1" && e.Version == 1);
        (await outbox.FindAsync("p2")).ShouldNotBeNull().Version.ShouldBe(1);
        (await outbox.ClaimDueAsync(Now, 10, Lease, "d2")).Select(e => e.Key).ShouldBe(["p1"]);
    }

    [Fact]
    public async Task ClaimDueAsync_LeaseEndsBeforeCompletion_ReclaimedAndTheOldHolderIsFenced()
    {
        ISendOutbox outbox = CreateStore();
        await outbox.TryAddAsync(Entry("a", Now));
        OutboxEntry first = (await outbox.ClaimDueAsync(Now, 10, Lease, "d1")).ShouldHaveSingleItem();

        (await outbox.ClaimDueAsync(Now + Lease - Duration.FromSeconds(1), 10, Lease, "d2")).ShouldBeEmpty();
        OutboxEntry second = (await outbox.ClaimDueAsync(Now + Lease, 10, Lease, "d2")).ShouldHaveSingleItem();
        second.ClaimedBy.ShouldBe("d2");
        second.Version.ShouldBe(2);

        (await outbox.TryUpdateAsync(first, Done(first, SendState.Sent, Sent("a")))).ShouldBeFalse();
        (await outbox.ClaimEventsAsync(Now + Lease, 10, Lease)).ShouldBeEmpty();
        (await outbox.TryUpdateAsync(second, Done(second, SendState.Sent, Sent("a")))).ShouldBeTrue();
        (await outbox.FindAsync("a")).ShouldNotBeNull().State.ShouldBe(SendState.Sent);
    }

    [Fact]
    public async Task TryUpdateManyAsync_OneClaimTakenOverAfterItsLease_OnlyTheLiveClaimWinsAndRecordsItsEvents()
    {
        ISendOutbox outbox = CreateStore();
        await outbox.TryAddAsync(Entry("a", Now));
        await outbox.TryAddAsync(Entry("b", Now + Duration.FromMinutes(1)));
        OutboxEntry a = (await outbox.ClaimDueAsync(Now, 1, Lease, "d1")).ShouldHaveSingleItem();
        OutboxEntry b = (await outbox.ClaimDueAsync(Now + Duration.FromMinutes(1), 1, Lease, "d1")).ShouldHaveSingleItem();
        OutboxEntry taken = (await outbox.ClaimDueAsync(Now + Lease, 10, Lease, "d2")).ShouldHaveSingleItem();
        taken.Key.ShouldBe("a");
        FunnelEvent stale = Sent("a");
        FunnelEvent live = Sent("b");

        ImmutableArray<string> won = await outbox.TryUpdateManyAsync([(a, Done(a, SendState.Sent, stale)), (b, Done(b, SendState.Sent, live))]);

        won.ShouldBe(["b"]);
        (await outbox.ClaimEventsAsync(Now + Lease, 10, Lease)).Select(e => e.Id).ShouldBe([live.Id]);
        OutboxEntry storedA = (await outbox.FindAsync("a")).ShouldNotBeNull();
        (storedA.State, storedA.ClaimedBy, storedA.Version).ShouldBe((SendState.Sending, "d2", 2L));
        (await outbox.FindAsync("b")).ShouldNotBeNull().State.ShouldBe(SendState.Sent);
    }

    [Fact]
    public async Task ClaimDueAsync_ConcurrentDispatchers_NoEntryHeldTwiceAndEveryEntryClaimed()
    {
        ISendOutbox outbox = CreateStore();
        const int Entries = 400;
        for (int i = 0; i < Entries; i++)
        {
            await outbox.TryAddAsync(Entry("e" + i, Now - Duration.FromSeconds(i % 17)));
        }

        ConcurrentBag<string> claimed = [];
        await Race.RunAsync(4, async d =>
        {
            for (int round = 0; round < 200; round++)
            {
                ImmutableArray<OutboxEntry> batch = await outbox.ClaimDueAsync(Now, 7, Lease, "d" + d);
                foreach (OutboxEntry e in batch)
                {
                    claimed.Add(e.Key);
                }

                if (batch.IsEmpty)
                {
                    break;
                }
            }

            return true;
        });

        claimed.Count.ShouldBe(Entries);
        claimed.Distinct().Count().ShouldBe(Entries);
    }

    [Fact]
    public async Task TryUpdateAsync_StaleVersion_ReturnsFalseChangesNothingAndRecordsNoEvent()
    {
        ISendOutbox outbox = CreateStore();
        await outbox.TryAddAsync(Entry("a", Now));
        OutboxEntry claimed = (await outbox.ClaimDueAsync(Now, 1, Lease, "d1")).ShouldHaveSingleItem();
        (await outbox.TryUpdateAsync(claimed, claimed with { Reason = "first" })).ShouldBeTrue();

        (await outbox.TryUpdateAsync(claimed, Done(claimed, SendState.Sent, Sent("a")))).ShouldBeFalse();

        OutboxEntry stored = (await outbox.FindAsync("a")).ShouldNotBeNull();
        (stored.State, stored.Reason, stored.Version).ShouldBe((SendState.Sending, "first", 2L));
        (await outbox.ClaimEventsAsync(Now, 10, Lease)).ShouldBeEmpty();
    }

    [Fact]
    public async Task TryUpdateAsync_ParallelUpdatesFromOneVersion_ExactlyOneWinsWithItsEventsOnly()
    {
        ISendOutbox outbox = CreateStore();
        await outbox.TryAddAsync(Entry("a", Now));
        OutboxEntry claimed = (await outbox.ClaimDueAsync(Now, 1, Lease, "d1")).ShouldHaveSingleItem();
        FunnelEvent[] events = [.. Enumerable.Range(0, Race.Contenders).Select(_ => Sent("a"))];

        bool[] won = await Race.RunAsync(Race.Contenders, i => outbox.TryUpdateAsync(claimed, claimed with { Reason = "r" + i, Events = [events[i]] }));

        won.Count(w => w).ShouldBe(1);
        int winner = Array.IndexOf(won, true);
        (await outbox.FindAsync("a")).ShouldNotBeNull().Reason.ShouldBe("r" + winner);
        (await outbox.ClaimEventsAsync(Now, 100, Lease)).ShouldHaveSingleItem().Id.ShouldBe(events[winner].Id);
    }

    [Fact]
    public async Task ClaimEventsAsync_Leased_NotHandedOutAgainUntilTheLeaseEndsAndGoneOnceAcknowledged()
    {
        ISendOutbox outbox = CreateStore();
        await outbox.TryAddAsync(Entry("a", Now));
        OutboxEntry claimed = (await outbox.ClaimDueAsync(Now, 1, Lease, "d1")).ShouldHaveSingleItem();
        FunnelEvent first = Sent("a");
        FunnelEvent second = Sent("a");
        (await outbox.TryUpdateAsync(claimed, Done(claimed, SendState.Sent, first, second))).ShouldBeTrue();

        ImmutableArray<FunnelEvent> handed = await outbox.ClaimEventsAsync(Now, 10, Lease);
        handed.Select(e => e.Id).ShouldBe([first.Id, second.Id]);
        (await outbox.ClaimEventsAsync(Now + Lease - Duration.FromSeconds(1), 10, Lease)).ShouldBeEmpty();
        (await outbox.ClaimEventsAsync(Now + Lease, 10, Lease)).Select(e => e.Id).ShouldBe([first.Id, second.Id], ignoreOrder: true);

        await outbox.AcknowledgeEventsAsync([first.Id, second.Id, EventId.New()]);

        (await outbox.ClaimEventsAsync(Now + Lease + Lease, 10, Lease)).ShouldBeEmpty();
        (await outbox.FindAsync("a")).ShouldNotBeNull().Version.ShouldBe(2);
    }

    [Fact]
    public async Task PurgeCompletedAsync_MixedEntries_RemovesOnlyFinalEntriesCompletedBeforeTheCutoffUpToMax()
    {
        ISendOutbox outbox = CreateStore();
        await outbox.TryAddAsync(Entry("open", Now - Duration.FromDays(30)));
        await outbox.TryAddAsync(Entry("retry", Now - Duration.FromDays(30)) with { State = SendState.FailedTransient });
        for (int i = 0; i < 5; i++)
        {
            await outbox.TryAddAsync(Entry("old" + i, Now) with { State = SendState.Sent, CompletedAt = Now - Duration.FromDays(10 + i) });
        }

        await outbox.TryAddAsync(Entry("recent", Now) with { State = SendState.Suppressed, CompletedAt = Now - Duration.FromHours(1) });

        (await outbox.PurgeCompletedAsync(Now - Duration.FromDays(1), 3)).ShouldBe(3);
        (await outbox.PurgeCompletedAsync(Now - Duration.FromDays(1), 3)).ShouldBe(2);
        (await outbox.PurgeCompletedAsync(Now - Duration.FromDays(1), 3)).ShouldBe(0);

        foreach (string gone in new[] { "old0", "old1", "old2", "old3", "old4" })
        {
            (await outbox.FindAsync(gone)).ShouldBeNull(gone);
        }

        foreach (string kept in new[] { "open", "retry", "recent" })
        {
            (await outbox.FindAsync(kept)).ShouldNotBeNull(kept);
        }
    }

    [Fact]
    public async Task PurgeCompletedAsync_SmallMax_RemovesTheOldestFirst()
    {
        ISendOutbox outbox = CreateStore();
        await outbox.TryAddAsync(Entry("newer", Now) with { State = SendState.Sent, CompletedAt = Now - Duration.FromDays(2) });
        await outbox.TryAddAsync(Entry("older", Now) with { State = SendState.Sent, CompletedAt = Now - Duration.FromDays(3) });

        (await outbox.PurgeCompletedAsync(Now, 1)).ShouldBe(1);

        (await outbox.FindAsync("older")).ShouldBeNull();
        (await outbox.FindAsync("newer")).ShouldNotBeNull();
    }

    [Property(MaxTest = 50)]
    public Property TryAddManyAsync_RandomBatches_AgreesWithALoopOfTryAddAsync() => Prop.ForAll(
        Gen.Choose(0, 9).Zip(Gen.Choose(0, 3)).ArrayOf().ArrayOf().ToArbitrary(),
        batches =>
        {
            ISendOutbox batch = CreateStore();
            ISendOutbox single = CreateStore();
            foreach ((int Key, int Minutes)[] ops in batches)
            {
                OutboxEntry[] entries = [.. ops.DistinctBy(static o => o.Key).Select(o => Entry("k" + o.Key, Now + Duration.FromMinutes(o.Minutes)))];
                List<string> looped = [];
                foreach (OutboxEntry entry in entries)
                {
                    if (single.TryAddAsync(entry).GetAwaiter().GetResult())
                    {
                        looped.Add(entry.Key);
                    }
                }

                if (!batch.TryAddManyAsync(entries).GetAwaiter().GetResult().SequenceEqual(looped))
                {
                    return false;
                }
            }

            return SameState(batch, single, 10, Now + Duration.FromMinutes(3));
        });

    [Property(MaxTest = 50)]
    public Property TryUpdateManyAsync_RandomBatches_AgreesWithALoopOfTryUpdateAsync() => Prop.ForAll(
        Gen.Choose(0, 5).Zip(Gen.Choose(-1, 1)).Zip(Gen.Elements(SendState.Pending, SendState.Sent, SendState.FailedTransient)).ArrayOf().ArrayOf().ToArbitrary(),
        batches =>
        {
            ISendOutbox batch = CreateStore();
            ISendOutbox single = CreateStore();
            for (int i = 0; i < 5; i++)
            {
                batch.TryAddAsync(Entry("k" + i, Now)).GetAwaiter().GetResult();
                single.TryAddAsync(Entry("k" + i, Now)).GetAwaiter().GetResult();
            }

            int step = 0;
            foreach (((int Key, int Skew) First, SendState State)[] ops in batches)
            {
                List<(OutboxEntry Current, OutboxEntry Replacement)> updates = [];
                foreach (((int key, int skew), SendState state) in ops.DistinctBy(static o => o.First.Key))
                {
                    OutboxEntry known = single.FindAsync("k" + key).GetAwaiter().GetResult() ?? Entry("k" + key, Now);
                    OutboxEntry current = known with { Version = Math.Max(0, known.Version + skew) };
                    step++;
                    OutboxEntry replacement = current with
                    {
                        State = state,
                        DueAt = Now + Duration.FromMinutes(step),
                        CompletedAt = state == SendState.Sent ? Now : null,
                        Events = [Sent("k" + key) with { Id = new EventId(new Guid(step, 0, 0, new byte[8])) }],
                    };
                    updates.Add((current, replacement));
                }

                List<string> looped = [];
                foreach ((OutboxEntry current, OutboxEntry replacement) in updates)
                {
                    if (single.TryUpdateAsync(current, replacement).GetAwaiter().GetResult())
                    {
                        looped.Add(current.Key);
                    }
                }

                if (!batch.TryUpdateManyAsync(updates).GetAwaiter().GetResult().SequenceEqual(looped))
                {
                    return false;
                }
            }

            return SameState(batch, single, 6, Now + Duration.FromDays(1));
        });

    private static bool SameState(ISendOutbox a, ISendOutbox b, int keys, Instant at)
    {
        for (int i = 0; i < keys; i++)
        {
            OutboxEntry? x = a.FindAsync("k" + i).GetAwaiter().GetResult();
            OutboxEntry? y = b.FindAsync("k" + i).GetAwaiter().GetResult();
            if (x is null ? y is not null : y is null || (x.State, x.DueAt, x.Version, x.CompletedAt) != (y.State, y.DueAt, y.Version, y.CompletedAt))
            {
                return false;
            }
        }

        HashSet<EventId> eventsA = [.. a.ClaimEventsAsync(at, 10_000, Lease).GetAwaiter().GetResult().Select(static e => e.Id)];
        HashSet<EventId> eventsB = [.. b.ClaimEventsAsync(at, 10_000, Lease).GetAwaiter().GetResult().Select(static e => e.Id)];
        HashSet<string> dueA = [.. a.ClaimDueAsync(at, 100, Lease, "x").GetAwaiter().GetResult().Select(static e => e.Key)];
        HashSet<string> dueB = [.. b.ClaimDueAsync(at, 100, Lease, "x").GetAwaiter().GetResult().Select(static e => e.Key)];
        return eventsA.SetEquals(eventsB) && dueA.SetEquals(dueB);
    }

    private static OutboxEntry Done(OutboxEntry entry, SendState state, params FunnelEvent[] events) =>
        entry with { State = state, CompletedAt = Now, ClaimedBy = null, Outcome = state, Events = [.. events] };

    private static EmailSent Sent(string step) => new() { LeadId = Lead, OccurredAt = Now, Email = step };

    [Fact]
    public async Task ListAsync_MixedStates_ListsOnlyThatStateEarliestDueThenKeyUpToLimit()
    {
        ISendOutbox outbox = CreateStore();
        await outbox.TryAddAsync(Entry("p-late", Now + Duration.FromMinutes(5)));
        await outbox.TryAddAsync(Entry("p-b", Now));
        await outbox.TryAddAsync(Entry("p-a", Now));
        await outbox.TryAddAsync(Entry("f1", Now - Duration.FromMinutes(1)) with { State = SendState.FailedPermanent, Attempts = 5, Reason = "<bounce>", CompletedAt = Now });
        await outbox.TryAddAsync(Entry("s1", Now - Duration.FromMinutes(2)) with { State = SendState.Sent, CompletedAt = Now });

        (await outbox.ListAsync(SendState.Pending, 10)).Select(e => e.Key).ShouldBe(["p-a", "p-b", "p-late"]);
        (await outbox.ListAsync(SendState.Pending, 2)).Select(e => e.Key).ShouldBe(["p-a", "p-b"]);
        OutboxEntry failed = (await outbox.ListAsync(SendState.FailedPermanent, 10)).ShouldHaveSingleItem();
        (failed.Key, failed.Attempts, failed.Reason, failed.Version).ShouldBe(("f1", 5, "<bounce>", 0L));
        (await outbox.ListAsync(SendState.Cancelled, 10)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ListAsync_AfterAnUpdate_ShowsTheNewStateAndVersion()
    {
        ISendOutbox outbox = CreateStore();
        await outbox.TryAddAsync(Entry("a", Now) with { State = SendState.FailedTransient, Attempts = 1 });
        OutboxEntry listed = (await outbox.ListAsync(SendState.FailedTransient, 10)).ShouldHaveSingleItem();

        (await outbox.TryUpdateAsync(listed, listed with { State = SendState.Cancelled, CompletedAt = Now })).ShouldBeTrue();

        (await outbox.ListAsync(SendState.FailedTransient, 10)).ShouldBeEmpty();
        (await outbox.ListAsync(SendState.Cancelled, 10)).ShouldHaveSingleItem().Version.ShouldBe(1);
    }

    [Fact]
    public async Task ListAsync_LimitNotPositive_Throws()
    {
        ISendOutbox outbox = CreateStore();

        await Should.ThrowAsync<ArgumentOutOfRangeException>(async () => await outbox.ListAsync(SendState.Pending, 0));
    }

    private static OutboxEntry Entry(string key, Instant due) => new()
    {
        Key = key,
        Enrolment = new EnrolmentId(new Guid(1, 0, 0, new byte[8])),
        LeadId = Lead,
        Sequence = "nurture",
        StepIndex = 0,
        ScheduledFor = due,
        DueAt = due,
    };
}
