using System.Collections.Concurrent;
using Funnel.Email;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql.Core;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.Storage.PostgreSql.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Tests.Sequences;

/// <summary>
/// The outbox with the PostgreSQL event log of its database, beyond the shared contract
/// (<see cref="PgSendOutboxEventLogConformanceTests"/>): registration, which logs it writes into, positions that commit in
/// order, and the engine's check.
/// </summary>
public sealed class PgSendOutboxDirectEventsTests : IAsyncDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly Duration Lease = Duration.FromMinutes(5);
    private readonly PgSchemas _schemas = new();

    public ValueTask DisposeAsync() => _schemas.DisposeAsync();

    [Fact]
    public void AddFunnelPostgreSql_OutboxWritesIntoTheRegisteredLog()
    {
        ServiceCollection services = new();
        services.AddFunnel();
        services.AddFunnelSequences();
        services.AddFunnelPostgreSql("Host=127.0.0.1;Database=unused");
        using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<ISendOutbox>().EventLog.ShouldNotBeNull().ShouldBeSameAs(provider.GetRequiredService<IFunnelEventLog>());
        provider.GetRequiredService<IFunnelEventLog>().ShouldBeOfType<PgFunnelEventLog>();
    }

    [Fact]
    public async Task Outbox_LogOfAnotherSchema_KeepsItsEventsInTheOutbox()
    {
        PgDatabase database = await _schemas.CreateAsync();
        PgDatabase other = await _schemas.CreateAsync();

        new PgSendOutbox(database, SequenceStoreKit.Serializer, SystemClock.Instance, new PgFunnelEventLog(other, SequenceStoreKit.Serializer)).EventLog.ShouldBeNull();
        new PgSendOutbox(database, SequenceStoreKit.Serializer, SystemClock.Instance, new InMemoryFunnelEventLog()).EventLog.ShouldBeNull();
    }

    /// <summary>
    /// A reader that follows the log by position (as the pipeline does) must never step over an event that commits
    /// later with a lower position: the outbox's inserts take the log's lock like appends, so positions commit in order.
    /// </summary>
    [Fact]
    public async Task LogAppendsAndOutboxUpdatesAtOnce_AReaderFollowingThePositionsMissesNothing()
    {
        (PgSendOutbox outbox, PgFunnelEventLog log) = await CreateAsync();
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
                FunnelEvent e = new PageViewed { LeadId = Lead("p" + w), OccurredAt = Now, Page = "/p" + r };
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

    [Fact]
    public void SequenceEngine_OutboxWritingIntoAnotherLog_IsRefusedNamingBoth()
    {
        ServiceCollection services = new();
        services.AddFunnel();
        services.AddFunnelSequences();
        services.AddFunnelPostgreSql("Host=127.0.0.1;Database=unused");
        services.AddSingleton<IEmailSender>(new NoSender());
        using ServiceProvider provider = services.BuildServiceProvider();

        ArgumentException error = Should.Throw<ArgumentException>(() => new SequenceEngine(new SequenceEngineSettings
        {
            Definitions = [GuideSequences.Nurture],
            Enrolments = provider.GetRequiredService<IEnrolmentStore>(),
            Outbox = provider.GetRequiredService<ISendOutbox>(),
            Leads = provider.GetRequiredService<Leads.ILeadStore>(),
            Sender = new NoSender(),
            EventLog = new InMemoryFunnelEventLog(),
            Clock = SystemClock.Instance,
        }));

        error.Message.ShouldContain("PgSendOutbox");
        error.Message.ShouldContain("PgFunnelEventLog");
        error.Message.ShouldContain("InMemoryFunnelEventLog");
        provider.GetRequiredService<SequenceEngine>().ShouldNotBeNull(); // the registered engine shares the outbox's log.
    }

    private async Task<(PgSendOutbox Outbox, PgFunnelEventLog Log)> CreateAsync()
    {
        PgDatabase database = await _schemas.CreateAsync();
        PgFunnelEventLog log = new(database, SequenceStoreKit.Serializer);
        PgSendOutbox outbox = new(database, SequenceStoreKit.Serializer, SystemClock.Instance, log);
        outbox.EventLog.ShouldBeSameAs(log);
        return (outbox, log);
    }

    private static OutboxEntry Sent(OutboxEntry claimed) => claimed with
    {
        Outcome = SendState.Sent,
        Events = [new EmailSent { LeadId = claimed.LeadId, OccurredAt = Now, Email = claimed.Key }],
    };

    private static LeadId Lead(string key) => new(new Guid(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)).AsSpan(0, 16)));

    private static OutboxEntry Entry(string key, Instant due) => new()
    {
        Key = key,
        Enrolment = EnrolmentId.New(),
        LeadId = Lead(key),
        Sequence = "nurture",
        StepIndex = 0,
        ScheduledFor = due,
        DueAt = due,
    };

    private sealed class NoSender : IEmailSender
    {
        public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default) => Task.FromResult(EmailSendResult.Sent());
    }
}
