using System.Collections.Concurrent;
using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Events;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.Storage.PostgreSql.Sequences;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Tests.Sequences;

/// <summary>The PostgreSQL outbox against the in-memory one as the model, and many dispatchers on separate data sources.</summary>
public sealed class PgSendOutboxModelTests : IAsyncDisposable
{
    private const int Keys = 8;
    private static readonly Instant Base = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly Duration Lease = Duration.FromMinutes(5);
    private static readonly LeadId Lead = new(new Guid(7, 0, 0, new byte[8]));
    private readonly PgSchemas _schemas = new();

    public ValueTask DisposeAsync() => _schemas.DisposeAsync();

    /// <summary>Random sequences of every outbox operation (batch and single) give the same answers and state as the in-memory outbox.</summary>
    [Property(MaxTest = 40)]
    public Property Operations_RandomSequences_AgreeWithTheInMemoryModel() => Prop.ForAll(
        Gen.Choose(0, 7).Zip(Gen.Choose(0, Keys - 1)).Zip(Gen.Choose(0, 3)).ArrayOf().ToArbitrary(),
        ops =>
        {
            Run run = new(new InMemorySendOutbox(), SequenceStoreKit.Outbox(_schemas.Create()));
            foreach (((int kind, int a), int b) in ops)
            {
                run.Apply(kind, a, b);
            }

            run.Compare();
            return true;
        });

    /// <summary>
    /// Design note §7.3 with leases: 4 dispatchers, each on a data source (pool) of its own as in 4 app instances, claim,
    /// complete or abandon their claims for 200 rounds over 5,000 entries; no entry is ever held by two live claims.
    /// </summary>
    [Fact]
    public async Task ClaimDueAsync_FourDispatchersOnFourDataSourcesWithExpiringLeases_NoEntryHeldByTwoLiveClaims()
    {
        const int Entries = 5_000;
        const int Rounds = 200;
        Duration lease = Duration.FromSeconds(20);
        PgDatabase schema = await _schemas.CreateAsync();
        PgDatabase[] instances = [.. Enumerable.Range(0, 4).Select(_ => new PgDatabase(new FunnelPostgreSqlOptions { ConnectionString = schema.Options.ConnectionString, Schema = schema.Schema }))];
        try
        {
            ISendOutbox[] outboxes = [.. instances.Select(i => SequenceStoreKit.Outbox(i))];
            (await outboxes[0].TryAddManyAsync([.. Enumerable.Range(0, Entries).Select(i => Entry("e" + i, Base - Duration.FromSeconds(i % 13)))])).Length.ShouldBe(Entries);
            long tick = 0;
            ConcurrentBag<(string Key, long Version, Instant At, Instant Until)> claims = [];
            ConcurrentBag<(string Key, long Version, EventId Event)> completions = [];

            await Task.WhenAll(Enumerable.Range(0, 4).Select(d => Task.Run(async () =>
            {
                ISendOutbox outbox = outboxes[d];
                Random random = new(d);
                for (int round = 0; round < Rounds; round++)
                {
                    Instant now = Base + Duration.FromSeconds(Interlocked.Increment(ref tick));
                    ImmutableArray<OutboxEntry> batch = await outbox.ClaimDueAsync(now, 16, lease, "d" + d);
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

            Dictionary<string, List<(string Key, long Version, EventId Event)>> completedByKey = completions.GroupBy(c => c.Key).ToDictionary(g => g.Key, g => g.ToList());
            foreach (IGrouping<string, (string Key, long Version, Instant At, Instant Until)> key in claims.GroupBy(c => c.Key))
            {
                var ordered = key.OrderBy(c => c.Version).ToList();
                ordered.Select(c => c.Version).ShouldBeUnique(key.Key);
                for (int i = 1; i < ordered.Count; i++)
                {
                    ordered[i].At.ShouldBeGreaterThanOrEqualTo(ordered[i - 1].Until, $"{key.Key}: claimed at {ordered[i].At} while the claim until {ordered[i - 1].Until} was live");
                }

                List<(string Key, long Version, EventId Event)> completed = completedByKey.GetValueOrDefault(key.Key) ?? [];
                completed.Count.ShouldBeLessThanOrEqualTo(1, key.Key);
                if (completed.Count == 1)
                {
                    ordered[^1].Version.ShouldBe(completed[0].Version, $"{key.Key} was claimed again after it was completed");
                }
            }

            claims.Select(c => c.Key).Distinct().Count().ShouldBe(Entries, "every entry is claimed");

            // Finish what was abandoned, then every entry is sent once and has exactly one event: its winner's.
            Instant end = Base + Duration.FromDays(1);
            ImmutableArray<OutboxEntry> rest = await outboxes[1].ClaimDueAsync(end, Entries, lease, "sweep");
            ImmutableArray<string> swept = await outboxes[1].TryUpdateManyAsync([.. rest.Select(e => (e, e with { State = SendState.Sent, CompletedAt = end, Events = [Sent(e.Key)] }))]);
            swept.Length.ShouldBe(rest.Length);
            (completions.Count + swept.Length).ShouldBe(Entries);
            ImmutableArray<FunnelEvent> events = await outboxes[2].ClaimEventsAsync(end, 10 * Entries, lease);
            events.Length.ShouldBe(Entries);
            events.Select(e => e.Id).ShouldBeUnique();
            completions.Select(c => c.Event).ShouldBeSubsetOf(events.Select(e => e.Id));
        }
        finally
        {
            foreach (PgDatabase instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
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
