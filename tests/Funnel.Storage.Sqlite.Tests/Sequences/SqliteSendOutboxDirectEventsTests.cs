using System.Collections.Immutable;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Storage.Sqlite.Core;
using Funnel.Storage.Sqlite.Internal;
using Funnel.Storage.Sqlite.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Storage.Sqlite.Tests.Sequences;

/// <summary>The outbox with the SQLite event log of its database: an update's events go straight into the log, in the update's work item.</summary>
public sealed class SqliteSendOutboxDirectEventsTests : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly Duration Lease = Duration.FromMinutes(5);
    private readonly SqliteDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    [Fact]
    public void AddFunnelSqlite_OutboxWritesIntoTheRegisteredLog()
    {
        ServiceCollection services = new();
        services.AddFunnel();
        services.AddFunnelSequences();
        services.AddFunnelSqlite("Data Source=" + SqliteTestDatabase.NewPath());
        using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<ISendOutbox>().EventLog.ShouldNotBeNull().ShouldBeSameAs(provider.GetRequiredService<IFunnelEventLog>());
    }

    [Fact]
    public void Outbox_LogOfAnotherDatabase_KeepsItsEventsInTheOutbox()
    {
        SqliteDatabase database = _databases.Create();
        SqliteDatabase other = _databases.Create();

        new SqliteSendOutbox(database, SequenceStoreKit.Serializer, new SqliteFunnelEventLog(other, SequenceStoreKit.Serializer)).EventLog.ShouldBeNull();
        new SqliteSendOutbox(database, SequenceStoreKit.Serializer, new InMemoryFunnelEventLog()).EventLog.ShouldBeNull();
    }

    [Fact]
    public async Task TryUpdateManyAsync_WinnersAndALoser_OnlyTheWinnersEventsAreLoggedInOrderAndNoneKept()
    {
        (SqliteSendOutbox outbox, SqliteFunnelEventLog log) = Create();
        OutboxEntry[] claimed = await ClaimAsync(outbox, "a", "b", "c");
        OutboxEntry stale = claimed[2] with { Version = claimed[2].Version - 1 };

        (await outbox.TryUpdateManyAsync([(claimed[1], Sent(claimed[1])), (stale, Sent(claimed[2])), (claimed[0], Sent(claimed[0]))])).ShouldBe(["b", "a"]);

        IReadOnlyList<LoggedEvent> logged = await log.ReadAsync(0, 100);
        logged.Select(e => ((EmailSent)e.Event).Email).ShouldBe(["b", "a"]);
        logged.Select(e => e.Position).ShouldBe([1L, 2L]);
        (await outbox.ClaimEventsAsync(Now + Lease, 100, Lease)).ShouldBeEmpty();
    }

    [Fact]
    public async Task TryUpdateAsync_AnEventAlreadyLogged_IsLoggedOnceAndSpendsNoPosition()
    {
        (SqliteSendOutbox outbox, SqliteFunnelEventLog log) = Create();
        OutboxEntry claimed = (await ClaimAsync(outbox, "a")).Single();
        OutboxEntry outcome = Sent(claimed);
        FunnelEvent second = new EmailSent { LeadId = claimed.LeadId, OccurredAt = Now, Email = "a-again" };
        await log.AppendAsync([outcome.Events[0]]);

        (await outbox.TryUpdateAsync(claimed, outcome with { Events = [outcome.Events[0], second] })).ShouldBeTrue();

        (await log.ReadAsync(0, 100)).Select(e => (e.Position, e.Event.Id)).ShouldBe([(1L, outcome.Events[0].Id), (2L, second.Id)]);
    }

    [Fact]
    public async Task DispatchDueAsync_ThroughAddFunnelSqlite_TheSendsEventIsInTheLogOnceAndInTheResult()
    {
        ServiceCollection services = new();
        FakeClock clock = new(Now);
        services.AddSingleton<IClock>(clock);
        services.AddFunnel(o => o.TimeZoneId = "Europe/Berlin");
        services.AddFunnelSequences();
        services.AddSingleton<IEmailSender>(new NoSender());
        services.AddSingleton(GuideSequences.Nurture);
        services.AddFunnelSqlite("Data Source=" + SqliteTestDatabase.NewPath());
        await using ServiceProvider provider = services.BuildServiceProvider();
        LeadId lead = new(Guid.NewGuid());
        await provider.GetRequiredService<ILeadStore>().TryAddAsync(new LeadProfile
        {
            Id = lead,
            Email = EmailAddress.Parse("ada@example.com"),
            CreatedAt = Now,
            TimeZoneId = "Europe/Berlin",
            Consent = new ConsentRecord { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "test", RecordedAt = Now },
            CustomFields = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("first_name", "Ada"),
        });
        SequenceEngine engine = provider.GetRequiredService<SequenceEngine>();
        await engine.EnrolAsync(lead, GuideSequences.Nurture.Key, Now);
        clock.Advance(Duration.FromMinutes(1));
        IFunnelEventLog log = provider.GetRequiredService<IFunnelEventLog>();
        long before = (await log.ReadAsync(0, 1000)).Count;

        DispatchResult first = await engine.DispatchDueAsync();
        DispatchResult second = await engine.DispatchDueAsync();

        first.Sent.ShouldBe(1);
        EmailSent sent = first.Events.OfType<EmailSent>().ShouldHaveSingleItem();
        second.Events.ShouldBeEmpty();
        IReadOnlyList<LoggedEvent> logged = [.. (await log.ReadAsync(0, 1000)).Skip((int)before)];
        logged.Select(e => e.Event.Id).ShouldBe(first.Events.Select(e => e.Id));
        logged.Select(e => e.Event).OfType<EmailSent>().ShouldHaveSingleItem().Id.ShouldBe(sent.Id);
    }

    private (SqliteSendOutbox Outbox, SqliteFunnelEventLog Log) Create()
    {
        SqliteDatabase database = _databases.Create();
        SqliteFunnelEventLog log = new(database, SequenceStoreKit.Serializer);
        SqliteSendOutbox outbox = new(database, SequenceStoreKit.Serializer, log);
        outbox.EventLog.ShouldBeSameAs(log);
        return (outbox, log);
    }

    private static async Task<OutboxEntry[]> ClaimAsync(SqliteSendOutbox outbox, params string[] keys)
    {
        await outbox.TryAddManyAsync([.. keys.Select(k => Entry(k))]);
        Dictionary<string, OutboxEntry> claimed = (await outbox.ClaimDueAsync(Now, keys.Length, Lease, "d1")).ToDictionary(e => e.Key);
        return [.. keys.Select(k => claimed[k])];
    }

    private static OutboxEntry Sent(OutboxEntry claimed) => claimed with
    {
        Outcome = SendState.Sent,
        Events = [new EmailSent { LeadId = claimed.LeadId, OccurredAt = Now, Email = claimed.Key }],
    };

    private static OutboxEntry Entry(string key) => new()
    {
        Key = key,
        Enrolment = EnrolmentId.New(),
        LeadId = new LeadId(Guid.NewGuid()),
        Sequence = "nurture",
        StepIndex = 0,
        ScheduledFor = Now,
        DueAt = Now,
    };

    private sealed class NoSender : IEmailSender
    {
        public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default) => Task.FromResult(EmailSendResult.Sent());
    }
}
