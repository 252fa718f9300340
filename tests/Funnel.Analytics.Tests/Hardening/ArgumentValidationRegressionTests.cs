using FluentValidation;
using Funnel.Analytics.Experiments;
using Funnel.Events;
using Funnel.Definitions;
using NodaTime;
using static Funnel.Analytics.Tests.AnalyticsTestData;

namespace Funnel.Analytics.Tests.Hardening;

/// <summary>The findings of issue 17's pass over the public analytics API, one test each.</summary>
public class ArgumentValidationRegressionTests
{
    [Fact]
    public void SampleSizePerVariant_PowerOutOfRange_NamesPowerNotSignificance()
    {
        ArgumentOutOfRangeException e = Should.Throw<ArgumentOutOfRangeException>(() => ExperimentStatistics.SampleSizePerVariant(0.2, 0.05, 0.05, 1.5));

        e.ParamName.ShouldBe("power");
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(0)]
    [InlineData(-5000)]
    [InlineData(double.PositiveInfinity)]
    public void SequentialTuningParameter_NotPositiveFinite_ThrowsInsteadOfNaNResults(double value)
    {
        ArgumentOutOfRangeException e = Should.Throw<ArgumentOutOfRangeException>(() => new ExperimentStatisticsSettings { SequentialTuningParameter = value });

        e.ParamName.ShouldBe(nameof(ExperimentStatisticsSettings.SequentialTuningParameter));
    }

    [Theory]
    [InlineData(1.5)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void NormalQuantile_OutsideZeroOne_ThrowsInsteadOfInfinity(double p) =>
        Should.Throw<ArgumentOutOfRangeException>(() => ExperimentStatistics.NormalQuantile(p)).ParamName.ShouldBe("p");

    [Fact]
    public void NormalQuantile_ZeroAndOne_AreTheDocumentedInfinities()
    {
        ExperimentStatistics.NormalQuantile(0).ShouldBe(double.NegativeInfinity);
        ExperimentStatistics.NormalQuantile(1).ShouldBe(double.PositiveInfinity);
    }

    [Fact]
    public void StudentTQuantile_InfiniteDegreesOfFreedom_Throws() =>
        Should.Throw<ArgumentOutOfRangeException>(() => ExperimentStatistics.StudentTQuantile(0.975, double.PositiveInfinity)).ParamName.ShouldBe("degreesOfFreedom");

    [Fact]
    public void SampleRatioMismatch_NegativeObservedCount_ThrowsInsteadOfAConfidentAnswer()
    {
        // Before: [-50, 150] summed to 100 visitors and reported a confident mismatch.
        ArgumentException e = Should.Throw<ArgumentException>(() => ExperimentStatistics.SampleRatioMismatch([-50, 150], [1, 1]));

        e.ParamName.ShouldBe("observed");
    }

    [Fact]
    public void SampleRatioMismatch_InfiniteWeight_NamesWeights() =>
        Should.Throw<ArgumentException>(() => ExperimentStatistics.SampleRatioMismatch([50, 50], [1, double.PositiveInfinity])).ParamName.ShouldBe("weights");

    [Fact]
    public void SampleRatioMismatch_HugeCounts_DoNotOverflow()
    {
        SampleRatioCheck check = ExperimentStatistics.SampleRatioMismatch([long.MaxValue / 2, long.MaxValue / 2], [1, 1]);

        check.IsMismatch.ShouldBeFalse();
    }

    [Fact]
    public void ChanceToBeatControl_HugeCounts_AnswersWithoutSummingATermPerConversion()
    {
        // Before: one term per treatment conversion, about 10^18 iterations here.
        double chance = ExperimentStatistics.ChanceToBeatControl(new ConversionSample(long.MaxValue / 4, long.MaxValue / 2), new ConversionSample(long.MaxValue / 4, long.MaxValue / 2));

        chance.ShouldBe(0.5, 1e-9);
    }

    [Fact]
    public void ChanceToBeatControl_OneSmallSide_SumsOverTheSmallSide()
    {
        // 3 control conversions against a huge treatment: the exact sum over the control's 4 terms, by symmetry.
        double chance = ExperimentStatistics.ChanceToBeatControl(new ConversionSample(3, 1000), new ConversionSample(4_000_000_000, 10_000_000_000));

        chance.ShouldBe(1.0, 1e-12);
    }

    [Fact]
    public void ChanceToBeatControl_NormalApproximation_AgreesWithTheExactSumAtTheSwitch()
    {
        double exact = ExperimentStatistics.ChanceToBeatControl(new ConversionSample(999_999, 10_000_000), new ConversionSample(1_001_500, 10_000_000));
        double normal = ExperimentStatistics.ChanceToBeatControl(new ConversionSample(1_000_000, 10_000_001), new ConversionSample(1_001_501, 10_000_001));

        exact.ShouldBeInRange(0.5, 0.999);
        normal.ShouldBe(exact, 2e-3);
    }

    [Fact]
    public void WilsonInterval_BadConfidenceLevel_NamesConfidenceLevel() =>
        Should.Throw<ArgumentOutOfRangeException>(() => ExperimentStatistics.WilsonInterval(1, 10, 95)).ParamName.ShouldBe("confidenceLevel");

    [Fact]
    public void Analyze_HandBuiltQueryWithNullStep_ThrowsValidationErrorNamingTheStep()
    {
        FunnelDefinition funnel = FunnelOf("opted_in", "order_placed");
        FunnelQuery query = new() { Funnel = funnel with { Steps = funnel.Steps.SetItem(1, null!) } };
        AnalyticsEventStore store = AnalyticsEventStore.Load([E(1, "opted_in", 0)]);

        ValidationException e = Should.Throw<ValidationException>(() => FunnelAnalyzer.Analyze(store, query));

        e.Errors.ShouldContain(f => f.PropertyName == "Funnel.Steps[1]");
    }

    [Fact]
    public void Analyze_StepWithNullTrigger_ThrowsValidationErrorNamingTheStep()
    {
        FunnelDefinition funnel = FunnelOf("opted_in");
        FunnelQuery query = new() { Funnel = funnel with { Steps = [funnel.Steps[0] with { Trigger = null! }] } };

        ValidationException e = Should.Throw<ValidationException>(() => FunnelAnalyzer.Analyze(AnalyticsEventStore.Load([]), query));

        e.Errors.ShouldContain(f => f.PropertyName == "Funnel.Steps[0]" && f.ErrorMessage.Contains("Trigger", StringComparison.Ordinal));
    }

    [Fact]
    public void Analyze_NullExclusion_ThrowsValidationError()
    {
        FunnelQuery query = new() { Funnel = FunnelOf("opted_in"), Exclusions = [null!] };

        Should.Throw<ValidationException>(() => FunnelAnalyzer.Analyze(AnalyticsEventStore.Load([]), query));
    }

    [Fact]
    public void Analyze_WindowBeyondTenThousandYears_ThrowsValidationErrorInsteadOfOverflow()
    {
        FunnelQuery query = new() { Funnel = FunnelOf("opted_in"), Window = Duration.MaxValue };

        ValidationException e = Should.Throw<ValidationException>(() => FunnelAnalyzer.Analyze(AnalyticsEventStore.Load([E(1, "opted_in", 0)]), query));

        e.Errors.ShouldContain(f => f.PropertyName == "Window");
    }

    [Fact]
    public void Analyze_WindowAtTheMaximum_Works()
    {
        FunnelQuery query = new() { Funnel = FunnelOf("opted_in", "order_placed"), Window = FunnelQueryValidator.MaxWindow };

        FunnelAnalysis analysis = FunnelAnalyzer.Analyze(AnalyticsEventStore.Load([E(1, "opted_in", 0), E(1, "order_placed", 1)]), query);

        analysis.Steps[1].Reached.ShouldBe(1);
    }

    [Fact]
    public void Attribute_MaxDurationLookback_ThrowsNamingLookbackInsteadOfOverflow() =>
        Should.Throw<ArgumentOutOfRangeException>(() => RevenueAttribution.Attribute(AnalyticsEventStore.Load([]), AttributionModel.Linear, Duration.MaxValue))
            .ParamName.ShouldBe("lookback");

    [Fact]
    public void Builder_DefaultLeadId_IsRejectedAsLeadIdDocsSay()
    {
        var builder = new AnalyticsEventStoreBuilder();

        Should.Throw<ArgumentException>(() => builder.Add(default, Start, "opted_in")).ParamName.ShouldBe("lead");
        Should.Throw<ArgumentException>(() => builder.Add(((LeadEvent)E(1, "opted_in", 0)) with { LeadId = default })).ParamName.ShouldBe("funnelEvent");
        builder.Count.ShouldBe(0);
    }
}
