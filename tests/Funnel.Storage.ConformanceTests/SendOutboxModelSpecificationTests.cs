using System.Collections.Concurrent;
using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Events;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>
/// An <see cref="ISendOutbox"/> against the in-memory outbox as the model (design note §7.7), and several dispatchers at
/// once (§7.3): subclass it with a <see cref="CreateStore"/> of your store, and call
/// <see cref="DispatchersNeverHoldAnEntryTwiceAsync"/> with outboxes on separate connections.
/// </summary>
public abstract class SendOutboxModelSpecificationTests
{
    private const int Keys = 8;
    private static readonly Instant Base = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly Duration Lease = Duration.FromMinutes(5);
    private static readonly LeadId Lead = new(new Guid(7, 0, 0, new byte[8]));

    /// <summary>Returns a new, empty outbox.</summary>
    protected abstract ISendOutbox CreateStore();

    /// <summary>Random sequences of every outbox operation (batch and single) give the same answers and state as the in-memory outbox.</summary>
    [Property(MaxTest = 40)]
    public Property Operations_RandomSequences_AgreeWithTheInMemoryModel() => Prop.ForAll(
        Gen.Choose(0, 7).Zip(Gen.Choose(0, Keys - 1)).Zip(Gen.Choose(0, 3)).ArrayOf().ToArbitrary(),
        ops =>
        {
            Run run = new(new InMemorySendOutbox(), CreateStore());
            foreach (((int kind, int a), int b) in ops)
            {
                run.Apply(kind, a, b);
            }

            run.Compare();
            return true;
        });

    /// <summary>
    /// Dispatchers (one per outbox given, all on one store) claim, complete or abandon their claims with a lease of
    /// 20 seconds, one round after another on a shared clock: no entry is ever held by two live claims, every entry is
    /// claimed, a completed entry is never claimed again, and each entry ends with exactly its winner's event.
    /// </summary>
    /// <param name="outboxes">One outbox per dispatcher, on separate connections or pools of one empty store.</param>
    /// <param name="entries">How many entries to add.</param>
    /// <param name="rounds">How many claim rounds each dispatcher runs.</param>
    /// <param name="max">The most entries one claim takes.</param>
    /// <returns>A task that completes when the assertions are done.</returns>
    protected static async Task DispatchersNeverHoldAnEntryTwiceAsync(IReadOnlyList<ISendOutbox> outboxes, int entries, int rounds, int max)
    {
        ArgumentNullException.ThrowIfNull(outboxes);
        Duration lease = Duration.FromSeconds(20);
        ISendOutbox first = outboxes[0];
        ISendOutbox last = outboxes[^1];
        (await first.TryAddManyAsync([.. Enumerable.Range(0, entries).Select(i => Entry("e" + i, Base - Duration.FromSeconds(i % 13)))])).Length.ShouldBe(entries);
        long tick = 0;
        ConcurrentBag<(string Key, long Version, Instant At, Instant Until)> claims = [];
        ConcurrentBag<(string Key, long Version, EventId Event)> completions = [];

        await Task.WhenAll(outboxes.Select((outbox, d) => Task.Run(async () =>
        {
            Random random = new(d);
            for (int round = 0; round < rounds; round++)
            {
                Instant now = Base + Duration.FromSeconds(Interlocked.Increment(ref tick));
                ImmutableArray<OutboxEntry> batch = await outbox.ClaimDueAsync(now, max, lease, "d" + d);
                List<(OutboxEntry Current, OutboxEntry Replacement)> done = [];
                foreach (OutboxEntry entry in batch)
                {
                    claims.Add((entry.Key, entry.Version, now, entry.DueAt));
                    if (random.Next(4) > 0)
                    {
                        done.Add((entry, entry with { State = SendState.Sent, CompletedAt = now, ClaimedBy = null, Events = [Sent(entry.Key)] }));
                    }
                }

                ImmutableArray<string> won = await outbox.TryUpdateManyAsync(done);
                foreach ((OutboxEntry current, OutboxEntry replacement) in done)
                {
                    if (won.Contains(current.Key))
                    {
                        completions.Add((current.Key, current.Version, replacement.Events[0].Id));
                    }
                }
            }
        })));

        ILookup<string, (string Key, long Version, EventId Event)> completedByKey = completions.ToLookup(c => c.Key);
        foreach (IGrouping<string, (string Key, long Version, Instant At, Instant Until)> key in claims.GroupBy(c => c.Key))
        {
            var ordered = key.OrderBy(c => c.Version).ToList();
            ordered.Select(c => c.Version).ShouldBeUnique(key.Key);
            for (int i = 1; i < ordered.Count; i++)
            {
                ordered[i].At.ShouldBeGreaterThanOrEqualTo(ordered[i - 1].Until, $"{key.Key}: claimed at {ordered[i].At} while the claim until {ordered[i - 1].Until} was live");
            }

            var completed = completedByKey[key.Key].ToList();
            completed.Count.ShouldBeLessThanOrEqualTo(1, key.Key);
            if (completed.Count == 1)
            {
                ordered[^1].Version.ShouldBe(completed[0].Version, $"{key.Key} was claimed again after it was completed");
            }
        }

        claims.Select(c => c.Key).Distinct().Count().ShouldBe(entries, "every entry is claimed");

        // Finish what was abandoned, then every entry is sent once and has exactly one event: its winner's.
        Instant end = Base + Duration.FromDays(1);
        ImmutableArray<OutboxEntry> rest = await last.ClaimDueAsync(end, entries, lease, "sweep");
        ImmutableArray<string> swept = await last.TryUpdateManyAsync([.. rest.Select(e => (e, e with { State = SendState.Sent, CompletedAt = end, Events = [Sent(e.Key)] }))]);
        swept.Length.ShouldBe(rest.Length);
        (completions.Count + swept.Length).ShouldBe(entries);
        ImmutableArray<FunnelEvent> events = await first.ClaimEventsAsync(end, 10 * entries, lease);
        events.Length.ShouldBe(entries);
        events.Select(e => e.Id).ShouldBeUnique();
        completions.Select(c => c.Event).ShouldBeSubsetOf(events.Select(e => e.Id));
    }

    private static EmailSent Sent(string key) => new() { LeadId = Lead, OccurredAt = Base, Email = key };

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

    private static string Project(OutboxEntry? e) => e is null
        ? "none"
        : (e.Key, e.Enrolment, e.LeadId, e.Sequence, e.StepIndex, e.ScheduledFor, e.DueAt, e.State, e.Attempts, e.ClaimedBy,
            (e.CompletedAt, e.MessageId, e.Reason, e.Outcome, e.Version)).ToString();

    /// <summary>One operation sequence applied to the model and to the store under test, comparing every answer.</summary>
    private sealed class Run(InMemorySendOutbox model, ISendOutbox store)
    {
        private static readonly SendState[] States = [SendState.Pending, SendState.Sent, SendState.FailedTransient, SendState.Sending];
        private readonly List<EventId> _handedOut = [];
        private int _step;

        private Instant Clock => Base + Duration.FromMinutes(_step);

        public void Apply(int kind, int a, int b)
        {
            _step++;
            string[] keys = [.. new[] { a, (a + b + 1) % Keys }.Distinct().Select(k => "k" + k)];
            switch (kind)
            {
                case 0:
                    OutboxEntry[] added = [.. keys.Select((k, i) => Entry(k, Base + Duration.FromSeconds(_step * Keys * 2 + i)) with
                    {
                        State = b == 3 ? SendState.Sent : SendState.Pending,
                        CompletedAt = b == 3 ? Clock - Duration.FromMinutes(a) : null,
                        Reason = "r" + _step,
                    })];
                    SameList(Await(model.TryAddManyAsync(added)), Await(store.TryAddManyAsync(added)), "TryAddManyAsync");
                    break;
                case 1:
                    OutboxEntry single = Entry(keys[0], Clock);
                    Same(Await(model.TryAddAsync(single)), Await(store.TryAddAsync(single)), "TryAddAsync");
                    break;
                case 2:
                    // Max covers every key: which of several entries due at the same instant a smaller max takes is not specified.
                    ImmutableArray<OutboxEntry> x = Await(model.ClaimDueAsync(Clock, Keys, Lease, "d" + b));
                    ImmutableArray<OutboxEntry> y = Await(store.ClaimDueAsync(Clock, Keys, Lease, "d" + b));
                    SameList(x.OrderBy(e => e.Key, StringComparer.Ordinal).Select(Project), y.OrderBy(e => e.Key, StringComparer.Ordinal).Select(Project), "ClaimDueAsync");
                    break;
                case 3:
                case 4:
                    List<(OutboxEntry Current, OutboxEntry Replacement)> updates = [];
                    foreach (string key in kind == 3 ? keys : keys[..1])
                    {
                        if (model.Find(key) is not { } known)
                        {
                            continue;
                        }

                        OutboxEntry current = known with { Version = Math.Max(0, known.Version + (b % 3) - 1) };
                        SendState state = States[(a + b + _step) % States.Length];
                        updates.Add((current, current with
                        {
                            State = state,
                            DueAt = Clock + Duration.FromSeconds(updates.Count),
                            CompletedAt = state == SendState.Sent ? Clock : null,
                            ClaimedBy = state == SendState.Sending ? current.ClaimedBy : null,
                            Attempts = current.Attempts + 1,
                            Outcome = b == 2 ? state : current.Outcome,
                            Events = [Sent(key) with { Id = new EventId(new Guid(_step, (short)updates.Count, 0, new byte[8])) }],
                        }));
                    }

                    if (kind == 3)
                    {
                        SameList(Await(model.TryUpdateManyAsync(updates)), Await(store.TryUpdateManyAsync(updates)), "TryUpdateManyAsync");
                    }
                    else if (updates.Count == 1)
                    {
                        Same(Await(model.TryUpdateAsync(updates[0].Current, updates[0].Replacement)), Await(store.TryUpdateAsync(updates[0].Current, updates[0].Replacement)), "TryUpdateAsync");
                    }

                    break;
                case 5:
                    ImmutableArray<FunnelEvent> ex = Await(model.ClaimEventsAsync(Clock, 1000, Lease));
                    ImmutableArray<FunnelEvent> ey = Await(store.ClaimEventsAsync(Clock, 1000, Lease));
                    SameList(ex.Select(e => e.Id.Value).Order(), ey.Select(e => e.Id.Value).Order(), "ClaimEventsAsync");
                    _handedOut.AddRange(ex.Select(e => e.Id));
                    break;
                case 6:
                    EventId[] acknowledged = [.. _handedOut.Where((_, i) => i % 2 == b % 2), EventId.New()];
                    Await(model.AcknowledgeEventsAsync(acknowledged));
                    Await(store.AcknowledgeEventsAsync(acknowledged));
                    _handedOut.Clear();
                    break;
                default:
                    Same(Await(model.PurgeCompletedAsync(Clock - Duration.FromMinutes(b), a + 1)), Await(store.PurgeCompletedAsync(Clock - Duration.FromMinutes(b), a + 1)), "PurgeCompletedAsync");
                    break;
            }
        }

        public void Compare()
        {
            for (int k = 0; k < Keys; k++)
            {
                Same(Project(model.Find("k" + k)), Project(Await(store.FindAsync("k" + k))), "FindAsync k" + k);
            }

            Instant later = Clock + Duration.FromDays(1);
            SameList(
                Await(model.ClaimEventsAsync(later, 1000, Lease)).Select(e => e.Id.Value).Order(),
                Await(store.ClaimEventsAsync(later, 1000, Lease)).Select(e => e.Id.Value).Order(),
                "ClaimEventsAsync at the end");
        }

        private static T Await<T>(Task<T> task) => task.GetAwaiter().GetResult();

        private static void Await(Task task) => task.GetAwaiter().GetResult();

        private void Same<T>(T expected, T actual, string what) => actual.ShouldBe(expected, $"{what} at step {_step}");

        private void SameList<T>(IEnumerable<T> expected, IEnumerable<T> actual, string what) => actual.ToList().ShouldBe(expected.ToList(), $"{what} at step {_step}");
    }
}
