using Funnel.Analytics.Experiments;
using Funnel.Samples.EbookMasterclass;

namespace Funnel.Analytics.Tests.Samples;

public class EbookMasterclassAnalyticsTests
{
    [Fact]
    public void Program_PrintsTheWindowedFunnelForecastAndHeadlineTest()
    {
        var output = new StringWriter();

        EbookMasterclassProgram.Run([], output, TextWriter.Null).ShouldBe(0);

        string text = output.ToString();
        text.ShouldContain("(50 sales @ $497)     | $24,850"); // the case study is unchanged
        text.ShouldContain("Ordered funnel, 7-day window");
        text.ShouldContain("| Website visitors      |  50,000 |");
        text.ShouldContain("7-day funnel by channel of the first step");
        text.ShouldContain("| facebook  |");
        text.ShouldContain("| Purchases             | $24,850 |                  $200 | 2.49x |   4.1 d |"); // CAC and ROAS from the events
        text.ShouldContain("| facebook  |   $4,000 | $10,934 | $181.82 | 2.73x |   4.1 d |");
        text.ShouldContain("doubling the ad spend to $20,000");
        text.ShouldContain("|       $49,700 |");
        text.ShouldContain("A/B test 'sales-page-headline'");
        text.ShouldContain("Verdict: ");
        text.ShouldContain("| Normal approximation (GrowthBook), flat prior |        +65.6% | +35.9% to +95.4%      |");
        text.ShouldContain("| purchase            | question-headline | 0.0300 | better (p = 0.0300) | inconclusive (p = 0.0600) | better (p = 0.0400) |");
        text.ShouldContain("Variance reduction: 52.62%");
        text.ShouldContain("| Thompson sampling |                             29.7 | 1.74% / 98.26% |");
    }

    [Fact]
    public void HeadlineTest_UsesTheStickyAssignment_AndIsReproducible()
    {
        var a = AnalyticsPrinter.SimulateHeadlineTest(new ScenarioOptions(), 2_000);
        var b = AnalyticsPrinter.SimulateHeadlineTest(new ScenarioOptions(), 2_000);

        a.ShouldBe(b);
        (a.Control.Visitors + a.Treatment.Visitors).ShouldBe(2_000);
        ExperimentStatistics.SampleRatioMismatch([a.Control.Visitors, a.Treatment.Visitors], [1, 1]).IsMismatch.ShouldBeFalse();
    }

    [Fact]
    public void Verdict_NotSignificant_SaysKeepRunning()
    {
        ConversionTestResult r = ExperimentStatistics.CompareConversions(new ConversionSample(50, 1000), new ConversionSample(52, 1000));

        AnalyticsPrinter.Verdict(r, new SampleRatioCheck(0, 1, 1, false)).ShouldStartWith("no winner yet");
        AnalyticsPrinter.Verdict(r, new SampleRatioCheck(20, 1, 0.00001, true)).ShouldStartWith("do not trust");
    }
}
