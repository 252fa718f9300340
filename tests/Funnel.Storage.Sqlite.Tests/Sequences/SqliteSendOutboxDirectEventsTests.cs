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

/// <summary>
/// The outbox with the SQLite event log of its database, beyond the shared contract
/// (<see cref="SqliteSendOutboxEventLogConformanceTests"/>): registration, which logs it writes into, and a dispatch
/// through <c>AddFunnelSqlite</c>.
/// </summary>
public sealed class SqliteSendOutboxDirectEventsTests : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 2, 9, 0);
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

    private sealed class NoSender : IEmailSender
    {
        public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default) => Task.FromResult(EmailSendResult.Sent());
    }
}
