using System.Collections.Immutable;
using Funnel.Events;
using NodaTime;

namespace Funnel.Analytics.Experiments;

/// <summary>A per-visitor metric with a pre-experiment covariate, summarised as sums for CUPED.</summary>
/// <param name="Count">The number of visitors.</param>
/// <param name="Sum">The sum of the metric (after exposure).</param>
/// <param name="SumOfSquares">The sum of the squared metric.</param>
/// <param name="CovariateSum">The sum of the covariate (the same metric before exposure, for example).</param>
/// <param name="CovariateSumOfSquares">The sum of the squared covariate.</param>
/// <param name="SumOfProducts">The sum of metric × covariate.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record CovariateSample(long Count, double Sum, double SumOfSquares, double CovariateSum, double CovariateSumOfSquares, double SumOfProducts)
{
    /// <summary>Gets the metric alone.</summary>
    public MeanSample Metric => new(Count, Sum, SumOfSquares);

    /// <summary>Gets the covariate alone.</summary>
    public MeanSample Covariate => new(Count, CovariateSum, CovariateSumOfSquares);

    /// <summary>Gets the sample covariance of metric and covariate (n − 1).</summary>
    public double Covariance => (SumOfProducts - (Sum * CovariateSum / Count)) / (Count - 1);

    /// <summary>Summarises (metric, covariate) pairs, one per visitor.</summary>
    /// <param name="values">The pairs; for a conversion metric, 1 or 0.</param>
    /// <returns>The summary.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is <see langword="null"/>.</exception>
    public static CovariateSample FromValues(IEnumerable<(double Value, double Covariate)> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        long n = 0;
        double sy = 0, syy = 0, sx = 0, sxx = 0, sxy = 0;
        foreach ((double y, double x) in values)
        {
            n++;
            sy += y;
            syy += y * y;
            sx += x;
            sxx += x * x;
            sxy += x * y;
        }

        return new CovariateSample(n, sy, syy, sx, sxx, sxy);
    }

    internal CovariateSample Add(CovariateSample other) => new(
        Count + other.Count, Sum + other.Sum, SumOfSquares + other.SumOfSquares,
        CovariateSum + other.CovariateSum, CovariateSumOfSquares + other.CovariateSumOfSquares, SumOfProducts + other.SumOfProducts);
}

/// <summary>What CUPED changed in a comparison: the pooled θ, the adjusted means and the variance removed.</summary>
/// <param name="Theta">θ = cov(Y, X) ÷ var(X) over both variants pooled.</param>
/// <param name="AdjustedControlMean">The control's mean less θ × (its covariate mean − the pooled covariate mean).</param>
/// <param name="AdjustedTreatmentMean">The treatment's mean, adjusted the same way.</param>
/// <param name="VarianceReduction">1 − adjusted ÷ unadjusted variance of the relative lift; 0.3 means the test needs about 30 % fewer visitors.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record CupedAdjustment(double Theta, double AdjustedControlMean, double AdjustedTreatmentMean, double VarianceReduction);

/// <summary>Builds CUPED samples from the event history: each exposed lead's metric after exposure and its pre-period value.</summary>
/// <remarks>
/// <para>
/// A lead counts from its first <see cref="ExperimentExposed"/> for the experiment; the covariate sums the metric's
/// events in <c>[exposure − prePeriod, exposure)</c>, the metric sums them from the exposure on. Leads with no
/// events count as zero, as they must for an unbiased mean per visitor. Each method reads either the columnar
/// <see cref="AnalyticsEventStore"/> (the fast path, for a store you already have) or a list of events, which it
/// loads into a store first.
/// </para>
/// </remarks>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class ExperimentCovariates
{
    /// <summary>Revenue per visitor (<see cref="OrderPlaced.Total"/> in major units) with pre-exposure revenue as covariate.</summary>
    /// <param name="store">The event store.</param>
    /// <param name="experiment">The experiment key.</param>
    /// <param name="prePeriod">How far before exposure the covariate looks, such as 30 days.</param>
    /// <returns>A sample per variant key.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="prePeriod"/> is not positive.</exception>
    /// <exception cref="ArgumentException">The experiment key is empty.</exception>
    public static ImmutableDictionary<string, CovariateSample> Revenue(AnalyticsEventStore store, string experiment, Duration prePeriod)
    {
        ArgumentNullException.ThrowIfNull(store);
        return Collect(store, experiment, prePeriod, store.TermsOfType(EventTypes.OrderPlaced), revenue: true);
    }

    /// <summary>Revenue per visitor with pre-exposure revenue as covariate, from a list of events.</summary>
    /// <param name="events">The event history, in any order.</param>
    /// <param name="experiment">The experiment key.</param>
    /// <param name="prePeriod">How far before exposure the covariate looks, such as 30 days.</param>
    /// <returns>A sample per variant key.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="prePeriod"/> is not positive.</exception>
    /// <exception cref="ArgumentException">The experiment key is empty, or amounts are in more than one currency.</exception>
    public static ImmutableDictionary<string, CovariateSample> Revenue(IEnumerable<FunnelEvent> events, string experiment, Duration prePeriod) =>
        Revenue(Load(events), experiment, prePeriod);

    /// <summary>Conversion (1 when the lead has an event of the type after exposure) with a pre-exposure conversion as covariate.</summary>
    /// <param name="store">The event store.</param>
    /// <param name="experiment">The experiment key.</param>
    /// <param name="eventType">The converting event type, such as <see cref="EventTypes.OrderPlaced"/>.</param>
    /// <param name="prePeriod">How far before exposure the covariate looks.</param>
    /// <returns>A sample per variant key, with 0/1 values.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="prePeriod"/> is not positive.</exception>
    /// <exception cref="ArgumentException">The experiment key or event type is empty.</exception>
    public static ImmutableDictionary<string, CovariateSample> Conversions(AnalyticsEventStore store, string experiment, string eventType, Duration prePeriod)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(eventType);
        return Collect(store, experiment, prePeriod, store.TermsOfType(eventType), revenue: false);
    }

    /// <summary>Conversion with a pre-exposure conversion as covariate, from a list of events.</summary>
    /// <param name="events">The event history, in any order.</param>
    /// <param name="experiment">The experiment key.</param>
    /// <param name="eventType">The converting event type, such as <see cref="EventTypes.OrderPlaced"/>.</param>
    /// <param name="prePeriod">How far before exposure the covariate looks.</param>
    /// <returns>A sample per variant key, with 0/1 values.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="prePeriod"/> is not positive.</exception>
    /// <exception cref="ArgumentException">The experiment key or event type is empty, or amounts are in more than one currency.</exception>
    public static ImmutableDictionary<string, CovariateSample> Conversions(IEnumerable<FunnelEvent> events, string experiment, string eventType, Duration prePeriod) =>
        Conversions(Load(events), experiment, eventType, prePeriod);

    private static AnalyticsEventStore Load(IEnumerable<FunnelEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        try
        {
            return AnalyticsEventStore.Load(events);
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException(e.Message, nameof(events), e);
        }
    }

    private static ImmutableDictionary<string, CovariateSample> Collect(
        AnalyticsEventStore store, string experiment, Duration prePeriod, bool[] counted, bool revenue)
    {
        ArgumentException.ThrowIfNullOrEmpty(experiment);
        if (prePeriod <= Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(prePeriod), prePeriod, "The pre-period must be positive.");
        }

        bool[] isExposure = new bool[store.TermTypes.Length];
        for (int t = 0; t < isExposure.Length; t++)
        {
            isExposure[t] = store.TermTypes[t] == EventTypes.ExperimentExposed && store.TermSubjects[t] == experiment;
        }

        int[] variants = store.Dimensions[AnalyticsEventStore.VariantDimension];
        string?[] variantNames = store.DimensionValues[AnalyticsEventStore.VariantDimension];
        decimal minorPerMajor = revenue && store.MoneyEvents.Length > 0 ? Money.FromMinorUnits(1, store.Currency).ToMajor() : 1;
        long lookback = prePeriod.BclCompatibleTicks;
        var pairs = new Dictionary<string, List<(double Value, double Covariate)>>(StringComparer.Ordinal);
        int money = 0;
        for (int lead = 0; lead < store.LeadCount; lead++)
        {
            int begin = store.Offsets[lead];
            int end = store.Offsets[lead + 1];
            int exposure = begin;
            while (exposure < end && !isExposure[store.Terms[exposure]])
            {
                exposure++;
            }

            if (exposure == end || variantNames[variants[exposure]] is not { } variant)
            {
                continue;
            }

            // A lead's events are in time order, so its first exposure is the earliest.
            long at = store.Times[exposure];
            double post = 0;
            double pre = 0;
            for (int i = begin; i < end; i++)
            {
                while (money < store.MoneyEvents.Length && store.MoneyEvents[money] < i)
                {
                    money++;
                }

                if (!counted[store.Terms[i]] || store.Times[i] < at - lookback)
                {
                    continue;
                }

                bool hasAmount = money < store.MoneyEvents.Length && store.MoneyEvents[money] == i;
                double value = !revenue ? 1 : hasAmount ? (double)(store.MoneyAmounts[money] * minorPerMajor) : 0;
                if (store.Times[i] >= at)
                {
                    post = revenue ? post + value : 1;
                }
                else
                {
                    pre = revenue ? pre + value : 1;
                }
            }

            if (!pairs.TryGetValue(variant, out List<(double Value, double Covariate)>? list))
            {
                pairs[variant] = list = [];
            }

            list.Add((post, pre));
        }

        return pairs.ToImmutableDictionary(p => p.Key, p => CovariateSample.FromValues(p.Value), StringComparer.Ordinal);
    }
}

/// <content>CUPED: variance reduction with a pre-experiment covariate.</content>
public static partial class ExperimentStatistics
{
    /// <summary>Compares a per-visitor metric (revenue, or a 0/1 conversion) with CUPED, adjusting for a pre-period covariate.</summary>
    /// <param name="control">The control's metric and covariate sums.</param>
    /// <param name="treatment">The treatment's.</param>
    /// <param name="settings">The confidence level, sequential tuning and prior; defaults to <see cref="ExperimentStatisticsSettings.Default"/>.</param>
    /// <returns>The statistics on the adjusted metric, with <see cref="MeanTestResult.Cuped"/> set; <see cref="MeanTestResult.Control"/> and <see cref="MeanTestResult.Treatment"/> are the unadjusted metric.</returns>
    /// <remarks>
    /// <para>
    /// As GrowthBook's regression adjustment (Deng et al. 2013): θ = cov(Y, X) ÷ var(X) from both variants pooled;
    /// each variant's adjusted mean is Ȳ − θX̄ and its variance var(Y) + θ²var(X) − 2θcov(Y, X). The relative lift is
    /// (adjusted difference) ÷ the control's unadjusted mean, with GrowthBook's delta-method variance
    /// (<c>frequentist_variance_relative_cuped</c>). With θ = 0 the result equals <see cref="CompareMeans"/>.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentNullException">A sample is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A sample has fewer than 2 visitors or no variance, a sum that is not finite (NaN or infinite), or the control's mean is 0.</exception>
    public static MeanTestResult CompareWithCovariate(CovariateSample control, CovariateSample treatment, ExperimentStatisticsSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(treatment);
        Check(control.Metric, nameof(control));
        Check(treatment.Metric, nameof(treatment));
        CheckCovariate(control, nameof(control));
        CheckCovariate(treatment, nameof(treatment));
        double meanA = control.Metric.Mean;
        double meanB = treatment.Metric.Mean;
        if (meanA == 0)
        {
            throw new ArgumentException("The control's mean is 0, so a relative lift is not defined.", nameof(control));
        }

        settings ??= ExperimentStatisticsSettings.Default;
        CovariateSample pooled = control.Add(treatment);
        double pooledCovariateVariance = pooled.Covariate.Variance;
        double theta = pooledCovariateVariance > 0 && pooled.Metric.Variance > 0 ? pooled.Covariance / pooledCovariateVariance : 0;

        double nA = control.Count;
        double nB = treatment.Count;
        double varYA = control.Metric.Variance;
        double varXA = control.Count > 1 ? Math.Max(0, control.Covariate.Variance) : 0;
        double varXB = treatment.Count > 1 ? Math.Max(0, treatment.Covariate.Variance) : 0;
        double adjVarA = varYA + (theta * theta * varXA) - (2 * theta * control.Covariance);
        double adjVarB = treatment.Metric.Variance + (theta * theta * varXB) - (2 * theta * treatment.Covariance);
        double diff = (meanB - (theta * treatment.Covariate.Mean)) - (meanA - (theta * control.Covariate.Mean));
        double lift = diff / meanA;

        // GrowthBook's frequentist_variance_relative_cuped.
        double varianceTreatment = adjVarB / (nB * meanA * meanA);
        double varianceControl = ((varYA * meanB * meanB / (meanA * meanA)) - (2 * theta * control.Covariance * meanB / meanA) + (theta * theta * varXA))
            / (nA * meanA * meanA);
        double variance = varianceTreatment + varianceControl;
        double unadjusted = LiftVariance(meanA, varYA, nA, meanB, treatment.Metric.Variance, nB);

        double df = WelchDegreesOfFreedom(adjVarA, nA, adjVarB, nB);
        double se = Math.Sqrt((adjVarA / nA) + (adjVarB / nB));
        double t = se == 0 ? 0 : diff / se;
        double critical = SpecialFunctions.StudentTQuantile(1 - ((1 - settings.ConfidenceLevel) / 2), df);
        (double _, ConfidenceInterval liftInterval, double liftP, ConfidenceInterval sequential, double sequentialP) =
            LiftStatistics(lift, variance, df, nA + nB, settings);
        double pooledCovariateMean = pooled.Covariate.Mean;
        return new MeanTestResult
        {
            Control = control.Metric,
            Treatment = treatment.Metric,
            ConfidenceLevel = settings.ConfidenceLevel,
            Difference = diff,
            DifferenceInterval = new ConfidenceInterval(diff - (critical * se), diff + (critical * se)),
            T = t,
            DegreesOfFreedom = df,
            PValue = se == 0 ? 1 : SpecialFunctions.StudentTTwoSided(t, df),
            RelativeLift = lift,
            RelativeLiftInterval = liftInterval,
            RelativeLiftPValue = liftP,
            SequentialRelativeLiftInterval = sequential,
            SequentialPValue = sequentialP,
            Bayesian = NormalPosterior(lift, variance, settings),
            Cuped = new CupedAdjustment(
                theta,
                meanA - (theta * (control.Covariate.Mean - pooledCovariateMean)),
                meanB - (theta * (treatment.Covariate.Mean - pooledCovariateMean)),
                unadjusted > 0 ? 1 - (variance / unadjusted) : 0),
        };
    }

    private static void CheckCovariate(CovariateSample sample, string name)
    {
        if (!double.IsFinite(sample.CovariateSum) || !double.IsFinite(sample.CovariateSumOfSquares) || !double.IsFinite(sample.SumOfProducts))
        {
            throw new ArgumentException(
                $"'{name}' must have finite covariate sums, not {sample.CovariateSum}, {sample.CovariateSumOfSquares} and {sample.SumOfProducts}.", name);
        }
    }
}
