using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Analytics.Experiments;
using Funnel.Events;
using NodaTime;
using static Funnel.Analytics.Tests.AnalyticsTestData;

namespace Funnel.Analytics.Tests.Hardening;

/// <summary>One hostile call of a public entry point: which argument is bad, how, and what the docs say it throws.</summary>
public sealed record BadCall(string EntryPoint, string ParamName, Type Exception, string Value, Action Call)
{
    public override string ToString() => $"{EntryPoint} with {ParamName} = {Value}";
}

/// <summary>Generators of NaN, infinities, negatives and out-of-range values for every public statistics and analytics entry point.</summary>
public static class HostileArguments
{
    private static readonly ConversionSample GoodConversions = new(30, 100);
    private static readonly MeanSample GoodMeans = new(10, 50, 300);

    public static Gen<double> NonFinite { get; } = Gen.Elements(double.NaN, double.PositiveInfinity, double.NegativeInfinity);

    public static Gen<double> Negative { get; } = Gen.OneOf(
        Gen.Elements(-double.Epsilon, -1e-300, -1.0, double.MinValue),
        Gen.Choose(1, 1_000_000).Select(i => -i / 7.0));

    /// <summary>Not strictly between 0 and 1.</summary>
    public static Gen<double> NotOpenProbability { get; } = Gen.OneOf(
        NonFinite, Negative, Gen.Elements(0.0, 1.0, 1 + 1e-12, 2.0, 1e300), Gen.Choose(1, 1_000_000).Select(i => 1 + (i / 1000.0)));

    /// <summary>Not within [0, 1].</summary>
    public static Gen<double> NotClosedProbability { get; } = Gen.OneOf(
        NonFinite, Negative, Gen.Elements(1 + 1e-12, 2.0, 1e300), Gen.Choose(1, 1_000_000).Select(i => 1 + (i / 1000.0)));

    public static Gen<double> NotPositiveFinite { get; } = Gen.OneOf(NonFinite, Negative, Gen.Constant(0.0));

    public static Gen<long> NegativeCount { get; } = Gen.OneOf(Gen.Elements(-1L, long.MinValue), Gen.Choose(1, int.MaxValue).Select(i => -(long)i));

    public static Arbitrary<BadCall> Calls()
    {
        static Gen<BadCall> Double<TException>(Gen<double> bad, string entry, string param, Action<double> call)
            where TException : ArgumentException =>
            bad.Select(v => new BadCall(entry, param, typeof(TException), v.ToString("R", System.Globalization.CultureInfo.InvariantCulture), () => call(v)));

        static Gen<BadCall> Long<TException>(Gen<long> bad, string entry, string param, Action<long> call)
            where TException : ArgumentException =>
            bad.Select(v => new BadCall(entry, param, typeof(TException), v.ToString(System.Globalization.CultureInfo.InvariantCulture), () => call(v)));

        AnalyticsEventStore store = AnalyticsEventStore.Load([E(1, "opted_in", 0)]);
        Gen<BadCall>[] calls =
        [
            Double<ArgumentOutOfRangeException>(NotOpenProbability, "ExperimentStatisticsSettings", "ConfidenceLevel",
                v => _ = new ExperimentStatisticsSettings { ConfidenceLevel = v }),
            Double<ArgumentOutOfRangeException>(NotPositiveFinite, "ExperimentStatisticsSettings", "SequentialTuningParameter",
                v => _ = new ExperimentStatisticsSettings { SequentialTuningParameter = v }),
            Double<ArgumentOutOfRangeException>(NotOpenProbability, "WilsonInterval", "confidenceLevel",
                v => ExperimentStatistics.WilsonInterval(5, 10, v)),
            Long<ArgumentOutOfRangeException>(NegativeCount, "WilsonInterval", "successes", v => ExperimentStatistics.WilsonInterval(v, 10)),
            Long<ArgumentOutOfRangeException>(NegativeCount, "WilsonInterval", "trials", v => ExperimentStatistics.WilsonInterval(0, v)),
            Double<ArgumentOutOfRangeException>(NotOpenProbability, "SampleSizePerVariant", "baselineRate",
                v => ExperimentStatistics.SampleSizePerVariant(v, 0.01)),
            Double<ArgumentOutOfRangeException>(Gen.OneOf(NonFinite, Gen.Elements(0.0, -0.2, 0.8, 5.0, -5.0)), "SampleSizePerVariant", "minimumDetectableEffect",
                v => ExperimentStatistics.SampleSizePerVariant(0.2, v)),
            Double<ArgumentOutOfRangeException>(NotOpenProbability, "SampleSizePerVariant", "significance",
                v => ExperimentStatistics.SampleSizePerVariant(0.2, 0.05, v)),
            Double<ArgumentOutOfRangeException>(NotOpenProbability, "SampleSizePerVariant", "power",
                v => ExperimentStatistics.SampleSizePerVariant(0.2, 0.05, 0.05, v)),
            Double<ArgumentOutOfRangeException>(NotPositiveFinite, "Power", "visitorsPerVariant",
                v => ExperimentStatistics.Power(0.2, 0.05, v)),
            Double<ArgumentOutOfRangeException>(NotOpenProbability, "Power", "significance",
                v => ExperimentStatistics.Power(0.2, 0.05, 1000, v)),
            Double<ArgumentOutOfRangeException>(NotOpenProbability, "Power", "baselineRate",
                v => ExperimentStatistics.Power(v, 0.05, 1000)),
            Double<ArgumentOutOfRangeException>(NotClosedProbability, "NormalQuantile", "p", v => ExperimentStatistics.NormalQuantile(v)),
            Double<ArgumentOutOfRangeException>(Gen.Constant(double.NaN), "NormalCdf", "z", v => ExperimentStatistics.NormalCdf(v)),
            Double<ArgumentOutOfRangeException>(NotOpenProbability, "StudentTQuantile", "p", v => ExperimentStatistics.StudentTQuantile(v, 10)),
            Double<ArgumentOutOfRangeException>(NotPositiveFinite, "StudentTQuantile", "degreesOfFreedom",
                v => ExperimentStatistics.StudentTQuantile(0.9, v)),
            Long<ArgumentException>(NegativeCount, "SampleRatioMismatch", "observed", v => ExperimentStatistics.SampleRatioMismatch([100, v], [1, 1])),
            Double<ArgumentException>(NotPositiveFinite, "SampleRatioMismatch", "weights", v => ExperimentStatistics.SampleRatioMismatch([100, 100], [1, v])),
            Double<ArgumentOutOfRangeException>(NotOpenProbability, "SampleRatioMismatch", "threshold",
                v => ExperimentStatistics.SampleRatioMismatch([100, 100], [1, 1], v)),
            Long<ArgumentException>(NegativeCount, "CompareConversions", "control",
                v => ExperimentStatistics.CompareConversions(new ConversionSample(v, 100), GoodConversions)),
            Long<ArgumentException>(NegativeCount, "CompareConversions", "treatment",
                v => ExperimentStatistics.CompareConversions(GoodConversions, new ConversionSample(5, v))),
            Long<ArgumentException>(NegativeCount, "ChanceToBeatControl", "treatment",
                v => ExperimentStatistics.ChanceToBeatControl(GoodConversions, new ConversionSample(v, 100))),
            Double<ArgumentException>(NonFinite, "CompareMeans", "control",
                v => ExperimentStatistics.CompareMeans(new MeanSample(10, v, 300), GoodMeans)),
            Double<ArgumentException>(NonFinite, "CompareMeans", "treatment",
                v => ExperimentStatistics.CompareMeans(GoodMeans, new MeanSample(10, 50, v))),
            Long<ArgumentException>(NegativeCount, "CompareMeans", "control",
                v => ExperimentStatistics.CompareMeans(new MeanSample(v, 50, 300), GoodMeans)),
            Double<ArgumentException>(NonFinite, "MeanSample.FromValues", "values", v => MeanSample.FromValues([1, v, 3])),
            Gen.OneOf(
                    Gen.Choose(1, int.MaxValue).Select(i => Duration.FromSeconds(-i)),
                    Gen.Elements(Duration.MinValue, Duration.MaxValue, RevenueAttribution.MaxLookback + Duration.Epsilon))
                .Select(d => new BadCall("RevenueAttribution.Attribute", "lookback", typeof(ArgumentOutOfRangeException), d.ToString(),
                    () => RevenueAttribution.Attribute(store, AttributionModel.LastTouch, d))),
            Long<ArgumentOutOfRangeException>(Gen.OneOf(NegativeCount, Gen.Elements(3L, 99L, int.MaxValue)), "KpiTimeSeries.Compute", "period",
                v => KpiTimeSeries.Compute(store, (KpiPeriod)(int)Math.Clamp(v, int.MinValue, int.MaxValue))),
            Long<ArgumentOutOfRangeException>(Gen.OneOf(NegativeCount, Gen.Elements(3L, 99L)), "KpiTimeSeries.LifetimeValueByCohort", "period",
                v => KpiTimeSeries.LifetimeValueByCohort(store, (KpiPeriod)(int)Math.Clamp(v, int.MinValue, int.MaxValue))),
            Long<ArgumentOutOfRangeException>(Gen.OneOf(NegativeCount, Gen.Elements(0L, 99L, 10_000_001L, int.MaxValue)), "FunnelForecaster.Simulate", "runs",
                v => FunnelForecaster.Simulate(Baseline, Money.FromMajor(100m, Currency.USD), (int)Math.Clamp(v, int.MinValue, int.MaxValue))),
            Long<ArgumentOutOfRangeException>(NegativeCount, "ForecastBaseline.FromAnalysis", "orders",
                v => ForecastBaseline.FromAnalysis(Analysis(store), v, Money.FromMajor(10m, Currency.USD), Money.FromMajor(10m, Currency.USD))),
            Long<ArgumentException>(Gen.Constant(0L), "AnalyticsEventStoreBuilder.Add", "lead",
                _ => new AnalyticsEventStoreBuilder().Add(default, Start, "opted_in")),
            Long<ArgumentException>(Gen.Constant(0L), "AnalyticsEventStoreBuilder.Add", "funnelEvent",
                _ => new AnalyticsEventStoreBuilder().Add(((LeadEvent)E(1, "opted_in", 0)) with { LeadId = default })),
            Long<ArgumentException>(Gen.Constant(0L), "AnalyticsEventStore.Load", "events",
                _ => AnalyticsEventStore.Load([E(1, "opted_in", 0), ((LeadEvent)E(2, "opted_in", 1)) with { LeadId = default }])),
        ];
        return Gen.OneOf(calls).ToArbitrary();
    }

    private static ForecastBaseline Baseline { get; } = new()
    {
        StageCounts = [1000, 100, 10],
        Orders = 10,
        Revenue = Money.FromMajor(500m, Currency.USD),
        AdSpend = Money.FromMajor(200m, Currency.USD),
    };

    private static FunnelAnalysis Analysis(AnalyticsEventStore store) =>
        FunnelAnalyzer.Analyze(store, new FunnelQuery { Funnel = FunnelOf("opted_in") });
}

/// <summary>Every public statistics and analytics entry point rejects hostile arguments with its documented exception, naming the argument.</summary>
public class ArgumentValidationProperties
{
    [Property(MaxTest = 2000, Arbitrary = [typeof(HostileArguments)])]
    public Property HostileArgument_ThrowsTheDocumentedExceptionNamingTheArgument(BadCall bad)
    {
        Exception? thrown = null;
        try
        {
            bad.Call();
        }
        catch (Exception ex)
        {
            thrown = ex;
        }

        return (thrown is not null && thrown.GetType() == bad.Exception && ((ArgumentException)thrown).ParamName == bad.ParamName)
            .Label($"{bad} threw {thrown?.GetType().Name ?? "nothing"} naming '{(thrown as ArgumentException)?.ParamName}': {thrown?.Message}");
    }
}
