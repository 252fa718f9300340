using Funnel.Events;
using Funnel.Kpis;
using Funnel.Samples.EbookMasterclass;

namespace Funnel.Tests.Samples;

/// <summary>The reference scenario: the library must reproduce the guide's case study from events.</summary>
public class EbookMasterclassTests
{
    private static FunnelReport Report(ScenarioOptions options) =>
        new FunnelReporter().CreateReport(MasterclassScenario.Funnel, MasterclassScenario.GenerateEvents(options));

    [Fact]
    public void DefaultRun_ReproducesTheCaseStudy()
    {
        FunnelMetrics all = Report(new ScenarioOptions()).Overall;

        all.Steps.Select(s => s.Reached).ShouldBe([50_000, 5_000, 1_000, 50]);
        all.Steps.Skip(1).Select(s => s.FromPrevious).ShouldBe([Ratio.Of(1, 10), Ratio.Of(1, 5), Ratio.Of(1, 20)]);
        all.Revenue.ShouldBe(Money.FromMajor(24_850m, Currency.USD));
        all.AdSpend.ShouldBe(Money.FromMajor(10_000m, Currency.USD));
        all.CustomerAcquisitionCost.ShouldBe(Money.FromMajor(200m, Currency.USD));
        all.ReturnOnAdSpend.ToDecimal().ShouldBe(2.485m);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(12345)]
    public void AnySeed_DrawsExactlyTheConfiguredShares(int seed)
    {
        FunnelReport report = Report(new ScenarioOptions { Seed = seed });

        report.Overall.Steps.Select(s => s.Reached).ShouldBe([50_000, 5_000, 1_000, 50]);
        report.ByChannel.Select(c => c.Segment).ShouldBe(["facebook", "google", "instagram"]);
        report.ByChannel.Sum(c => c.AdSpend.MinorUnits).ShouldBe(1_000_000);
    }

    [Fact]
    public void Seeds_ChangeWhoConvertsAndWhen()
    {
        IReadOnlyList<FunnelEvent> a = MasterclassScenario.GenerateEvents(new ScenarioOptions { Seed = 1, Visitors = 1_000 });
        IReadOnlyList<FunnelEvent> b = MasterclassScenario.GenerateEvents(new ScenarioOptions { Seed = 2, Visitors = 1_000 });
        IReadOnlyList<FunnelEvent> again = MasterclassScenario.GenerateEvents(new ScenarioOptions { Seed = 1, Visitors = 1_000 });

        a.SequenceEqual(again).ShouldBeTrue();
        a.Select(e => e.OccurredAt).SequenceEqual(b.Select(e => e.OccurredAt)).ShouldBeFalse();
    }

    [Fact]
    public void OtherOptions_GiveOtherFigures()
    {
        FunnelMetrics all = Report(new ScenarioOptions
        {
            Visitors = 20_000,
            AdSpend = Money.FromMajor(5_000m, Currency.USD),
            Seed = 7,
        }).Overall;

        all.Steps.Select(s => s.Reached).ShouldBe([20_000, 2_000, 400, 20]);
        all.Revenue.ShouldBe(Money.FromMajor(9_940m, Currency.USD));
        all.CustomerAcquisitionCost.ShouldBe(Money.FromMajor(250m, Currency.USD));
        all.ReturnOnAdSpend.ToDecimal().ShouldBe(1.988m);
    }

    [Fact]
    public void Program_PrintsTheCaseStudyTable()
    {
        var output = new StringWriter();

        EbookMasterclassProgram.Run([], output, TextWriter.Null).ShouldBe(0);

        string text = output.ToString();
        text.ShouldContain("| Website visitors                    |  50,000 | n/a");
        text.ShouldContain("| Lead magnet downloads               |   5,000 | 10%");
        text.ShouldContain("| Sales page visitors                 |   1,000 | 20%");
        text.ShouldContain("| Purchases                           |      50 | 5%");
        text.ShouldContain("(50 sales @ $497)     | $24,850");
        text.ShouldContain("|    $200 |");
        text.ShouldContain("2.485x");
    }

    [Fact]
    public void Program_Options_ChangeThePrintedFigures()
    {
        var output = new StringWriter();

        EbookMasterclassProgram.Run(["--visitors", "20000", "--seed", "7", "--spend", "5000"], output, TextWriter.Null).ShouldBe(0);

        string text = output.ToString();
        text.ShouldContain("20,000");
        text.ShouldContain("$9,940");
        text.ShouldContain("1.988x");
    }

    [Fact]
    public void Program_Help_ListsTheOptions()
    {
        var output = new StringWriter();

        EbookMasterclassProgram.Run(["--help"], output, TextWriter.Null).ShouldBe(0);

        output.ToString().ShouldContain("--visitors N");
        output.ToString().ShouldContain("--seed N");
        output.ToString().ShouldContain("--spend AMOUNT");
    }

    [Theory]
    [InlineData("--visitors", "many", "--visitors")]
    [InlineData("--spend", "10.001", "--spend")]
    [InlineData("--opt-in", "120", "--opt-in")]
    [InlineData("--bogus", "1", "Unknown option '--bogus'")]
    public void Program_BadOptions_ExplainAndExitWithTwo(string name, string value, string expected)
    {
        var error = new StringWriter();

        EbookMasterclassProgram.Run([name, value], TextWriter.Null, error).ShouldBe(2);

        error.ToString().ShouldContain(expected);
    }
}
