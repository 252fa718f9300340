using System.Collections.Concurrent;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>
/// The contract of an <see cref="ISendOutbox"/> whose <see cref="ISendOutbox.EventLog"/> is set: an update's events go
/// straight into that log, with the update itself, instead of waiting in the outbox for a drain. Subclass it with a
/// <see cref="CreateAsync"/> of your outbox and the log of its database.
/// </summary>
public abstract class SendOutboxEventLogSpecification
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly Duration Lease = Duration.FromMinutes(5);

    /// <summary>Returns a new, empty outbox and the empty event log it writes into.</summary>
    protected abstract Task<(ISendOutbox Outbox, IFunnelEventLog Log)> CreateAsync();

    [Fact]
    public async Task EventLog_IsTheLogItWritesInto()
    {
        (ISendOutbox outbox, IFunnelEventLog log) = await CreateAsync();

        outbox.EventLog.ShouldBeSameAs(log);
    }

    [Fact]
    public async Task TryUpdateManyAsync_WinnersAndALoser_OnlyTheWinnersEventsAreLoggedInOrderAndNoneKept()
    {
        (ISendOutbox outbox, IFunnelEventLog log) = await CreateAsync();
        OutboxEntry[] claimed = await ClaimAsync(outbox, "a", "b", "c");
        OutboxEntry stale = claimed[2] with { Version = claimed[2].Version - 1 };
        var updates = new (OutboxEntry, OutboxEntry)[] { (claimed[1], Sent(claimed[1])), (stale, Sent(claimed[2])), (claimed[0], Sent(claimed[0])) };

        (await outbox.TryUpdateManyAsync(updates)).ShouldBe(["b", "a"]);

        IReadOnlyList<LoggedEvent> logged = await log.ReadAsync(0, 100);
        logged.Select(e => ((EmailSent)e.Event).Email).ShouldBe(["b", "a"]);
        logged.Select(e => e.Position).ShouldBe([1L, 2L]);
        (await log.ReadLeadAsync(claimed[0].LeadId, 10)).ShouldHaveSingleItem().Event.Id.ShouldBe(updates[2].Item2.Events[0].Id);
        (await outbox.ClaimEventsAsync(Now + Lease, 100, Lease)).ShouldBeEmpty("nothing waits in the outbox for a drain");
    }

    [Fact]
    public async Task TryUpdateAsync_AnEventAlreadyLogged_IsLoggedOnceAndSpendsNoPosition()
    {
        (ISendOutbox outbox, IFunnelEventLog log) = await CreateAsync();
        OutboxEntry claimed = (await ClaimAsync(outbox, "a")).Single();
        OutboxEntry outcome = Sent(claimed);
        FunnelEvent second = new EmailSent { LeadId = claimed.LeadId, OccurredAt = Now, Email = "a-again" };
        await log.AppendAsync([outcome.Events[0]]);

        (await outbox.TryUpdateAsync(claimed, outcome with { Events = [outcome.Events[0], second] })).ShouldBeTrue();

        (await log.ReadAsync(0, 100)).Select(e => (e.Position, e.Event.Id)).ShouldBe([(1L, outcome.Events[0].Id), (2L, second.Id)]);
    }

    [Fact]
    public async Task TryAddAndUpdateManyAsync_FinalStatesWithEvents_LoggedWithTheAdditionsAdded()
    {
        (ISendOutbox outbox, IFunnelEventLog log) = await CreateAsync();
        OutboxEntry claimed = (await ClaimAsync(outbox, "a")).Single();
        OutboxEntry final = claimed with
        {
            State = SendState.Sent,
            CompletedAt = Now,
            Outcome = SendState.Sent,
            Events = [new SequenceCompleted { LeadId = claimed.LeadId, OccurredAt = Now, Sequence = "nurture", Enrolment = claimed.Enrolment }],
        };

        (await outbox.TryAddAndUpdateManyAsync([Entry("a2", Now + Duration.FromDays(1))], [(claimed, final)])).ShouldBe(["a"]);

        (await log.ReadAsync(0, 10)).ShouldHaveSingleItem().Event.ShouldBeOfType<SequenceCompleted>().Enrolment.ShouldBe(claimed.Enrolment);
        (await outbox.FindAsync("a2")).ShouldNotBeNull().State.ShouldBe(SendState.Pending);
        (await outbox.ClaimEventsAsync(Now + Lease, 100, Lease)).ShouldBeEmpty();
    }

    /// <summary>
    /// A reader that follows the log by position (as the pipeline does) must never step over an event that commits
    /// later with a lower position: the outbox's inserts must be ordered with the log's appends, so positions commit in
    /// order.
    /// </summary>
    [Fact]
    public async Task LogAppendsAndOutboxUpdatesAtOnce_AReaderFollowingThePositionsMissesNothing()
    {
        (ISendOutbox outbox, IFunnelEventLog log) = await CreateAsync();
        const int Writers = 3, Rounds = 25;
        string[] keys = [.. Enumerable.Range(0, Writers * Rounds).Select(i => "k" + i)];
        await outbox.TryAddManyAsync([.. keys.Select(k => Entry(k, Now))]);
        OutboxEntry[] claimed = [.. await outbox.ClaimDueAsync(Now, keys.Length, Lease, "d1")];
        claimed.Length.ShouldBe(keys.Length);
        ConcurrentBag<EventId> written = [];
        ConcurrentDictionary<EventId, long> seen = new();
        using CancellationTokenSource done = new();

        Task reader = Task.Run(async () =>
        {
            long after = 0;
            while (true)
            {
                bool last = done.IsCancellationRequested;
                foreach (LoggedEvent e in await log.ReadAsync(after, 1000))
                {
                    seen.TryAdd(e.Event.Id, e.Position);
                    after = e.Position;
                }

                if (last)
                {
                    return;
                }
            }
        });
        Task[] outboxWriters = [.. Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (int r = 0; r < Rounds; r++)
            {
                OutboxEntry current = claimed[(w * Rounds) + r];
                OutboxEntry outcome = Sent(current);
                (await outbox.TryUpdateAsync(current, outcome)).ShouldBeTrue();
                written.Add(outcome.Events[0].Id);
            }
        }))];
        Task[] appenders = [.. Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (int r = 0; r < Rounds; r++)
            {
                FunnelEvent e = new PageViewed { LeadId = new LeadId(Guid.NewGuid()), OccurredAt = Now, Page = "/p" + r };
                await log.AppendAsync([e]);
                written.Add(e.Id);
            }
        }))];
        await Task.WhenAll([.. outboxWriters, .. appenders]);
        await done.CancelAsync();
        await reader;

        seen.Count.ShouldBe(written.Count);
        written.ShouldAllBe(id => seen.ContainsKey(id));
    }

    private static async Task<OutboxEntry[]> ClaimAsync(ISendOutbox outbox, params string[] keys)
    {
        await outbox.TryAddManyAsync([.. keys.Select(k => Entry(k, Now))]);
        Dictionary<string, OutboxEntry> claimed = (await outbox.ClaimDueAsync(Now, keys.Length, Lease, "d1")).ToDictionary(e => e.Key);
        return [.. keys.Select(k => claimed[k])];
    }

    private static OutboxEntry Sent(OutboxEntry claimed) => claimed with
    {
        Outcome = SendState.Sent,
        Events = [new EmailSent { LeadId = claimed.LeadId, OccurredAt = Now, Email = claimed.Key }],
    };

    private static OutboxEntry Entry(string key, Instant due) => new()
    {
        Key = key,
        Enrolment = EnrolmentId.New(),
        LeadId = new LeadId(Guid.NewGuid()),
        Sequence = "nurture",
        StepIndex = 0,
        ScheduledFor = due,
        DueAt = due,
    };
}
