using Funnel.Events;
using Funnel.Kpis;
using Funnel.Samples.EbookMasterclass;
using Funnel.Sequences;
using Funnel.Email;
using NodaTime;

namespace Funnel.Tests.Sequences;

public class SequenceReportTests
{
    [Fact]
    public async Task CreateReport_DispatchEvents_CountsSentFailedAndSuppressedMessagesOnce()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock)
        {
            Script = (_, m) => m.To.Value.StartsWith("lead2@", StringComparison.Ordinal) ? EmailSendResult.Permanent("550 no such user") : null,
        };
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture], new SequenceOptions { MaxAttempts = 2 });
        List<FunnelEvent> events = [];
        for (int i = 1; i <= 3; i++)
        {
            var lead = await world.AddLeadAsync(i, consent: i == 3 ? Funnel.Leads.ConsentStatus.Withdrawn : Funnel.Leads.ConsentStatus.Granted);
            events.Add(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
            events.AddRange(await engine.HandleAsync(events[^1]));
        }

        events.AddRange(await world.RunUntilAsync(engine, SequenceWorld.Start + Duration.FromDays(10), Duration.FromHours(1)));

        FunnelReport report = new FunnelReporter(new FunnelReportSettings { Sections = [SequenceEmailMetrics.ReportSection] })
            .CreateReport(MasterclassScenario.Funnel, events);

        report.Email.Sent.ShouldBe(7);
        report.Section<SequenceEmailMetrics>().ShouldBe(new SequenceEmailMetrics(FailedPermanently: 7, Suppressed: 7));
    }
}
