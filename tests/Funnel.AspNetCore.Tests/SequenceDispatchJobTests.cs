using Funnel.Pipeline;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Funnel.Definitions;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Payments;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.AspNetCore.Tests;

public sealed class SequenceDispatchJobTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly LeadMagnet Checklist = new() { Key = "dispatch-test-checklist", Title = "Checklist", Kind = LeadMagnetKind.Guide };

    [Fact]
    public async Task RunAsync_DueWelcomeEmail_SendsItAndRecordsEmailSentInTheSinkAndTheMeter()
    {
        var sends = new ConcurrentBag<(string Outcome, string? Email)>();
        using MeterListener listener = ListenToSends(sends);
        var sender = new RecordingSender();
        using ServiceProvider provider = Services(sender).AddFunnelSequenceDispatcher(TimeSpan.FromSeconds(5)).BuildServiceProvider();
        await OptInAsync(provider, "linus@example.com");
        SequenceDispatchJob job = provider.GetServices<IFunnelJob>().OfType<SequenceDispatchJob>().ShouldHaveSingleItem();

        var traces = new ConcurrentBag<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == FunnelDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = traces.Add,
        };
        ActivitySource.AddActivityListener(activities);
        await job.RunAsync();

        job.Interval.ShouldBe(TimeSpan.FromSeconds(5));
        sender.Messages.ShouldHaveSingleItem().Subject.ShouldBe("Welcome to the checklist");
        EmailSent sent = provider.GetRequiredService<InMemoryFunnelEventSink>().Snapshot().OfType<EmailSent>().ShouldHaveSingleItem();
        sent.Email.ShouldBe("dispatch-test-welcome-1");
        sends.ShouldContain(("sent", "dispatch-test-welcome-1"));
        traces.ShouldContain(a => a.OperationName == "funnel.sequence.dispatch" && (int?)a.GetTagItem("funnel.sent") == 1);
    }

    [Fact]
    public async Task RunAsync_NothingDue_SendsNothingAndRecordsNothing()
    {
        var sender = new RecordingSender();
        using ServiceProvider provider = Services(sender).AddFunnelSequenceDispatcher().BuildServiceProvider();

        await provider.GetServices<IFunnelJob>().OfType<SequenceDispatchJob>().Single().RunAsync();

        sender.Messages.ShouldBeEmpty();
        provider.GetRequiredService<InMemoryFunnelEventSink>().Snapshot().ShouldBeEmpty();
    }

    [Fact]
    public async Task RunAsync_UnsubscribedLead_RecordsTheSuppressionNotASend()
    {
        var sends = new ConcurrentBag<(string Outcome, string? Email)>();
        using MeterListener listener = ListenToSends(sends);
        var sender = new RecordingSender();
        using ServiceProvider provider = Services(sender).AddFunnelSequenceDispatcher().BuildServiceProvider();
        LeadProfile lead = await OptInAsync(provider, "ken@example.com");
        ILeadStore leads = provider.GetRequiredService<ILeadStore>();
        LeadProfile stored = (await leads.FindAsync(lead.Id)).ShouldNotBeNull();
        (await leads.TryUpdateAsync(stored, stored.ApplySuppression(new EmailUnsubscribed { LeadId = lead.Id, OccurredAt = Start, Email = "x" }))).ShouldBeTrue();

        await provider.GetServices<IFunnelJob>().OfType<SequenceDispatchJob>().Single().RunAsync();

        sender.Messages.ShouldBeEmpty();
        provider.GetRequiredService<InMemoryFunnelEventSink>().Snapshot().OfType<EmailSuppressed>().ShouldHaveSingleItem().Reason.ShouldBe("unsubscribed");
        sends.ShouldContain(("suppressed", "dispatch-test-welcome-1"));
    }

    [Fact]
    public void AddFunnelSequenceDispatcher_CalledTwice_RegistersOneJobWithTheLastInterval()
    {
        var services = new ServiceCollection().AddLogging().AddFunnelAspNetCore(o => o.LeadMagnets.Add(Checklist));

        services.AddFunnelSequenceDispatcher(TimeSpan.FromSeconds(1)).AddFunnelSequenceDispatcher(TimeSpan.FromSeconds(30));

        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetServices<IFunnelJob>().OfType<SequenceDispatchJob>().ShouldHaveSingleItem().Interval.ShouldBe(TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void AddFunnelSequenceDispatcher_IntervalNotPositive_ThrowsNamingIt(int seconds)
    {
        var services = new ServiceCollection();

        Should.Throw<ArgumentOutOfRangeException>(() => services.AddFunnelSequenceDispatcher(TimeSpan.FromSeconds(seconds))).ParamName.ShouldBe("interval");
    }

    [Theory]
    [InlineData("")]
    [InlineData("Stripe")]
    [InlineData("pay pal")]
    [InlineData("../x")]
    public void AddFunnelPaymentWebhooks_BadProviderName_ThrowsNamingIt(string provider)
    {
        var services = new ServiceCollection();

        Should.Throw<ArgumentException>(() => services.AddFunnelPaymentWebhooks(provider)).ParamName.ShouldBe("provider");
    }

    [Fact]
    public void AddFunnelPaymentWebhooks_CalledTwice_RegistersOneProcessorAndOneRetryJob()
    {
        var services = new ServiceCollection().AddLogging().AddFunnelAspNetCore(o => o.LeadMagnets.Add(Checklist));
        var gateway = new InMemoryPaymentGateway(new FakeClock(Start));
        services.AddSingleton<IPaymentGateway>(gateway).AddSingleton(gateway.Verifier);

        services.AddFunnelPaymentWebhooks("stripe").AddFunnelPaymentWebhooks("stripe");

        services.Count(d => d.IsKeyedService && d.ServiceType == typeof(WebhookProcessor) && Equals(d.ServiceKey, "stripe")).ShouldBe(1);
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetKeyedService<WebhookProcessor>("paddle").ShouldBeNull();
        provider.GetServices<IFunnelJob>().Count(j => j.Name == "webhook-retry:stripe").ShouldBe(1);
    }

    private static IServiceCollection Services(RecordingSender sender)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<IClock>(new FakeClock(Start));
        services.AddSingleton<IEmailSender>(sender);
        services.AddSingleton(new SequenceDefinition
        {
            Key = "dispatch-test-welcome",
            Triggers = [EventMatch.For(EventTypes.OptedIn, Checklist.Key)],
            Steps = [new SequenceStep { Key = "dispatch-test-welcome-1", Timing = StepTiming.AfterEnrolment, Subject = "Welcome to the checklist", TextBody = "Hello {{ email }}" }],
        });
        return services.AddFunnelAspNetCore(o => o.LeadMagnets.Add(Checklist));
    }

    private static async Task<LeadProfile> OptInAsync(IServiceProvider provider, string email)
    {
        OptInResult result = await provider.GetRequiredService<LeadCapture>().OptInAsync(new OptInRequest { Email = email, Magnet = Checklist });
        SequenceEngine engine = provider.GetRequiredService<SequenceEngine>();
        foreach (LeadEvent e in result.Events)
        {
            await engine.HandleAsync(e);
        }

        return result.Lead;
    }

    private static MeterListener ListenToSends(ConcurrentBag<(string Outcome, string? Email)> sends)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == FunnelDiagnostics.MeterName && instrument.Name == "funnel.email.sends")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            Dictionary<string, object?> t = tags.ToArray().ToDictionary(x => x.Key, x => x.Value);
            sends.Add(((string)t["funnel.outcome"]!, (string?)t["funnel.email"]));
        });
        listener.Start();
        return listener;
    }

    private sealed class RecordingSender : IEmailSender
    {
        public ConcurrentQueue<EmailMessage> Messages { get; } = new();

        public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default)
        {
            Messages.Enqueue(message);
            return Task.FromResult(EmailSendResult.Sent());
        }
    }
}
