using System.Collections.Concurrent;
using System.Diagnostics;
using Funnel.Definitions;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Tests.Sequences;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Pipeline;

/// <summary>The dispatcher job of <c>AddFunnelSequenceDispatcher</c> (moved here from Funnel.AspNetCore: any host runs it).</summary>
public sealed class SequenceDispatchJobTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 2, 9, 0);

    private static readonly SequenceDefinition Welcome = new()
    {
        Key = "dispatch-test-welcome",
        Triggers = [EventMatch.For(EventTypes.OptedIn, "dispatch-test-checklist")],
        IsMarketing = false,
        Steps = [new SequenceStep { Key = "dispatch-test-welcome-1", Timing = StepTiming.AfterEnrolment, Subject = "Welcome to the checklist", TextBody = "Hello {{ email }}" }],
    };

    [Fact]
    public async Task RunAsync_DueWelcomeEmail_SendsItAndTheEngineRecordsEmailSentInTheLog()
    {
        FakeClock clock = new(Start);
        RecordingSender sender = new(clock);
        using ServiceProvider provider = Services(clock, sender).AddFunnelSequenceDispatcher(TimeSpan.FromSeconds(5)).BuildServiceProvider();
        LeadProfile lead = await SequencePipelineTests.AddLeadAsync(provider, ConsentStatus.Granted);
        await SequencePipelineTests.AppendAndDeliverAsync(provider, [new OptedIn { LeadId = lead.Id, OccurredAt = Start, Magnet = "dispatch-test-checklist" }]);
        SequenceDispatchJob job = provider.GetServices<IFunnelJob>().OfType<SequenceDispatchJob>().ShouldHaveSingleItem();
        ConcurrentBag<Activity> traces = [];
        using ActivityListener activities = new()
        {
            ShouldListenTo = s => s.Name == "Funnel",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = traces.Add,
        };
        ActivitySource.AddActivityListener(activities);

        await job.RunAsync();

        job.Name.ShouldBe("sequence-dispatch");
        job.Interval.ShouldBe(TimeSpan.FromSeconds(5));
        sender.Sent.ShouldHaveSingleItem().Message.Subject.ShouldBe("Welcome to the checklist");
        provider.GetRequiredService<InMemoryFunnelEventLog>().Snapshot().OfType<EmailSent>().ShouldHaveSingleItem().Email.ShouldBe("dispatch-test-welcome-1");
        traces.ShouldContain(a => a.OperationName == "funnel.sequence.dispatch" && (int?)a.GetTagItem("funnel.sent") == 1);
    }

    [Fact]
    public async Task RunAsync_MoreDueThanOneBatch_DispatchesBatchAfterBatchUntilOneClaimsNothing()
    {
        FakeClock clock = new(Start);
        RecordingSender sender = new(clock);
        IServiceCollection services = Services(clock, sender).AddFunnelSequenceDispatcher();
        services.Configure<SequenceOptions>(o => o.BatchSize = 2);
        using ServiceProvider provider = services.BuildServiceProvider();
        for (int i = 0; i < 5; i++)
        {
            LeadProfile lead = await SequencePipelineTests.AddLeadAsync(provider, ConsentStatus.Granted, $"batch{i}@example.com");
            await SequencePipelineTests.AppendAndDeliverAsync(provider, [new OptedIn { LeadId = lead.Id, OccurredAt = Start, Magnet = "dispatch-test-checklist" }]);
        }

        ConcurrentBag<Activity> traces = [];
        using ActivityListener activities = new()
        {
            ShouldListenTo = s => s.Name == "Funnel",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = traces.Add,
        };
        ActivitySource.AddActivityListener(activities);

        await provider.GetServices<IFunnelJob>().OfType<SequenceDispatchJob>().Single().RunAsync();

        sender.Sent.Count.ShouldBe(5);
        traces.ShouldContain(a => a.OperationName == "funnel.sequence.dispatch" && (int?)a.GetTagItem("funnel.batches") == 4 && (int?)a.GetTagItem("funnel.sent") == 5);
    }

    [Fact]
    public async Task RunAsync_NothingDue_SendsNothingAndRecordsNothing()
    {
        FakeClock clock = new(Start);
        RecordingSender sender = new(clock);
        using ServiceProvider provider = Services(clock, sender).AddFunnelSequenceDispatcher().BuildServiceProvider();

        await provider.GetServices<IFunnelJob>().OfType<SequenceDispatchJob>().Single().RunAsync();

        sender.Sent.ShouldBeEmpty();
        provider.GetRequiredService<InMemoryFunnelEventLog>().Snapshot().ShouldBeEmpty();
    }

    [Fact]
    public async Task RunAsync_UnsubscribedLead_RecordsTheSuppressionNotASend()
    {
        FakeClock clock = new(Start);
        RecordingSender sender = new(clock);
        using ServiceProvider provider = Services(clock, sender).AddFunnelSequenceDispatcher().BuildServiceProvider();
        LeadProfile lead = await SequencePipelineTests.AddLeadAsync(provider, ConsentStatus.Granted);
        await SequencePipelineTests.AppendAndDeliverAsync(provider, [new OptedIn { LeadId = lead.Id, OccurredAt = Start, Magnet = "dispatch-test-checklist" }]);
        ILeadStore leads = provider.GetRequiredService<ILeadStore>();
        LeadProfile stored = (await leads.FindAsync(lead.Id)).ShouldNotBeNull();
        (await leads.TryUpdateAsync(stored, stored.ApplySuppression(new EmailUnsubscribed { LeadId = lead.Id, OccurredAt = Start, Email = "x" }))).ShouldBeTrue();

        await provider.GetServices<IFunnelJob>().OfType<SequenceDispatchJob>().Single().RunAsync();

        sender.Sent.ShouldBeEmpty();
        provider.GetRequiredService<InMemoryFunnelEventLog>().Snapshot().OfType<EmailSuppressed>().ShouldHaveSingleItem().Reason.ShouldBe("unsubscribed");
    }

    [Fact]
    public void AddFunnelSequenceDispatcher_CalledTwice_RegistersOneJobWithTheLastInterval()
    {
        IServiceCollection services = Services(new FakeClock(Start), new RecordingSender(new FakeClock(Start)));

        services.AddFunnelSequenceDispatcher(TimeSpan.FromSeconds(1)).AddFunnelSequenceDispatcher(TimeSpan.FromSeconds(30));

        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetServices<IFunnelJob>().OfType<SequenceDispatchJob>().ShouldHaveSingleItem().Interval.ShouldBe(TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void AddFunnelSequenceDispatcher_IntervalNotPositive_ThrowsNamingIt(int seconds)
    {
        ServiceCollection services = new();

        Should.Throw<ArgumentOutOfRangeException>(() => services.AddFunnelSequenceDispatcher(TimeSpan.FromSeconds(seconds))).ParamName.ShouldBe("interval");
    }

    [Fact]
    public void AddFunnelSequenceDispatcher_NoEmailSender_FailsAtStartNamingAddFunnelSmtp()
    {
        ServiceCollection services = new();
        services.AddFunnelSequenceDispatcher();
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FunnelOptions>>().Value);

        error.Message.ShouldContain("AddFunnelSequenceDispatcher()");
        error.Message.ShouldContain("IEmailSender");
        error.Message.ShouldContain("AddFunnelSmtp");
    }

    [Fact]
    public void AddFunnelSequenceDispatcher_WithAnEmailSender_StartsWithoutAPrerequisiteError()
    {
        using ServiceProvider provider = Services(new FakeClock(Start), new RecordingSender(new FakeClock(Start))).AddFunnelSequenceDispatcher().BuildServiceProvider();

        Should.NotThrow(() => provider.GetRequiredService<IOptions<FunnelOptions>>().Value);
    }

    private static IServiceCollection Services(FakeClock clock, IEmailSender sender)
    {
        ServiceCollection services = new();
        services.AddSingleton<IClock>(clock);
        services.AddSingleton(sender);
        services.AddSingleton<InMemoryFunnelEventLog>();
        services.AddSingleton<IFunnelEventLog>(sp => sp.GetRequiredService<InMemoryFunnelEventLog>());
        services.AddSingleton(Welcome);
        return services.AddFunnelSequences();
    }
}
