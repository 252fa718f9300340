namespace Funnel.Analytics.Experiments;

/// <summary>Conversions out of visitors in one variant of an experiment.</summary>
/// <param name="Conversions">The visitors who converted.</param>
/// <param name="Visitors">The visitors exposed to the variant.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ConversionSample(long Conversions, long Visitors)
{
    /// <summary>Gets the conversion rate, conversions ÷ visitors.</summary>
    /// <value><see cref="double.NaN"/> when there are no visitors.</value>
    public double Rate => Visitors == 0 ? double.NaN : (double)Conversions / Visitors;
}

/// <summary>A numeric metric per visitor (such as revenue per visitor) summarised as count, sum and sum of squares.</summary>
/// <param name="Count">The number of visitors.</param>
/// <param name="Sum">The sum of the values.</param>
/// <param name="SumOfSquares">The sum of the squared values.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record MeanSample(long Count, double Sum, double SumOfSquares)
{
    /// <summary>Gets the mean.</summary>
    public double Mean => Sum / Count;

    /// <summary>Gets the sample variance (with Bessel's correction, n − 1).</summary>
    public double Variance => (SumOfSquares - (Sum * Sum / Count)) / (Count - 1);

    /// <summary>Summarises values, one per visitor (zero for visitors who spent nothing).</summary>
    /// <param name="values">The values.</param>
    /// <returns>The summary.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A value is NaN or infinite.</exception>
    public static MeanSample FromValues(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        long n = 0;
        double sum = 0;
        double squares = 0;
        foreach (double v in values)
        {
            if (!double.IsFinite(v))
            {
                throw new ArgumentException($"Value {n} is {v}; every value must be a finite number.", nameof(values));
            }

            n++;
            sum += v;
            squares += v * v;
        }

        return new MeanSample(n, sum, squares);
    }

    /// <summary>Summarises amounts per visitor in major units (statistics are approximate; amounts stay exact elsewhere).</summary>
    /// <param name="amounts">The amounts, one per visitor.</param>
    /// <returns>The summary.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="amounts"/> is <see langword="null"/>.</exception>
    public static MeanSample FromAmounts(IEnumerable<Money> amounts)
    {
        ArgumentNullException.ThrowIfNull(amounts);
        return FromValues(amounts.Select(a => (double)a.ToMajor()));
    }
}

/// <summary>A two-sided interval.</summary>
/// <param name="Lower">The lower bound.</param>
/// <param name="Upper">The upper bound.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ConfidenceInterval(double Lower, double Upper)
{
    /// <summary>Tells whether the interval contains a value.</summary>
    /// <param name="value">The value.</param>
    /// <returns><see langword="true"/> when <paramref name="value"/> is within the bounds.</returns>
    public bool Contains(double value) => value >= Lower && value <= Upper;

    /// <summary>Gets the width of the interval.</summary>
    public double Width => Upper - Lower;
}

/// <summary>Settings of the experiment statistics.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ExperimentStatisticsSettings
{
    /// <summary>Gets the default settings: 95 % confidence, sequential tuning 5,000.</summary>
    public static ExperimentStatisticsSettings Default { get; } = new();

    private readonly double _confidenceLevel = 0.95;
    private readonly double _sequentialTuningParameter = 5000;

    /// <summary>Gets the confidence level of the intervals; significance is p &lt; 1 − level.</summary>
    /// <value>Defaults to 0.95.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not strictly between 0 and 1 (or is NaN).</exception>
    public double ConfidenceLevel
    {
        get => _confidenceLevel;
        init => _confidenceLevel = StatisticsGuard.Probability(value, nameof(ConfidenceLevel), "The confidence level");
    }

    /// <summary>Gets the tuning parameter N of the sequential confidence sequences: the total sample size at which they are tightest.</summary>
    /// <value>Defaults to 5,000 (GrowthBook's default).</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive and finite.</exception>
    public double SequentialTuningParameter
    {
        get => _sequentialTuningParameter;
        init => _sequentialTuningParameter = StatisticsGuard.PositiveFinite(value, nameof(SequentialTuningParameter), "The sequential tuning parameter");
    }

    /// <summary>Gets the prior of the Bayesian results on the relative lift (GrowthBook's normal approximation).</summary>
    /// <value>Defaults to <see cref="BayesianPrior.Default"/>: flat (improper), as GrowthBook's default.</value>
    public BayesianPrior Prior { get; init; } = BayesianPrior.Default;

    /// <summary>Gets the correction for several metrics or variants that <see cref="ExperimentStatistics.Verdicts"/> applies.</summary>
    /// <value>Defaults to <see cref="MultipleTestingCorrection.None"/>.</value>
    public MultipleTestingCorrection Correction { get; init; }
}

/// <summary>The comparison of two conversion rates: frequentist, Bayesian and sequential statistics.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ConversionTestResult
{
    /// <summary>Gets the control's data.</summary>
    public required ConversionSample Control { get; init; }

    /// <summary>Gets the treatment's data.</summary>
    public required ConversionSample Treatment { get; init; }

    /// <summary>Gets the confidence level used.</summary>
    public required double ConfidenceLevel { get; init; }

    /// <summary>Gets the Wilson score interval of the control's rate.</summary>
    public required ConfidenceInterval ControlInterval { get; init; }

    /// <summary>Gets the Wilson score interval of the treatment's rate.</summary>
    public required ConfidenceInterval TreatmentInterval { get; init; }

    /// <summary>Gets treatment rate − control rate.</summary>
    public required double AbsoluteDifference { get; init; }

    /// <summary>Gets the z statistic of the pooled two-proportion z-test (positive when the treatment converts better).</summary>
    public required double Z { get; init; }

    /// <summary>Gets the two-sided p-value of the two-proportion z-test.</summary>
    public required double PValue { get; init; }

    /// <summary>Gets the relative lift, (treatment − control) ÷ control.</summary>
    public required double RelativeLift { get; init; }

    /// <summary>Gets the interval of the relative lift (delta method, Welch–Satterthwaite t, as GrowthBook's frequentist engine).</summary>
    public required ConfidenceInterval RelativeLiftInterval { get; init; }

    /// <summary>Gets the two-sided p-value of the relative lift (GrowthBook's frequentist engine).</summary>
    public required double RelativeLiftPValue { get; init; }

    /// <summary>Gets the always-valid interval of the relative lift, safe to look at any time (the peeking guard).</summary>
    public required ConfidenceInterval SequentialRelativeLiftInterval { get; init; }

    /// <summary>Gets the always-valid p-value of the relative lift, safe to look at any time.</summary>
    public required double SequentialPValue { get; init; }

    /// <summary>Gets the exact posterior probability that the treatment's rate beats the control's (Beta(1, 1) priors).</summary>
    public required double ChanceToBeatControl { get; init; }

    /// <summary>Gets the Bayesian result of GrowthBook's engine: a normal posterior on the relative lift, its credible interval and risks.</summary>
    /// <value><see langword="null"/> only on results built by hand.</value>
    public BayesianLiftResult? Bayesian { get; init; }

    /// <summary>Gets the exact Bayesian result for Beta(1, 1) priors: credible interval of the relative lift and risks, by quadrature.</summary>
    /// <value><see langword="null"/> only on results built by hand.</value>
    public BayesianLiftResult? BetaBinomial { get; init; }

    /// <summary>Gets whether the fixed-horizon z-test is significant at the confidence level (valid only at the planned sample size).</summary>
    public bool IsSignificant => PValue < 1 - ConfidenceLevel;

    /// <summary>Gets whether the sequential test is significant: a verdict that stays valid however often the results were looked at.</summary>
    public bool IsSequentiallySignificant => SequentialPValue < 1 - ConfidenceLevel;
}

/// <summary>The comparison of a per-visitor metric, such as revenue per visitor, with Welch's t-test.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record MeanTestResult
{
    /// <summary>Gets the control's data.</summary>
    public required MeanSample Control { get; init; }

    /// <summary>Gets the treatment's data.</summary>
    public required MeanSample Treatment { get; init; }

    /// <summary>Gets the confidence level used.</summary>
    public required double ConfidenceLevel { get; init; }

    /// <summary>Gets treatment mean − control mean.</summary>
    public required double Difference { get; init; }

    /// <summary>Gets the Welch interval of the difference.</summary>
    public required ConfidenceInterval DifferenceInterval { get; init; }

    /// <summary>Gets Welch's t statistic.</summary>
    public required double T { get; init; }

    /// <summary>Gets the Welch–Satterthwaite degrees of freedom.</summary>
    public required double DegreesOfFreedom { get; init; }

    /// <summary>Gets the two-sided p-value of Welch's t-test.</summary>
    public required double PValue { get; init; }

    /// <summary>Gets the relative lift, (treatment − control) ÷ control.</summary>
    public required double RelativeLift { get; init; }

    /// <summary>Gets the interval of the relative lift (delta method, as GrowthBook's frequentist engine).</summary>
    public required ConfidenceInterval RelativeLiftInterval { get; init; }

    /// <summary>Gets the two-sided p-value of the relative lift.</summary>
    public required double RelativeLiftPValue { get; init; }

    /// <summary>Gets the always-valid interval of the relative lift (the peeking guard).</summary>
    public required ConfidenceInterval SequentialRelativeLiftInterval { get; init; }

    /// <summary>Gets the always-valid p-value of the relative lift.</summary>
    public required double SequentialPValue { get; init; }

    /// <summary>Gets the Bayesian result of GrowthBook's engine: a normal posterior on the relative lift, its credible interval and risks.</summary>
    /// <value><see langword="null"/> only on results built by hand.</value>
    public BayesianLiftResult? Bayesian { get; init; }

    /// <summary>Gets the CUPED adjustment, when the comparison used a pre-period covariate.</summary>
    /// <value><see langword="null"/> for an unadjusted comparison.</value>
    public CupedAdjustment? Cuped { get; init; }

    /// <summary>Gets whether Welch's test is significant at the confidence level.</summary>
    public bool IsSignificant => PValue < 1 - ConfidenceLevel;
}

/// <summary>The result of a sample-ratio-mismatch check.</summary>
/// <param name="ChiSquare">Pearson's chi-square statistic.</param>
/// <param name="DegreesOfFreedom">The number of variants − 1.</param>
/// <param name="PValue">The p-value of the goodness-of-fit test.</param>
/// <param name="IsMismatch">Whether <paramref name="PValue"/> is below the threshold (0.001 by default, as GrowthBook).</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SampleRatioCheck(double ChiSquare, int DegreesOfFreedom, double PValue, bool IsMismatch);

/// <summary>The statistics of A/B tests: proportions, means, Bayesian chance to beat control, sample size and power, SRM and sequential testing.</summary>
/// <remarks>
/// <para>Formulas, and the published values the tests check them against:</para>
/// <list type="bullet">
/// <item><description>Two-proportion z-test with the pooled rate; Wilson score intervals.</description></item>
/// <item><description>Relative lift with the delta-method variance and Welch–Satterthwaite t, as GrowthBook's gbstats
/// frequentist engine (<c>TwoSidedTTest</c>); Welch's t-test for per-visitor metrics such as revenue.</description></item>
/// <item><description>Peeking guard: GrowthBook's sequential testing, the asymptotic confidence sequences of Howard et al.
/// and Waudby-Smith et al. (2023, eq. 9), with tuning parameter N
/// (<see cref="ExperimentStatisticsSettings.SequentialTuningParameter"/>), and the matching always-valid p-value
/// (1 ÷ e-value, capped at 1). These intervals are wider than fixed-horizon ones and stay valid however often you look.</description></item>
/// <item><description>Bayesian chance to beat control: the exact P(p<sub>B</sub> &gt; p<sub>A</sub>) for Beta posteriors
/// (Evan Miller, "Formulas for Bayesian A/B Testing", 2015).</description></item>
/// <item><description>Sample size per variant: Evan Miller's calculator formula; power is its inverse.</description></item>
/// <item><description>Sample-ratio mismatch: Pearson's chi-square goodness-of-fit against the configured weights.</description></item>
/// </list>
/// </remarks>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static partial class ExperimentStatistics
{
    /// <summary>Compares two conversion rates.</summary>
    /// <param name="control">The control (variant A).</param>
    /// <param name="treatment">The treatment (variant B).</param>
    /// <param name="settings">The confidence level and sequential tuning; defaults to <see cref="ExperimentStatisticsSettings.Default"/>.</param>
    /// <returns>The statistics.</returns>
    /// <exception cref="ArgumentNullException">A sample is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A sample has no visitors, or more conversions than visitors, or the control never converts.</exception>
    public static ConversionTestResult CompareConversions(ConversionSample control, ConversionSample treatment, ExperimentStatisticsSettings? settings = null)
    {
        Check(control, nameof(control));
        Check(treatment, nameof(treatment));
        if (control.Conversions == 0)
        {
            throw new ArgumentException("The control has no conversions, so a relative lift is not defined.", nameof(control));
        }

        settings ??= ExperimentStatisticsSettings.Default;
        double level = settings.ConfidenceLevel;
        double pa = control.Rate;
        double pb = treatment.Rate;
        double na = control.Visitors;
        double nb = treatment.Visitors;
        double pooled = (control.Conversions + treatment.Conversions) / (na + nb);
        double pooledSe = Math.Sqrt(pooled * (1 - pooled) * ((1 / na) + (1 / nb)));
        double z = pooledSe == 0 ? 0 : (pb - pa) / pooledSe;
        double p = 2 * SpecialFunctions.NormalUpperTail(Math.Abs(z));

        (double lift, ConfidenceInterval liftInterval, double liftP, ConfidenceInterval sequential, double sequentialP) =
            Relative(pa, pa * (1 - pa), na, pb, pb * (1 - pb), nb, settings);
        return new ConversionTestResult
        {
            Control = control,
            Treatment = treatment,
            ConfidenceLevel = level,
            ControlInterval = WilsonInterval(control.Conversions, control.Visitors, level),
            TreatmentInterval = WilsonInterval(treatment.Conversions, treatment.Visitors, level),
            AbsoluteDifference = pb - pa,
            Z = z,
            PValue = Math.Min(1, p),
            RelativeLift = lift,
            RelativeLiftInterval = liftInterval,
            RelativeLiftPValue = liftP,
            SequentialRelativeLiftInterval = sequential,
            SequentialPValue = sequentialP,
            ChanceToBeatControl = ChanceToBeatControl(control, treatment),
            Bayesian = NormalPosterior(lift, LiftVariance(pa, pa * (1 - pa), na, pb, pb * (1 - pb), nb), settings),
            BetaBinomial = BetaPosterior(control, treatment, level),
        };
    }

    /// <summary>Compares a per-visitor metric, such as revenue per visitor, with Welch's t-test.</summary>
    /// <param name="control">The control's summary.</param>
    /// <param name="treatment">The treatment's summary.</param>
    /// <param name="settings">The confidence level and sequential tuning; defaults to <see cref="ExperimentStatisticsSettings.Default"/>.</param>
    /// <returns>The statistics.</returns>
    /// <exception cref="ArgumentNullException">A sample is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">
    /// A sample has fewer than 2 values, a sum or sum of squares that is NaN or infinite, or no finite positive variance, or the
    /// control's mean is 0; the exception names <paramref name="control"/> or <paramref name="treatment"/>.
    /// </exception>
    public static MeanTestResult CompareMeans(MeanSample control, MeanSample treatment, ExperimentStatisticsSettings? settings = null)
    {
        Check(control, nameof(control));
        Check(treatment, nameof(treatment));
        if (control.Mean == 0)
        {
            throw new ArgumentException("The control's mean is 0, so a relative lift is not defined.", nameof(control));
        }

        settings ??= ExperimentStatisticsSettings.Default;
        double level = settings.ConfidenceLevel;
        double va = control.Variance / control.Count;
        double vb = treatment.Variance / treatment.Count;
        double se = Math.Sqrt(va + vb);
        double df = WelchDegreesOfFreedom(control.Variance, control.Count, treatment.Variance, treatment.Count);
        double diff = treatment.Mean - control.Mean;
        double t = diff / se;
        double critical = SpecialFunctions.StudentTQuantile(1 - ((1 - level) / 2), df);
        (double lift, ConfidenceInterval liftInterval, double liftP, ConfidenceInterval sequential, double sequentialP) =
            Relative(control.Mean, control.Variance, control.Count, treatment.Mean, treatment.Variance, treatment.Count, settings);
        return new MeanTestResult
        {
            Control = control,
            Treatment = treatment,
            ConfidenceLevel = level,
            Difference = diff,
            DifferenceInterval = new ConfidenceInterval(diff - (critical * se), diff + (critical * se)),
            T = t,
            DegreesOfFreedom = df,
            PValue = SpecialFunctions.StudentTTwoSided(t, df),
            RelativeLift = lift,
            RelativeLiftInterval = liftInterval,
            RelativeLiftPValue = liftP,
            SequentialRelativeLiftInterval = sequential,
            SequentialPValue = sequentialP,
            Bayesian = NormalPosterior(lift, LiftVariance(control.Mean, control.Variance, control.Count, treatment.Mean, treatment.Variance, treatment.Count), settings),
        };
    }

    /// <summary>Returns the Wilson score interval of a proportion.</summary>
    /// <param name="successes">The successes.</param>
    /// <param name="trials">The trials; at least 1.</param>
    /// <param name="confidenceLevel">The confidence level, such as 0.95.</param>
    /// <returns>The interval, within [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="trials"/> is not positive, <paramref name="successes"/> is negative or above
    /// <paramref name="trials"/>, or <paramref name="confidenceLevel"/> is not strictly between 0 and 1.
    /// </exception>
    public static ConfidenceInterval WilsonInterval(long successes, long trials, double confidenceLevel = 0.95)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trials);
        ArgumentOutOfRangeException.ThrowIfNegative(successes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(successes, trials);
        StatisticsGuard.Probability(confidenceLevel, nameof(confidenceLevel), "The confidence level");
        double z = SpecialFunctions.NormalQuantile(1 - ((1 - confidenceLevel) / 2));
        double n = trials;
        double p = successes / n;
        double z2 = z * z;
        double denominator = 1 + (z2 / n);
        double center = (p + (z2 / (2 * n))) / denominator;
        double half = z / denominator * Math.Sqrt((p * (1 - p) / n) + (z2 / (4 * n * n)));
        return new ConfidenceInterval(Math.Max(0, center - half), Math.Min(1, center + half));
    }

    /// <summary>Returns the exact probability that the treatment's conversion rate beats the control's, with Beta(1, 1) priors.</summary>
    /// <param name="control">The control.</param>
    /// <param name="treatment">The treatment.</param>
    /// <returns>P(p<sub>B</sub> &gt; p<sub>A</sub>) for the posteriors Beta(1 + conversions, 1 + non-conversions).</returns>
    /// <remarks>
    /// Evan Miller's closed form: Σ<sub>i=0</sub><sup>α<sub>B</sub>−1</sup> B(α<sub>A</sub>+i, β<sub>A</sub>+β<sub>B</sub>) ÷ ((β<sub>B</sub>+i) B(1+i, β<sub>B</sub>) B(α<sub>A</sub>, β<sub>A</sub>)),
    /// summed in log space over the sample with fewer conversions (P(B &gt; A) = 1 − P(A &gt; B)). When both samples
    /// have a million conversions or more, the normal approximation of the two Beta posteriors, so that no count makes
    /// the call run for minutes.
    /// </remarks>
    /// <exception cref="ArgumentNullException">A sample is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A sample has more conversions than visitors or negative counts.</exception>
    public static double ChanceToBeatControl(ConversionSample control, ConversionSample treatment)
    {
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(treatment);
        CheckCounts(control, nameof(control));
        CheckCounts(treatment, nameof(treatment));

        // The closed form sums one term per treatment conversion. P(B > A) = 1 − P(A > B) for continuous posteriors,
        // so sum over the side with fewer conversions; past a million terms (where both posteriors are normal to
        // many digits) use the normal approximation, so no count can make the call run for minutes.
        if (Math.Min(control.Conversions, treatment.Conversions) >= MaxExactTerms)
        {
            return NormalChance(control, treatment);
        }

        return treatment.Conversions <= control.Conversions
            ? ExactChance(control, treatment)
            : 1 - ExactChance(treatment, control);
    }

    /// <summary>The most terms <see cref="ChanceToBeatControl"/> sums before it uses the normal approximation.</summary>
    private const long MaxExactTerms = 1_000_000;

    private static double ExactChance(ConversionSample control, ConversionSample treatment)
    {
        double alphaA = 1 + control.Conversions;
        double betaA = 1 + control.Visitors - control.Conversions;
        long alphaB = 1 + treatment.Conversions;
        double betaB = 1 + treatment.Visitors - treatment.Conversions;
        double logBetaA = SpecialFunctions.LogBeta(alphaA, betaA);
        double total = 0;
        for (long i = 0; i < alphaB; i++)
        {
            total += Math.Exp(SpecialFunctions.LogBeta(alphaA + i, betaA + betaB) - Math.Log(betaB + i) - SpecialFunctions.LogBeta(1 + i, betaB) - logBetaA);
        }

        return Math.Clamp(total, 0, 1);
    }

    private static double NormalChance(ConversionSample control, ConversionSample treatment)
    {
        static (double Mean, double Variance) Posterior(ConversionSample s)
        {
            double a = 1 + (double)s.Conversions;
            double b = 1 + (double)s.Visitors - s.Conversions;
            return (a / (a + b), a * b / ((a + b) * (a + b) * (a + b + 1)));
        }

        (double meanA, double varA) = Posterior(control);
        (double meanB, double varB) = Posterior(treatment);
        return Math.Clamp(SpecialFunctions.NormalCdf((meanB - meanA) / Math.Sqrt(varA + varB)), 0, 1);
    }

    /// <summary>Returns the visitors needed per variant to detect an absolute change in a conversion rate (Evan Miller's calculator).</summary>
    /// <param name="baselineRate">The control's conversion rate, such as 0.20.</param>
    /// <param name="minimumDetectableEffect">The absolute change to detect, such as 0.05 (20 % → 25 %); for a relative effect pass <c>baselineRate × relative</c>.</param>
    /// <param name="significance">The two-sided significance level α.</param>
    /// <param name="power">The power 1 − β.</param>
    /// <returns>The sample size per variant, unrounded; Evan Miller's calculator shows it rounded to the nearest whole number.</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="baselineRate"/>, <paramref name="significance"/> or <paramref name="power"/> is not strictly
    /// between 0 and 1, or <paramref name="minimumDetectableEffect"/> is 0 or takes the rate outside (0, 1); the exception
    /// names the argument.
    /// </exception>
    public static double SampleSizePerVariant(double baselineRate, double minimumDetectableEffect, double significance = 0.05, double power = 0.8)
    {
        CheckRates(baselineRate, minimumDetectableEffect, significance);
        StatisticsGuard.Probability(power, nameof(power), "The power");
        double zAlpha = SpecialFunctions.NormalQuantile(1 - (significance / 2));
        double zBeta = SpecialFunctions.NormalQuantile(power);
        (double sd1, double sd2) = Deviations(baselineRate, minimumDetectableEffect);
        double root = (zAlpha * sd1) + (zBeta * sd2);
        return root * root / (minimumDetectableEffect * minimumDetectableEffect);
    }

    /// <summary>Returns the power to detect an absolute change in a conversion rate with a given sample size per variant.</summary>
    /// <param name="baselineRate">The control's conversion rate.</param>
    /// <param name="minimumDetectableEffect">The absolute change to detect.</param>
    /// <param name="visitorsPerVariant">The sample size per variant.</param>
    /// <param name="significance">The two-sided significance level α.</param>
    /// <returns>The power, the inverse of <see cref="SampleSizePerVariant"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="baselineRate"/> or <paramref name="significance"/> is not strictly between 0 and 1,
    /// <paramref name="minimumDetectableEffect"/> is 0 or takes the rate outside (0, 1), or
    /// <paramref name="visitorsPerVariant"/> is not positive and finite; the exception names the argument.
    /// </exception>
    public static double Power(double baselineRate, double minimumDetectableEffect, double visitorsPerVariant, double significance = 0.05)
    {
        CheckRates(baselineRate, minimumDetectableEffect, significance);
        StatisticsGuard.PositiveFinite(visitorsPerVariant, nameof(visitorsPerVariant), "The visitors per variant");
        double zAlpha = SpecialFunctions.NormalQuantile(1 - (significance / 2));
        (double sd1, double sd2) = Deviations(baselineRate, minimumDetectableEffect);
        double zBeta = ((Math.Abs(minimumDetectableEffect) * Math.Sqrt(visitorsPerVariant)) - (zAlpha * sd1)) / sd2;
        return SpecialFunctions.NormalCdf(zBeta);
    }

    /// <summary>Checks whether the visitors per variant match the configured weights (sample-ratio mismatch).</summary>
    /// <param name="observed">The visitors per variant.</param>
    /// <param name="weights">The configured weights, in the same order.</param>
    /// <param name="threshold">The p-value below which a mismatch is reported; defaults to 0.001.</param>
    /// <returns>The chi-square test.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="observed"/> or <paramref name="weights"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="observed"/> has fewer than 2 entries, a negative count or no visitor at all, or
    /// <paramref name="weights"/> differs from it in length or has a weight that is not positive and finite; the
    /// exception names the list at fault.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is not strictly between 0 and 1.</exception>
    public static SampleRatioCheck SampleRatioMismatch(IReadOnlyList<long> observed, IReadOnlyList<double> weights, double threshold = 0.001)
    {
        ArgumentNullException.ThrowIfNull(observed);
        ArgumentNullException.ThrowIfNull(weights);
        StatisticsGuard.Probability(threshold, nameof(threshold), "The threshold");
        if (observed.Count < 2)
        {
            throw new ArgumentException("'observed' must list at least 2 variants.", nameof(observed));
        }

        if (weights.Count != observed.Count)
        {
            throw new ArgumentException($"'weights' must have one weight per observed variant ({observed.Count}), not {weights.Count}.", nameof(weights));
        }

        for (int i = 0; i < observed.Count; i++)
        {
            if (observed[i] < 0)
            {
                throw new ArgumentException($"'observed[{i}]' must not be negative, not {observed[i]}.", nameof(observed));
            }

            if (!(weights[i] > 0) || double.IsPositiveInfinity(weights[i]))
            {
                throw new ArgumentException($"'weights[{i}]' must be positive and finite, not {weights[i]}.", nameof(weights));
            }
        }

        // Summed as doubles: counts near long.MaxValue must not overflow the checked sum.
        double total = observed.Sum(o => (double)o);
        if (total <= 0)
        {
            throw new ArgumentException("At least one visitor must have been observed.", nameof(observed));
        }

        double weightSum = weights.Sum();
        double chi = 0;
        for (int i = 0; i < observed.Count; i++)
        {
            double expected = total * weights[i] / weightSum;
            double d = observed[i] - expected;
            chi += d * d / expected;
        }

        int df = observed.Count - 1;
        double p = SpecialFunctions.GammaQ(df / 2.0, chi / 2);
        return new SampleRatioCheck(chi, df, p, p < threshold);
    }

    /// <summary>Returns the standard normal cumulative distribution Φ(z).</summary>
    /// <param name="z">The value; ±∞ are allowed (Φ is 0 and 1 there).</param>
    /// <returns>Φ(z).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="z"/> is NaN.</exception>
    public static double NormalCdf(double z)
    {
        if (double.IsNaN(z))
        {
            throw new ArgumentOutOfRangeException(nameof(z), z, "The value must be a number, not NaN.");
        }

        return SpecialFunctions.NormalCdf(z);
    }

    /// <summary>Returns the standard normal quantile Φ⁻¹(p) (Wichura's AS 241).</summary>
    /// <param name="p">The probability, in [0, 1].</param>
    /// <returns>The quantile; −∞ at 0 and +∞ at 1.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is below 0, above 1 or NaN.</exception>
    public static double NormalQuantile(double p)
    {
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "The probability must be between 0 and 1.");
        }

        return SpecialFunctions.NormalQuantile(p);
    }

    /// <summary>Returns the quantile of Student's t distribution.</summary>
    /// <param name="p">The probability, in (0, 1).</param>
    /// <param name="degreesOfFreedom">The degrees of freedom, positive and finite (for infinitely many, use <see cref="NormalQuantile"/>).</param>
    /// <returns>The quantile.</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="p"/> is not strictly between 0 and 1, or <paramref name="degreesOfFreedom"/> is not positive and finite.
    /// </exception>
    public static double StudentTQuantile(double p, double degreesOfFreedom)
    {
        StatisticsGuard.Probability(p, nameof(p), "The probability");
        StatisticsGuard.PositiveFinite(degreesOfFreedom, nameof(degreesOfFreedom), "The degrees of freedom");

        return SpecialFunctions.StudentTQuantile(p, degreesOfFreedom);
    }

    private static (double Lift, ConfidenceInterval Interval, double PValue, ConfidenceInterval Sequential, double SequentialP) Relative(
        double meanA, double varA, double nA, double meanB, double varB, double nB, ExperimentStatisticsSettings settings)
    {
        double lift = (meanB - meanA) / meanA;
        return LiftStatistics(lift, LiftVariance(meanA, varA, nA, meanB, varB, nB), WelchDegreesOfFreedom(varA, nA, varB, nB), nA + nB, settings);
    }

    // Delta method for the variance of meanB / meanA (no covariance between independent groups).
    private static double LiftVariance(double meanA, double varA, double nA, double meanB, double varB, double nB) =>
        (varB / nB / (meanA * meanA)) + (varA / nA * meanB * meanB / (meanA * meanA * meanA * meanA));

    private static (double Lift, ConfidenceInterval Interval, double PValue, ConfidenceInterval Sequential, double SequentialP) LiftStatistics(
        double lift, double variance, double df, double n, ExperimentStatisticsSettings settings)
    {
        double level = settings.ConfidenceLevel;
        double alpha = 1 - level;
        double se = Math.Sqrt(variance);
        double critical = SpecialFunctions.StudentTQuantile(1 - (alpha / 2), df);
        double p = se == 0 ? 1 : SpecialFunctions.StudentTTwoSided(lift / se, df);

        // Asymptotic confidence sequence (Waudby-Smith et al. 2023, eq. 9), as GrowthBook's sequential testing.
        double logAlpha = Math.Log(alpha);
        double rhoSquared = ((-2 * logAlpha) + Math.Log((-2 * logAlpha) + 1)) / settings.SequentialTuningParameter;
        double nRho = (n * rhoSquared) + 1;
        double s2 = variance * n;
        double half = Math.Sqrt(s2) * Math.Sqrt(2 * nRho * Math.Log(Math.Sqrt(nRho) / alpha) / (n * n * rhoSquared));
        double tSquared = variance == 0 ? 0 : lift * lift * n / variance;
        double logE = (rhoSquared * tSquared / (2 * nRho)) - (0.5 * Math.Log(nRho));
        double sequentialP = logE <= 0 ? 1 : Math.Min(1, Math.Exp(-logE));
        return (lift, new ConfidenceInterval(lift - (critical * se), lift + (critical * se)), p,
            new ConfidenceInterval(lift - half, lift + half), sequentialP);
    }

    private static double WelchDegreesOfFreedom(double varA, double nA, double varB, double nB)
    {
        double a = varA / nA;
        double b = varB / nB;
        return (a + b) * (a + b) / ((a * a / (nA - 1)) + (b * b / (nB - 1)));
    }

    private static (double Sd1, double Sd2) Deviations(double p, double delta) =>
        (Math.Sqrt(2 * p * (1 - p)), Math.Sqrt((p * (1 - p)) + ((p + delta) * (1 - p - delta))));

    private static void Check(ConversionSample sample, string name)
    {
        ArgumentNullException.ThrowIfNull(sample, name);
        CheckCounts(sample, name);
        if (sample.Visitors == 0)
        {
            throw new ArgumentException($"'{name}' has no visitors.", name);
        }
    }

    private static void CheckCounts(ConversionSample sample, string name)
    {
        if (sample.Visitors < 0 || sample.Conversions < 0 || sample.Conversions > sample.Visitors)
        {
            throw new ArgumentException($"'{name}' must have 0 ≤ Conversions ≤ Visitors, not {sample.Conversions} of {sample.Visitors}.", name);
        }
    }

    private static void Check(MeanSample sample, string name)
    {
        ArgumentNullException.ThrowIfNull(sample, name);
        if (!double.IsFinite(sample.Sum) || !double.IsFinite(sample.SumOfSquares))
        {
            throw new ArgumentException($"'{name}' must have a finite sum and sum of squares, not {sample.Sum} and {sample.SumOfSquares}.", name);
        }

        if (sample.Count < 2 || !(sample.Variance > 0) || !double.IsFinite(sample.Variance))
        {
            throw new ArgumentException($"'{name}' needs at least 2 values with a positive, finite variance.", name);
        }
    }

    private static void CheckRates(double baselineRate, double minimumDetectableEffect, double significance)
    {
        StatisticsGuard.Probability(baselineRate, nameof(baselineRate), "The baseline rate");
        if (!(minimumDetectableEffect != 0 && baselineRate + minimumDetectableEffect > 0 && baselineRate + minimumDetectableEffect < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(minimumDetectableEffect), minimumDetectableEffect, "The effect must be non-zero and keep the rate between 0 and 1.");
        }

        StatisticsGuard.Probability(significance, nameof(significance), "The significance");
    }
}
