using Funnel.Events;
using Funnel.Samples.EbookMasterclass;

namespace Funnel.Tests.Sequences;

public class SequenceSampleTests
{
    [Fact]
    public async Task RunAsync_TheLaunch_NurturesEveryLeadAndWelcomesEveryBuyer()
    {
        IReadOnlyList<FunnelEvent> events = MasterclassScenario.GenerateEvents(new ScenarioOptions());
        int buyers = events.OfType<OrderPlaced>().Select(o => o.LeadId).Distinct().Count();

        IReadOnlyList<SequenceSummary> summaries = await SequenceSimulation.RunAsync(events);

        SequenceSummary nurture = summaries.Single(s => s.Sequence == "guide-nurture");
        nurture.Enrolled.ShouldBe(5_000);
        (nurture.Exited + nurture.Completed).ShouldBe(5_000);
        nurture.Exited.ShouldBeInRange(1, buyers);
        nurture.Sent.ShouldBeLessThan(5_000 * 7);
        nurture.Sent.ShouldBeGreaterThanOrEqualTo((5_000 - nurture.Exited) * 7);
        SequenceSummary welcome = summaries.Single(s => s.Sequence == "masterclass-welcome");
        welcome.ShouldBe(new SequenceSummary("masterclass-welcome", buyers, buyers * 5, 0, buyers));
    }
}
