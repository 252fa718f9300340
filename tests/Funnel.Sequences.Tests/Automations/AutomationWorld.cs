using System.Collections.Immutable;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Tests.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Automations;

/// <summary>An app with sequences on the in-memory stores, a fake clock, the pipeline and the dispatcher, run by hand.</summary>
internal sealed class AutomationWorld : IDisposable
{
    public static readonly Instant Start = Instant.FromUtc(2026, 12, 7, 8, 0);

    private readonly ServiceProvider provider;

    public AutomationWorld(SequenceDefinition definition)
        : this([definition])
    {
    }

    public AutomationWorld(
        IEnumerable<SequenceDefinition> definitions,
        Action<IServiceCollection>? configure = null,
        Action<SequenceOptions>? options = null,
        Func<int, EmailMessage, EmailSendResult?>? script = null)
    {
        Clock = new FakeClock(Start);
        Sender = new RecordingSender(Clock) { Script = script };
        ServiceCollection services = new();
        services.AddSingleton<IClock>(Clock);
        services.AddSingleton<IEmailSender>(Sender);
        services.AddSingleton<InMemoryFunnelEventLog>();
        services.AddSingleton<IFunnelEventLog>(sp => sp.GetRequiredService<InMemoryFunnelEventLog>());
        foreach (SequenceDefinition definition in definitions)
        {
            services.AddSingleton(definition);
        }

        services.AddFunnel(o => o.TimeZoneId = "Europe/Berlin");
        services.AddFunnelSequenceDispatcher();
        services.Configure<SequenceOptions>(o => options?.Invoke(o));
        configure?.Invoke(services);
        provider = services.BuildServiceProvider();
        try
        {
            _ = Engine; // validates the definitions now, as the host's start-up does.
        }
        catch
        {
            provider.Dispose();
            throw;
        }
    }

    public FakeClock Clock { get; }

    public RecordingSender Sender { get; }

    public SequenceEngine Engine => provider.GetRequiredService<SequenceEngine>();

    public ISendOutbox Outbox => provider.GetRequiredService<ISendOutbox>();

    public ILeadStore Leads => provider.GetRequiredService<ILeadStore>();

    public IServiceProvider Services => provider;

    public ImmutableArray<FunnelEvent> Events => [.. provider.GetRequiredService<InMemoryFunnelEventLog>().Snapshot()];

    public static LeadId Lead(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9));

    /// <summary>Adds lead n (<c>reader{n}@example.com</c>, Berlin, marketing consent granted).</summary>
    public async Task<LeadId> AddLeadAsync(int n, Func<LeadProfile, LeadProfile>? change = null)
    {
        LeadProfile profile = new()
        {
            Id = Lead(n),
            Email = EmailAddress.Parse($"reader{n}@example.com"),
            CreatedAt = Start,
            Stage = LifecycleStage.Lead,
            TimeZoneId = "Europe/Berlin",
            Consent = new ConsentRecord { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "test", RecordedAt = Start },
        };
        profile = change?.Invoke(profile) ?? profile;
        (await Leads.TryAddAsync(profile)).ShouldBeTrue();
        return profile.Id;
    }

    /// <summary>Enrols a lead now, through the event log (a <c>sequence_enrol_requested</c>), as an automation does.</summary>
    public Task EnrolAsync(LeadId lead, string sequence) =>
        AppendAsync(new SequenceEnrolRequested { LeadId = lead, OccurredAt = Clock.GetCurrentInstant(), Sequence = sequence, RequestedBy = "test" });

    public async Task AppendAsync(FunnelEvent funnelEvent)
    {
        await provider.GetRequiredService<IFunnelEventLog>().AppendAsync([funnelEvent]);
        await RunAsync();
    }

    /// <summary>Delivers the pipeline and dispatches what is due until nothing moves.</summary>
    public async Task RunAsync()
    {
        FunnelPipeline pipeline = provider.GetRequiredService<FunnelPipeline>();
        for (int round = 0; round < 100; round++)
        {
            await pipeline.DeliverAllAsync();
            DispatchResult result = await Engine.DispatchDueAsync();
            if (result.Claimed == 0 && result.Events.IsEmpty)
            {
                await pipeline.DeliverAllAsync();
                return;
            }
        }

        throw new InvalidOperationException("The world did not settle in 100 rounds.");
    }

    /// <summary>Moves the clock forward in steps of 15 minutes, running after each.</summary>
    public async Task RunForAsync(Duration span)
    {
        Instant end = Clock.GetCurrentInstant() + span;
        await RunAsync();
        while (Clock.GetCurrentInstant() < end)
        {
            Clock.Advance(Duration.FromMinutes(15));
            await RunAsync();
        }
    }

    public void Dispose() => provider.Dispose();
}

/// <summary>What the automation tests read from the recording sender.</summary>
internal static class AutomationSenderExtensions
{
    /// <summary>Returns the email keys sent to <c>reader{n}@example.com</c>, in order.</summary>
    public static string[] EmailsTo(this RecordingSender sender, int n) =>
        [.. sender.Sent.Where(s => s.Message.To.Value == $"reader{n}@example.com").Select(s => s.Message.EmailKey!)];
}
