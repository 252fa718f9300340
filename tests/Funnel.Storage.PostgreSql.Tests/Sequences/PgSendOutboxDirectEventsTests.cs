using Funnel.Email;
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
/// (<see cref="PgSendOutboxEventLogConformanceTests"/>): registration, which logs it writes into, and the engine's check.
/// </summary>
public sealed class PgSendOutboxDirectEventsTests : IAsyncDisposable
{
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

    private sealed class NoSender : IEmailSender
    {
        public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default) => Task.FromResult(EmailSendResult.Sent());
    }
}
