using Funnel.Analytics.Experiments;

namespace Funnel.Analytics.Tests.Experiments;

public class VariantTestTests
{
    private static Dictionary<string, ConversionSample> Samples(params (string Key, long Conversions, long Visitors)[] samples) =>
        samples.ToDictionary(s => s.Key, s => new ConversionSample(s.Conversions, s.Visitors));

    [Fact]
    public void Evaluate_ChallengerOpensFarMore_NamesItTheSignificantWinner()
    {
        VariantTestResult result = VariantTest.Evaluate(Samples(("control", 200, 1000), ("short", 280, 1000)), minimumSamplePerVariant: 500);

        result.Winner.ShouldBe("short");
        result.IsSignificant.ShouldBeTrue();
        result.HasMinimumSample.ShouldBeTrue();
        VariantComparison comparison = result.Comparisons.ShouldHaveSingleItem();
        comparison.Result.ShouldBe(ExperimentStatistics.CompareConversions(new(200, 1000), new(280, 1000)));
        comparison.Verdict.Outcome.ShouldBe(VerdictOutcome.Better);
    }

    [Fact]
    public void Evaluate_SignificantButBelowTheMinimumSample_NamesNoWinnerYet()
    {
        VariantTestResult result = VariantTest.Evaluate(Samples(("control", 200, 1000), ("short", 280, 1000)), minimumSamplePerVariant: 2000);

        result.Winner.ShouldBeNull();
        result.HasMinimumSample.ShouldBeFalse();
        result.Comparisons.ShouldHaveSingleItem().Verdict.Outcome.ShouldBe(VerdictOutcome.Better);
    }

    [Fact]
    public void Evaluate_SmallDifference_IsInconclusive()
    {
        VariantTestResult result = VariantTest.Evaluate(Samples(("control", 200, 1000), ("short", 205, 1000)));

        result.Winner.ShouldBeNull();
        result.IsSignificant.ShouldBeFalse();
        result.Comparisons.ShouldHaveSingleItem().Verdict.Outcome.ShouldBe(VerdictOutcome.Inconclusive);
    }

    [Fact]
    public void Evaluate_EveryChallengerSignificantlyWorse_NamesTheControl()
    {
        VariantTestResult result = VariantTest.Evaluate(Samples(("control", 300, 1000), ("a", 200, 1000), ("b", 190, 1000)));

        result.Winner.ShouldBe("control");
        result.Comparisons.Select(c => c.Variant).ShouldBe(["a", "b"]);
    }

    [Fact]
    public void Evaluate_SeveralBetterWithHolmCorrection_PicksTheBestAndAdjustsEveryPValue()
    {
        ExperimentStatisticsSettings settings = new() { Correction = MultipleTestingCorrection.HolmBonferroni };

        VariantTestResult result = VariantTest.Evaluate(
            Samples(("control", 200, 2000), ("b", 300, 2000), ("a", 260, 2000), ("c", 205, 2000)), settings: settings);

        result.Winner.ShouldBe("b");
        result.Comparisons.Select(c => c.Variant).ShouldBe(["a", "b", "c"]);
        result.Comparisons.ShouldAllBe(c => c.Verdict.AdjustedPValue >= c.Result.PValue);
        result.Comparisons.Single(c => c.Variant == "c").Verdict.Outcome.ShouldBe(VerdictOutcome.Inconclusive);
    }

    [Fact]
    public void Evaluate_ControlWithoutConversions_ComparesNothingYet()
    {
        VariantTestResult result = VariantTest.Evaluate(Samples(("control", 0, 100), ("short", 3, 100)));

        result.Comparisons.ShouldBeEmpty();
        result.Winner.ShouldBeNull();
    }

    [Fact]
    public void Evaluate_VariantNotSentYet_ComparesNothingAndLacksTheSample()
    {
        VariantTestResult result = VariantTest.Evaluate(Samples(("control", 5, 100), ("short", 0, 0)));

        result.Comparisons.ShouldBeEmpty();
        result.HasMinimumSample.ShouldBeFalse();
    }

    [Fact]
    public void Evaluate_BadInput_Throws()
    {
        Should.Throw<ArgumentException>(() => VariantTest.Evaluate(Samples(("a", 1, 10), ("b", 1, 10))));
        Should.Throw<ArgumentException>(() => VariantTest.Evaluate(Samples(("control", 1, 10))));
        Should.Throw<ArgumentException>(() => VariantTest.Evaluate(Samples(("control", 1, 10), ("b", 11, 10))));
        Should.Throw<ArgumentOutOfRangeException>(() => VariantTest.Evaluate(Samples(("control", 1, 10), ("b", 1, 10)), minimumSamplePerVariant: -1));
    }
}
