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
        // Day 3's branch: every enrolment still active then took one path, and about 42 % of leads open an email.
        BranchSummary branch = nurture.Branches.ShouldHaveSingleItem();
        branch.Step.ShouldBe("opened-guide");
        int openedGuide = events.OfType<EmailOpened>().Where(o => o.Email == "nurture-1").Select(o => o.LeadId).Distinct().Count();
        branch.Then.ShouldBeInRange(openedGuide - nurture.Exited, openedGuide);
        (branch.Then + branch.Else).ShouldBeInRange(5_000 - nurture.Exited, 5_000);
        ((double)branch.Then / (branch.Then + branch.Else)).ShouldBeInRange(0.35, 0.55);
        SequenceSummary welcome = summaries.Single(s => s.Sequence == "masterclass-welcome");
        (welcome.Enrolled, welcome.Sent, welcome.Exited, welcome.Completed).ShouldBe((buyers, buyers * 5, 0, buyers));
        welcome.Branches.ShouldBeEmpty();
    }
}

public class WebinarPromotionSampleTests
{
    [Fact]
    public async Task RunAsync_TheLaunch_PromotesTheWebinarToEveryLeadWhoDidNotBuyAtTenLocal()
    {
        ScenarioOptions options = new();
        IReadOnlyList<FunnelEvent> events = MasterclassScenario.GenerateEvents(options);
        HashSet<LeadId> buyers = [.. events.OfType<OrderPlaced>().Select(o => o.LeadId)];
        int list = events.OfType<OptedIn>().Select(o => o.LeadId).Distinct().Count(l => !buyers.Contains(l));

        WebinarPromotionSummary summary = await WebinarPromotion.RunAsync(events, options);

        summary.Audience.ShouldBe(list);
        (summary.Metrics.Email.Sent + summary.Metrics.Suppressed).ShouldBe(list);
        summary.Metrics.Suppressed.ShouldBeInRange(list / 100, list / 10); // 3 % unsubscribed during the launch
        summary.Metrics.FailedPermanently.ShouldBe(0);
        summary.Metrics.Email.UniqueOpens.ShouldBeLessThanOrEqualTo(summary.Metrics.Email.Sent);
        summary.Metrics.Email.UniqueClicks.ShouldBeLessThanOrEqualTo(summary.Metrics.Email.UniqueOpens);
        // 10:00 in Sydney (UTC+11) comes first, 10:00 in Los Angeles (UTC-8 once summer time ended on 1 November) last,
        // and New York's leads, more than 500, are spread over two minutes.
        summary.FirstSend.ShouldBe(NodaTime.Instant.FromUtc(2026, 10, 31, 23, 0));
        summary.LastSend.ShouldBeInRange(NodaTime.Instant.FromUtc(2026, 11, 1, 18, 0), NodaTime.Instant.FromUtc(2026, 11, 1, 18, 2));
    }
}
