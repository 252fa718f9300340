using Funnel.Analytics.Experiments;
using Funnel.Samples.EbookMasterclass;
using NodaTime;

namespace Funnel.Analytics.Tests.Experiments;

public class ThompsonSamplingBanditTests
{
    // "sales-page-headline" with control and transformation, 1:1, as in ExperimentAssignerTests.
    private static readonly Experiment Headline = AnalyticsPrinter.HeadlineTest;

    private static readonly Instant Start = Instant.FromUtc(2026, 1, 5, 0, 0);

    [Fact]
    public void Simulation_ThreeDaysAtFivePercentVersusSixAndAHalf_HasFarLessRegretThanAFixedSplit()
    {
        // The Masterclass sample's simulation: 18,000 visitors over 72 hours, weights updated every 6 hours, seed 42.
        BanditSimulation s = AnalyticsPrinter.SimulateBandit(seed: 42);

        s.Visitors.ShouldBe(18_000);
        s.FixedSplitRegret.ShouldBe(18_000 * 0.5 * 0.015, 1e-9);
        (s.BanditRegret / s.FixedSplitRegret).ShouldBeLessThan(0.35);
        s.FinalWeights[1].ShouldBeGreaterThan(0.9);
    }

    [Fact]
    public void Assign_AfterTheWeightsChange_KeepsEveryEarlierLeadsVariant()
    {
        var bandit = new ThompsonSamplingBandit(Headline, new BanditSettings { UpdateInterval = Duration.Zero });
        LeadId[] early = [.. Enumerable.Range(0, 300).Select(_ => LeadId.New())];
        string?[] before = [.. early.Select(l => bandit.Assign(l).Variant)];

        bandit.Update([new ConversionSample(10, 1000), new ConversionSample(80, 1000)], Start).ShouldBeTrue();

        early.Select(l => bandit.Assign(l).Variant).ShouldBe(before);
        bandit.Weights[1].ShouldBe(0.99, 1e-9);
        int toWinner = Enumerable.Range(0, 1000).Count(_ => bandit.Assign(LeadId.New()).Variant == "transformation");
        toWinner.ShouldBeGreaterThan(960);
    }

    [Fact]
    public void Update_BeforeTheIntervalHasPassed_KeepsTheWeights()
    {
        var bandit = new ThompsonSamplingBandit(Headline, new BanditSettings { UpdateInterval = Duration.FromHours(6) });
        ConversionSample[] counts = [new(10, 1000), new(80, 1000)];

        bandit.Update(counts, Start).ShouldBeTrue();
        bandit.Update([new(80, 1000), new(10, 1000)], Start + Duration.FromHours(5)).ShouldBeFalse();
        bandit.Weights[1].ShouldBe(0.99, 1e-9);
        bandit.Update([new(80, 1000), new(10, 1000)], Start + Duration.FromHours(6)).ShouldBeTrue();
        bandit.Weights[0].ShouldBe(0.99, 1e-9);
        bandit.LastUpdate.ShouldBe(Start + Duration.FromHours(6));
    }

    [Fact]
    public void Restore_RecordedExposure_WinsOverTheHash()
    {
        // This lead hashes to "control" (see ExperimentAssignerTests); its recorded exposure says otherwise.
        var lead = LeadId.Parse("00000000-0000-0000-0000-000000000001");
        var bandit = new ThompsonSamplingBandit(Headline);

        bandit.Restore([new ExperimentExposed { LeadId = lead, OccurredAt = Start, Experiment = Headline.Key, Variant = "transformation" }]);

        bandit.Assign(lead).Variant.ShouldBe("transformation");
        bandit.Expose(lead, Start)!.Variant.ShouldBe("transformation");
    }

    [Fact]
    public void ChanceToBeBest_SameSeed_IsReproducibleAndSumsToOne()
    {
        ConversionSample[] counts = [new(50, 1000), new(60, 1000), new(55, 1000)];

        var first = ThompsonSamplingBandit.ChanceToBeBest(counts, 10_000, seed: 5);
        var second = ThompsonSamplingBandit.ChanceToBeBest(counts, 10_000, seed: 5);

        first.ShouldBe(second);
        first.Sum().ShouldBe(1, 1e-12);
        first[1].ShouldBeGreaterThan(first[2]);
        first[2].ShouldBeGreaterThan(first[0]);
    }

    [Fact]
    public void ChanceToBeBest_TwoArms_AgreesWithTheExactChanceToBeatControl()
    {
        ConversionSample a = new(40, 400);
        ConversionSample b = new(55, 410);

        double exact = ExperimentStatistics.ChanceToBeatControl(a, b);

        // 100,000 seeded draws: standard error about 0.0012.
        ThompsonSamplingBandit.ChanceToBeBest([a, b], 100_000, seed: 3)[1].ShouldBe(exact, 0.005);
    }

    [Fact]
    public void Constructor_FloorTooHighForTheVariants_ThrowsNamingTheSettings() =>
        Should.Throw<ArgumentOutOfRangeException>(() => new ThompsonSamplingBandit(Headline, new BanditSettings { MinimumWeight = 0.5 }))
            .ParamName.ShouldBe("settings");

    [Fact]
    public void Update_WrongNumberOfSamples_ThrowsNamingThem() =>
        Should.Throw<ArgumentException>(() => new ThompsonSamplingBandit(Headline).Update([new ConversionSample(1, 2)], Start))
            .ParamName.ShouldBe("samples");
}
