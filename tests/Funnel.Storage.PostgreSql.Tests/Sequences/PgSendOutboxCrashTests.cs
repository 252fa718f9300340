using System.Collections.Concurrent;
using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.Storage.PostgreSql.Sequences;
using Funnel.TestSupport;
using Npgsql;
using NodaTime;
using Xunit.Abstractions;

namespace Funnel.Storage.PostgreSql.Tests.Sequences;

/// <summary>Design note §7.5 and §7.10: a connection killed in the middle of an update, and a server stopped at once mid-run.</summary>
public sealed class PgSendOutboxCrashTests(ITestOutputHelper output) : IAsyncDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly Duration Lease = Duration.FromSeconds(30);
    private static readonly LeadId Lead = new(new Guid(7, 0, 0, new byte[8]));
    private readonly PgSchemas _schemas = new();

    public ValueTask DisposeAsync() => _schemas.DisposeAsync();

    [Fact]
    public async Task TryUpdateAsync_BackendTerminatedAfterTheEntryChangedWhileItsEventWaits_LeavesNeitherTheStateNorTheEvent()
    {
        PgDatabase database = await _schemas.CreateAsync();
        PgSendOutbox outbox = SequenceStoreKit.Outbox(database);
        await outbox.TryAddAsync(PgSequenceStoreTests.Entry("a", Now));
        OutboxEntry claimed = (await outbox.ClaimDueAsync(Now, 1, Lease, "d1")).ShouldHaveSingleItem();
        EmailSent sent = new() { LeadId = Lead, OccurredAt = Now, Email = "a" };
        OutboxEntry done = claimed with { State = SendState.Sent, CompletedAt = Now, Outcome = SendState.Sent, Events = [sent] };

        // An open transaction holds an event row with the same id: the update statement changes the entry, then its
        // event insert waits for that transaction, and is killed there.
        await using NpgsqlConnection blocker = await database.OpenAsync(CancellationToken.None);
        await using NpgsqlTransaction holding = await blocker.BeginTransactionAsync();
        await using (NpgsqlCommand hold = new($"INSERT INTO {database.Table("outbox_events")} (id, type, payload) VALUES ($1, 'x', '{{}}')", blocker, holding))
        {
            hold.Parameters.Add(new NpgsqlParameter { Value = sent.Id.Value });
            await hold.ExecuteNonQueryAsync();
        }

        Task<bool> update = outbox.TryUpdateAsync(claimed, done);
        int pid = await WaitForBlockedUpdateAsync(database, blocker);
        (await database.ScalarAsync($"SELECT pg_terminate_backend({pid})")).ShouldBe(true);

        await Should.ThrowAsync<NpgsqlException>(update);
        await holding.RollbackAsync();
        OutboxEntry stored = (await outbox.FindAsync("a")).ShouldNotBeNull();
        (stored.State, stored.Version, stored.Outcome).ShouldBe((SendState.Sending, 1L, (SendState?)null));
        (await outbox.ClaimEventsAsync(Now, 10, Lease)).ShouldBeEmpty();

        // The pool hands out a live connection again, and the same update now stores the state and its event once.
        (await outbox.TryUpdateAsync(claimed, done)).ShouldBeTrue();
        (await outbox.ClaimEventsAsync(Now, 10, Lease)).ShouldHaveSingleItem().Id.ShouldBe(sent.Id);
        (await outbox.FindAsync("a")).ShouldNotBeNull().State.ShouldBe(SendState.Sent);
    }

    [Fact]
    public async Task Dispatch_ServerStoppedImmediatelyAndStartedMidRun_CallsWorkAgainAndCommittedOutcomesRemain()
    {
        // A private cluster, so stopping it disturbs no other test; durable, as an immediate stop drops commits that
        // synchronous_commit=off had not yet written.
        await using PostgresServer server = await PostgresServer.StartAsync(durable: true);
        string connectionString = await server.CreateDatabaseAsync();
        await using PgDatabase database = new(new FunnelPostgreSqlOptions { ConnectionString = connectionString });
        PgSendOutbox outbox = SequenceStoreKit.Outbox(database);
        const int Entries = 3_000;
        (await outbox.TryAddManyAsync([.. Enumerable.Range(0, Entries).Select(i => PgSequenceStoreTests.Entry("e" + i, Now - Duration.FromSeconds(i % 7)))])).Length.ShouldBe(Entries);

        ConcurrentDictionary<string, EventId> committed = new(StringComparer.Ordinal);
        int failures = 0;
        int rounds = 0;
        TaskCompletionSource runningBefore = new(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskCompletionSource runningAfter = new(TaskCreationOptions.RunContinuationsAsynchronously);
        bool restarted = false;
        int roundsAfterRestart = 0;
        using CancellationTokenSource stop = new();
        Task dispatcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                Instant now = Now + Duration.FromSeconds(Interlocked.Increment(ref rounds));
                try
                {
                    ImmutableArray<OutboxEntry> batch = await outbox.ClaimDueAsync(now, 20, Lease, "d1");
                    List<(OutboxEntry Current, OutboxEntry Replacement)> done = [.. batch.Select(e => (e, e with
                    {
                        State = SendState.Sent, CompletedAt = now, ClaimedBy = null,
                        Events = [new EmailSent { LeadId = Lead, OccurredAt = now, Email = e.Key }],
                    }))];
                    ImmutableArray<string> won = await outbox.TryUpdateManyAsync(done);
                    foreach ((OutboxEntry current, OutboxEntry replacement) in done.Where(d => won.Contains(d.Current.Key)))
                    {
                        committed[current.Key] = replacement.Events[0].Id;
                    }

                    if (committed.Count >= 200)
                    {
                        runningBefore.TrySetResult();
                    }

                    if (Volatile.Read(ref restarted) && Interlocked.Increment(ref roundsAfterRestart) >= 5)
                    {
                        runningAfter.TrySetResult();
                    }
                }
                catch (NpgsqlException)
                {
                    // The server is down, or a pooled connection died with it: the next call tries again.
                    Interlocked.Increment(ref failures);
                }
            }
        });

        await runningBefore.Task.WaitAsync(TimeSpan.FromMinutes(2));
        await server.StopImmediateAsync();
        int committedBeforeStop = committed.Count;
        await server.StartAgainAsync();
        Volatile.Write(ref restarted, true);
        await runningAfter.Task.WaitAsync(TimeSpan.FromMinutes(2));
        await stop.CancelAsync();
        await dispatcher;
        output.WriteLine($"{committedBeforeStop} outcomes committed before the stop, {committed.Count} in all; {failures} calls failed while the server was down or reconnecting.");

        failures.ShouldBeGreaterThan(0, "calls ran while the server was down");
        committed.Count.ShouldBeGreaterThan(committedBeforeStop, "the dispatcher went on after the restart");

        // Finish what a lost claim or an unanswered update left after its lease: each entry is then sent, with one event.
        Instant end = Now + Duration.FromDays(1);
        ImmutableArray<OutboxEntry> rest = await outbox.ClaimDueAsync(end, Entries, Lease, "sweep");
        (await outbox.TryUpdateManyAsync([.. rest.Select(e => (e, e with { State = SendState.Sent, CompletedAt = end, Events = [new EmailSent { LeadId = Lead, OccurredAt = end, Email = e.Key }] }))])).Length.ShouldBe(rest.Length);
        foreach ((string key, EventId _) in committed)
        {
            (await outbox.FindAsync(key)).ShouldNotBeNull().State.ShouldBe(SendState.Sent, key);
        }

        rest.Select(e => e.Key).Intersect(committed.Keys).ShouldBeEmpty("a committed outcome is never claimed again");
        ImmutableArray<FunnelEvent> events = await outbox.ClaimEventsAsync(end, 10 * Entries, Lease);
        events.Length.ShouldBe(Entries);
        events.Select(e => ((EmailSent)e).Email).ShouldBeUnique();
        committed.Values.ShouldBeSubsetOf(events.Select(e => e.Id));
    }

    /// <summary>Returns the backend of the update statement once it waits for the blocker's transaction.</summary>
    private static async Task<int> WaitForBlockedUpdateAsync(PgDatabase database, NpgsqlConnection blocker)
    {
        string sql =
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            // The update's own words: pg_stat_activity keeps only the first 1,024 bytes of a statement.
            + $"AND $1 = ANY(pg_blocking_pids(pid)) AND query LIKE '%UPDATE {database.Table("outbox")} o SET%'";
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            await using NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None);
            await using NpgsqlCommand find = new(sql, connection);
            find.Parameters.Add(new NpgsqlParameter { Value = blocker.ProcessID });
            if (await find.ExecuteScalarAsync() is int pid)
            {
                return pid;
            }

            await Task.Yield();
        }

        throw new InvalidOperationException("The update never waited for the blocking transaction.");
    }
}
