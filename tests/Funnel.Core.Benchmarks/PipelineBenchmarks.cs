using BenchmarkDotNet.Attributes;
using Funnel.Email;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Benchmarks;

/// <summary>
/// The event pipeline in memory: append a day of the guide's traffic (1,000 leads: 8 page views, an opt-in and its
/// consent each, 10,000 events) to the event log, then deliver every event to every handler the packages ship
/// (sequences enrol the guide's nurture and welcome; lifecycle, scoring, segments, affiliates, referrals and the rest
/// as registered by their <c>Add…</c> methods), until every handler is caught up. Reported per event.
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private const int Leads = 1_000;
    private static readonly Instant Start = Instant.FromUtc(2026, 12, 1, 8, 0);
    private ServiceProvider _services = null!;
    private FunnelEvent[] _events = [];

    /// <summary>Builds a fresh app (in-memory stores) and the events, outside the measurement.</summary>
    [IterationSetup]
    public void Setup()
    {
        _services = new ServiceCollection()
            .AddFunnel()
            .AddSingleton<IClock>(new FakeClock(Start + Duration.FromHours(1)))
            .AddSingleton<IEmailSender>(new RecordingEmailSender())
            .AddSingleton(GuideSequences.Nurture)
            .AddSingleton(GuideSequences.Welcome)
            .AddFunnelSequences()
            .AddFunnelCommerce()
            .AddFunnelAdvocacy()
            .BuildServiceProvider();
        List<FunnelEvent> events = new(Leads * 10);
        for (int i = 0; i < Leads; i++)
        {
            LeadId lead = new(new Guid(i + 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
            Instant at = Start + Duration.FromSeconds(i);
            for (int v = 0; v < 8; v++)
            {
                events.Add(new PageViewed { LeadId = lead, OccurredAt = at + Duration.FromSeconds(v), Page = "/blog/" + v });
            }

            events.Add(new OptedIn { LeadId = lead, OccurredAt = at + Duration.FromSeconds(9), Magnet = GuideSequences.Magnet });
            events.Add(new Funnel.Leads.ConsentRecorded
            {
                LeadId = lead, OccurredAt = at + Duration.FromSeconds(9), Purpose = "marketing-email",
                Status = Funnel.Leads.ConsentStatus.Granted, Method = Funnel.Leads.ConsentMethod.SingleOptIn, Source = GuideSequences.Magnet,
            });
        }

        _events = [.. events];
    }

    /// <summary>Disposes the app of the iteration.</summary>
    [IterationCleanup]
    public void Cleanup() => _services.Dispose();

    /// <summary>Appends the 10,000 events and delivers them to every shipped handler.</summary>
    /// <returns>The deliveries made.</returns>
    [Benchmark(OperationsPerInvoke = Leads * 10)]
    public int AppendAndDeliver()
    {
        IFunnelEventLog log = _services.GetRequiredService<IFunnelEventLog>();
        log.AppendAsync(_events).GetAwaiter().GetResult();
        PipelineDelivery delivery = _services.GetRequiredService<FunnelPipeline>().DeliverAllAsync().GetAwaiter().GetResult();
        return delivery.Failures.IsEmpty ? delivery.Delivered : throw new InvalidOperationException(delivery.Failures[0].Error.ToString());
    }
}
