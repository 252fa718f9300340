using Funnel.Email;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Tests.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Pipeline;

/// <summary>The outbox retention job that <c>AddFunnelSequenceDispatcher</c> registers.</summary>
public sealed class OutboxRetentionJobTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 6, 1, 12, 0);

    [Fact]
    public async Task RunAsync_EntriesCompletedBeforeTheRetention_PurgesOnlyThoseInBatchesOfAThousand()
    {
        StoreCalls calls = new();
        InMemorySendOutbox outbox = new();
        using ServiceProvider provider = Services(outbox, calls).AddFunnelSequenceDispatcher().BuildServiceProvider();
        await AddAsync(outbox, 2500, SendState.Sent, completedAt: Now - Duration.FromDays(31));
        await AddAsync(outbox, 10, SendState.Suppressed, completedAt: Now - Duration.FromDays(29));
        await AddAsync(outbox, 10, SendState.Pending, completedAt: null);
        OutboxRetentionJob job = provider.GetServices<IFunnelJob>().OfType<OutboxRetentionJob>().ShouldHaveSingleItem();

        await job.RunAsync();

        calls.Sizes("Outbox.PurgeCompleted").ShouldBe([1000, 1000, 1000]); // the third came back short: done
        outbox.Count.ShouldBe(20);
        outbox.Snapshot().ShouldNotContain(e => e.State == SendState.Sent);
        job.Name.ShouldBe("sequence-outbox-retention");
        job.Interval.ShouldBe(TimeSpan.FromHours(1));
    }

    [Fact]
    public async Task RunAsync_ConfiguredRetention_UsesItAsTheCutoff()
    {
        StoreCalls calls = new();
        InMemorySendOutbox outbox = new();
        IServiceCollection services = Services(outbox, calls).AddFunnelSequenceDispatcher();
        services.Configure<SequenceOptions>(o => o.OutboxRetention = Duration.FromDays(7));
        using ServiceProvider provider = services.BuildServiceProvider();
        await AddAsync(outbox, 3, SendState.Sent, completedAt: Now - Duration.FromDays(8));
        await AddAsync(outbox, 2, SendState.Sent, completedAt: Now - Duration.FromDays(6));

        await provider.GetServices<IFunnelJob>().OfType<OutboxRetentionJob>().Single().RunAsync();

        outbox.Count.ShouldBe(2);
    }

    [Fact]
    public void AddFunnelSequenceDispatcher_CalledTwice_RegistersTheRetentionJobOnce()
    {
        IServiceCollection services = Services(new InMemorySendOutbox(), new StoreCalls()).AddFunnelSequenceDispatcher().AddFunnelSequenceDispatcher();

        using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetServices<IFunnelJob>().OfType<OutboxRetentionJob>().ShouldHaveSingleItem();
    }

    private static async Task AddAsync(InMemorySendOutbox outbox, int count, SendState state, Instant? completedAt)
    {
        for (int i = 0; i < count; i++)
        {
            EnrolmentId enrolment = EnrolmentId.New();
            Instant due = completedAt ?? Now;
            (await outbox.TryAddAsync(new OutboxEntry
            {
                Key = OutboxEntry.KeyOf(enrolment, "step-1"),
                Enrolment = enrolment,
                LeadId = LeadId.New(),
                Sequence = "retention",
                StepIndex = 0,
                ScheduledFor = due - Duration.FromDays(30),
                DueAt = due - Duration.FromDays(30),
                State = state,
                CompletedAt = completedAt,
            })).ShouldBeTrue();
        }
    }

    private static IServiceCollection Services(InMemorySendOutbox outbox, StoreCalls calls)
    {
        FakeClock clock = new(Now);
        ServiceCollection services = new();
        services.AddSingleton<IClock>(clock);
        services.AddSingleton<IEmailSender>(new RecordingSender(clock));
        services.AddSingleton<ISendOutbox>(new ProbedOutbox(outbox, calls));
        return services.AddFunnelSequences();
    }
}
